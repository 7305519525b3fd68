import { AppError } from '../../lib/errors.js'

/** Pure task rules of spec §5; the routes call them with the facts read under their locks. */

/** A due date before today (UTC) is refused; today itself is allowed. */
export function assertDueDateAllowed(dueDate: string, today: string): void {
  // `YYYY-MM-DD` strings with four-digit years order like the dates they name.
  if (dueDate < today) {
    throw new AppError('INVALID_DUE_DATE', `due_date must not be before today (${today}, UTC)`, {
      errors: [{ field: 'body.due_date', message: `must not be before ${today}` }],
    })
  }
}

export interface TaskFields {
  title: string
  description: string | null
  dueDate: string | null
  isDone: boolean
}

export interface TaskPatch {
  title?: string
  description?: string | null
  due_date?: string | null
  is_done?: boolean
}

/**
 * What a PATCH actually changes. Only a due date that differs from the stored one is checked against today,
 * so re-sending a task's unchanged (possibly past) due date along with other fields is accepted.
 * `completed` is true exactly when the task goes from open to done.
 */
export function taskChanges(
  current: TaskFields,
  patch: TaskPatch,
  today: string,
): { changes: Partial<TaskFields>; completed: boolean } {
  const changes: Partial<TaskFields> = {}
  if (patch.title !== undefined && patch.title !== current.title) changes.title = patch.title
  if (patch.description !== undefined && patch.description !== current.description) {
    changes.description = patch.description
  }
  if (patch.due_date !== undefined && patch.due_date !== current.dueDate) {
    if (patch.due_date !== null) assertDueDateAllowed(patch.due_date, today)
    changes.dueDate = patch.due_date
  }
  if (patch.is_done !== undefined && patch.is_done !== current.isDone) changes.isDone = patch.is_done
  return { changes, completed: changes.isDone === true }
}
