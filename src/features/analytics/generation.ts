import { eq, type Placeholder, type SQL, sql } from 'drizzle-orm'
import { columnList, type Db, type Executor, prepared } from '../../db/client.js'
import { ANALYTICS_GENERATION_SHARDS, analyticsGenerations, organizations } from '../../db/schema.js'

/**
 * The analytics generation of an organization: the sum of its shards in `analytics_generations`. Every deal
 * write adds 1 to one shard inside its own transaction, so the generation a reader sees moves exactly with the
 * deals it sees: a crash cannot leave a committed change under an old key, and a rolled-back one changes nothing.
 * Snapshots see committed transactions as a growing chain, so equal sums mean the same set of deal writes.
 * A random shard per write keeps parallel writers of one organization off a single row lock held to commit.
 */
export function randomShard(): number {
  return Math.floor(Math.random() * ANALYTICS_GENERATION_SHARDS)
}

/**
 * The statement that bumps the generation of `organizationId`: a value, or a column of `from` (a CTE of the
 * caller's statement; an empty one bumps nothing). `shardValue` is a random shard unless given (a fixed statement
 * passes a placeholder filled with `randomShard()`).
 */
export function bumpGenerationSql(
  organizationId: SQL,
  from?: SQL,
  shardValue: SQL | Placeholder = sql`${randomShard()}`,
): SQL {
  const { organizationId: org, shard, generation } = analyticsGenerations
  // Raw SQL: an upsert whose row source may be a CTE of the caller's statement (the deal PATCH).
  return sql`INSERT INTO ${analyticsGenerations} ${columnList(org, shard, generation)}
    SELECT ${organizationId}, ${shardValue}::smallint, 1 ${from ? sql`FROM ${from}` : sql``}
    ON CONFLICT ${columnList(org, shard)} DO UPDATE SET ${sql.identifier(generation.name)} = ${generation} + 1`
}

export async function bumpGeneration(tx: Executor, organizationId: string): Promise<void> {
  await tx.execute(bumpGenerationSql(sql`${organizationId}::uuid`))
}

export interface AnalyticsState {
  /** The organization's analytics generation (see above): the cache key's version. */
  generation: string
  /** Its `default_currency`: the summary's and forecast's currency when the request names none. */
  defaultCurrency: string
}

/**
 * What an analytics read needs before it can use the cache, in one round trip: one index range scan of at most
 * ANALYTICS_GENERATION_SHARDS rows and the organization's primary key, as a named prepared statement.
 */
export async function readAnalyticsState(db: Db, organizationId: string): Promise<AnalyticsState> {
  const statement = prepared(db, 'analytics_state', (database) =>
    database
      .select({
        generation: sql<string>`coalesce(sum(${analyticsGenerations.generation}), 0)::text`,
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
