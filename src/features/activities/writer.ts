import { type SQL, sql } from 'drizzle-orm'
import type { Actor } from '../../auth/policy.js'
import { columnList, type Executor } from '../../db/client.js'
import { type ActivityType, activities } from '../../db/schema.js'
import { uuidv7 } from '../../lib/uuid.js'

export interface ActivityEntry {
  type: ActivityType
  payload: Record<string, unknown>
}

/**
 * THE activity writer: every activity of the feed is written here, inside the transaction (or statement) of the
 * change it records, after that change's locks are taken. Its time is the moment of writing
 * (`clock_timestamp()`, not the transaction's start `now()`) and its id is monotonic, so the feed's newest-first
 * order is the order the changes really happened. The author is the actor's user.
 */
export async function writeActivities(
  tx: Executor,
  actor: Actor,
  dealId: string,
  entries: readonly ActivityEntry[],
): Promise<(typeof activities.$inferSelect)[]> {
  if (entries.length === 0) return []
  const rows = entries.map((entry) => ({
    organizationId: actor.organizationId,
    id: uuidv7(),
    dealId,
    authorId: actor.userId,
    type: entry.type,
    payload: entry.payload,
    createdAt: sql`clock_timestamp()`,
  }))
  return tx.insert(activities).values(rows).returning()
}

/**
 * The same writer as one data-modifying CTE member, for the deal PATCH's single statement: writes `entries` on
 * the deal row of `dealRelation` (a CTE of that statement), so the change and its activities commit together
 * and only if the guarded update matched.
 */
export function writeActivitiesSql(actor: Actor, dealRelation: SQL, entries: readonly ActivityEntry[]): SQL {
  const values = entries.map(
    (entry) => sql`(${uuidv7()}::uuid, ${entry.type}, ${JSON.stringify(entry.payload)}::jsonb)`,
  )
  // Raw SQL: a CTE member (INSERT ... SELECT from the caller's updated row).
  const a = activities
  return sql`INSERT INTO ${a} ${columnList(a.organizationId, a.id, a.dealId, a.authorId, a.type, a.payload, a.createdAt)}
    SELECT d.organization_id, v.id, d.id, ${actor.userId}::uuid, v.type, v.payload, clock_timestamp()
    FROM ${dealRelation} d CROSS JOIN (VALUES ${sql.join(values, sql`, `)}) AS v (id, type, payload)`
}
