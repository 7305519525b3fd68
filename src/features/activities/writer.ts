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
 * The same writer as one data-modifying CTE member of a fixed statement (the deal PATCH's): writes the entries
 * given by `writeActivitiesValues` on the deal row of `dealRelation` (a CTE of that statement), so the change and
 * its activities commit together and only if the guarded update matched. The entries travel as one JSON array,
 * so the statement's text is the same whatever their number (none writes nothing).
 */
export function writeActivitiesSql(dealRelation: SQL): SQL {
  // Raw SQL: a CTE member (INSERT ... SELECT from the caller's updated row).
  const a = activities
  return sql`INSERT INTO ${a} ${columnList(a.organizationId, a.id, a.dealId, a.authorId, a.type, a.payload, a.createdAt)}
    SELECT d.organization_id, v.id, d.id, ${sql.placeholder('activityAuthorId')}::uuid, v.type, v.payload,
      clock_timestamp()
    FROM ${dealRelation} d
    CROSS JOIN jsonb_to_recordset(${sql.placeholder('activities')}::jsonb) AS v (id uuid, type text, payload jsonb)`
}

/** The values of `writeActivitiesSql`'s placeholders: `entries`, in order, written by the actor. */
export function writeActivitiesValues(actor: Actor, entries: readonly ActivityEntry[]) {
  return {
    activityAuthorId: actor.userId,
    activities: JSON.stringify(
      entries.map((entry) => ({ id: uuidv7(), type: entry.type, payload: entry.payload })),
    ),
  }
}
