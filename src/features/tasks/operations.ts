import { type Actor, assertAllowed } from '../../auth/policy.js'
import type { Db } from '../../db/client.js'
import { todayUtc } from '../../lib/dates.js'
import { recordNotFound } from '../../lib/errors.js'
import { uuidv7 } from '../../lib/uuid.js'
import { shareLockDeal } from '../activities/queries.js'
import { writeActivities } from '../activities/writer.js'
import { afterWrite } from '../writes/after-write.js'
import * as queries from './queries.js'
import { assertDueDateAllowed, taskChanges } from './rules.js'
import type { CreateTaskBody, TaskRow, UpdateTaskBody } from './schemas.js'

/**
 * Task writes: a task's owner is its deal's owner, held FOR SHARE until commit so it cannot change under the
 * check. Order: the deal/task exists (404) → the actor may write on the deal (403) → the due date (400).
 */

export async function createTask(db: Db, actor: Actor, input: CreateTaskBody): Promise<TaskRow> {
  return db.transaction(async (tx) => {
    const deal = await shareLockDeal(tx, actor.organizationId, input.deal_id)
    if (!deal) throw recordNotFound('DEAL_NOT_FOUND')
    assertAllowed(actor, 'task.create', { ownerId: deal.ownerId })
    if (input.due_date !== null) assertDueDateAllowed(input.due_date, todayUtc())
    const created = await queries.insertTask(tx, {
      organizationId: actor.organizationId,
      id: uuidv7(),
      dealId: input.deal_id,
      title: input.title,
      description: input.description,
      dueDate: input.due_date,
    })
    await writeActivities(tx, actor, created.dealId, [
      { type: 'task_created', payload: { task_id: created.id, task_title: created.title } },
    ])
    await afterWrite(tx, actor, { resource: 'task', kind: 'created', after: created })
    return created
  })
}

export async function changeTask(db: Db, actor: Actor, id: string, input: UpdateTaskBody): Promise<TaskRow> {
  return db.transaction(async (tx) => {
    const locked = await queries.lockTaskWithDeal(tx, actor.organizationId, id)
    if (!locked) throw recordNotFound('TASK_NOT_FOUND')
    assertAllowed(actor, 'task.update', { ownerId: locked.dealOwnerId })
    // Decided on the row read under the lock: of two parallel completions only one sees the task open.
    const { changes, completed } = taskChanges(locked.task, input, todayUtc())
    if (Object.keys(changes).length === 0) return locked.task
    const updated = await queries.updateTask(tx, actor.organizationId, locked.task.id, changes)
    if (completed) {
      await writeActivities(tx, actor, updated.dealId, [
        { type: 'task_completed', payload: { task_id: updated.id, task_title: updated.title } },
      ])
    }
    await afterWrite(tx, actor, { resource: 'task', kind: 'updated', before: locked.task, after: updated })
    return updated
  })
}

export async function deleteTask(db: Db, actor: Actor, id: string): Promise<void> {
  await db.transaction(async (tx) => {
    const locked = await queries.lockTaskWithDeal(tx, actor.organizationId, id)
    if (!locked) throw recordNotFound('TASK_NOT_FOUND')
    assertAllowed(actor, 'task.delete', { ownerId: locked.dealOwnerId })
    await queries.deleteTask(tx, actor.organizationId, locked.task.id)
    await afterWrite(tx, actor, { resource: 'task', kind: 'deleted', before: locked.task })
  })
}
