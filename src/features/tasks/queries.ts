import { and, eq, sql } from 'drizzle-orm'
import type { Executor, Tx } from '../../db/client.js'
import { tasks } from '../../db/schema.js'
import { shareLockDeal } from '../activities/queries.js'
import type { TaskFields } from './rules.js'

export type TaskRow = typeof tasks.$inferSelect

function byId(organizationId: string, id: string) {
  return and(eq(tasks.organizationId, organizationId), eq(tasks.id, id))
}

export async function findTask(db: Executor, organizationId: string, id: string) {
  const [task] = await db.select().from(tasks).where(byId(organizationId, id))
  return task
}

/** The deal a task belongs to (read without a lock, to take the deal's lock before the task's). */
async function findTaskDealId(db: Executor, organizationId: string, id: string) {
  const [task] = await db.select({ dealId: tasks.dealId }).from(tasks).where(byId(organizationId, id))
  return task?.dealId
}

/** Locks the task against concurrent changes (FOR UPDATE) until the transaction ends. */
async function lockTask(tx: Tx, organizationId: string, id: string) {
  const [task] = await tx.select().from(tasks).where(byId(organizationId, id)).for('update')
  return task
}

export async function insertTask(tx: Tx, values: typeof tasks.$inferInsert): Promise<TaskRow> {
  const [task] = await tx.insert(tasks).values(values).returning()
  if (!task) throw new Error('INSERT ... RETURNING gave no row')
  return task
}

export async function updateTask(
  tx: Tx,
  organizationId: string,
  id: string,
  changes: Partial<TaskFields>,
): Promise<TaskRow> {
  const [task] = await tx
    .update(tasks)
    .set({ ...changes, updatedAt: sql`now()` })
    .where(byId(organizationId, id))
    .returning()
  if (!task) throw new Error('UPDATE ... RETURNING gave no row for a locked task')
  return task
}

export async function deleteTask(tx: Tx, organizationId: string, id: string): Promise<void> {
  await tx.delete(tasks).where(byId(organizationId, id))
}

/**
 * Locks a task for a change: its deal FOR SHARE first, then the task FOR UPDATE. Deleting a deal locks the deal
 * before its tasks, so taking them in the same order cannot deadlock with it; the shared deal lock also keeps
 * the deal's owner, on which the permission check depends, fixed until commit.
 */
export async function lockTaskWithDeal(tx: Tx, organizationId: string, id: string) {
  const dealId = await findTaskDealId(tx, organizationId, id)
  const deal = dealId === undefined ? undefined : await shareLockDeal(tx, organizationId, dealId)
  const task = deal === undefined ? undefined : await lockTask(tx, organizationId, id)
  return task && deal ? { task, dealOwnerId: deal.ownerId } : undefined
}
