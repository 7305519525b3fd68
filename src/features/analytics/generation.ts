import { eq, sql } from 'drizzle-orm'
import { columnList, type Db, type Executor, prepared } from '../../db/client.js'
import {
  ANALYTICS_GENERATION_SHARDS,
  analyticsGenerations,
  listCounts,
  organizations,
} from '../../db/schema.js'

/**
 * The analytics generation of an organization: the sum of its shards in `analytics_generations` and of its deals
 * list's write counter (`list_counts.writes` of 'deals'). Every deal write adds 1 to the counter inside its own
 * transaction (the deals triggers: migrations 0005 and 0009), and every pipeline change that moves analytics
 * adds 1 to an `analytics_generations` shard, so the generation a reader sees moves exactly with the deals it sees:
 * a crash cannot leave a committed change under an old key, and a rolled-back one changes nothing. Snapshots see
 * committed transactions as a growing chain, so equal sums mean the same set of writes.
 * A random shard per bump keeps parallel writers of one organization off a single row lock held to commit.
 */
function randomShard(): number {
  return Math.floor(Math.random() * ANALYTICS_GENERATION_SHARDS)
}

/** Moves the generation of `organizationId` on (for changes other than deal writes, which count themselves). */
export async function bumpGeneration(tx: Executor, organizationId: string): Promise<void> {
  const { organizationId: org, shard, generation } = analyticsGenerations
  await tx.execute(sql`INSERT INTO ${analyticsGenerations} ${columnList(org, shard, generation)}
    VALUES (${organizationId}::uuid, ${randomShard()}::smallint, 1)
    ON CONFLICT ${columnList(org, shard)} DO UPDATE SET ${sql.identifier(generation.name)} = ${generation} + 1`)
}

export interface AnalyticsState {
  /** The organization's analytics generation (see above): the cache key's version. */
  generation: string
  /** Its `default_currency`: the summary's and forecast's currency when the request names none. */
  defaultCurrency: string
}

/**
 * What an analytics read needs before it can use the cache, in one round trip: two index range scans of at most
 * 16 rows each and the organization's primary key, as a named prepared statement.
 */
export async function readAnalyticsState(db: Db, organizationId: string): Promise<AnalyticsState> {
  const statement = prepared(db, 'analytics_state', (database) =>
    database
      .select({
        generation: sql<string>`(coalesce(sum(${analyticsGenerations.generation}), 0) + (SELECT coalesce(sum(${listCounts.writes}), 0)
          FROM ${listCounts} WHERE ${listCounts.organizationId} = ${sql.placeholder('organizationId')}
          AND ${listCounts.list} = 'deals'))::text`,
        defaultCurrency: sql<string | null>`(SELECT ${organizations.defaultCurrency} FROM ${organizations}
          WHERE ${organizations.id} = ${sql.placeholder('organizationId')})`,
      })
      .from(analyticsGenerations)
      .where(eq(analyticsGenerations.organizationId, sql.placeholder('organizationId')))
      .prepare('analytics_state'),
  )
  const [row] = await statement.execute({ organizationId })
  return { generation: row?.generation ?? '0', defaultCurrency: row?.defaultCurrency ?? 'USD' }
}
