import { and, eq } from 'drizzle-orm'
import type { Executor, Tx } from '../../db/client.js'
import { activities, deals, users } from '../../db/schema.js'
import type { ActivityRow } from './schemas.js'

/**
 * Reads a deal's owner and holds the deal FOR SHARE until the transaction ends: while a task or activity is
 * written on it, the deal can be neither deleted nor given another owner (the task permission depends on it).
 * A shared lock, unlike the row lock a deal update takes, lets writes on one deal's tasks and feed run side by side.
 */
export async function shareLockDeal(tx: Tx, organizationId: string, dealId: string) {
  const [deal] = await tx
    .select({ ownerId: deals.ownerId })
    .from(deals)
    .where(and(eq(deals.organizationId, organizationId), eq(deals.id, dealId)))
    .for('share')
  return deal
}

// The author is looked up by id alone: users are global, and a former member still authored what they wrote.
export function selectActivities(db: Executor) {
  return db
    .select({
      id: activities.id,
      dealId: activities.dealId,
      authorId: activities.authorId,
      authorName: users.name,
      authorEmail: users.email,
      type: activities.type,
      payload: activities.payload,
      createdAt: activities.createdAt,
    })
    .from(activities)
    .leftJoin(users, eq(users.id, activities.authorId))
}

export type { ActivityRow }

export async function findActivity(db: Executor, organizationId: string, id: string) {
  const [row] = await selectActivities(db).where(
    and(eq(activities.organizationId, organizationId), eq(activities.id, id)),
  )
  return row
}
