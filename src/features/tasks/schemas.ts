import { type Static, Type } from 'typebox'
import type { tasks } from '../../db/schema.js'
import { isoTimestamp } from '../../lib/dates.js'
import { DateOnly, Defaulted, PageQuery, Timestamp, Uuid } from '../../lib/schemas.js'

const Title = Type.String({ minLength: 1, maxLength: 255 })
const Description = Type.Union([Type.String({ maxLength: 10_000 }), Type.Null()], {
  description: 'Free text, at most 10000 characters; null clears it',
})
const DueDate = Type.Union([DateOnly, Type.Null()], {
  description: 'YYYY-MM-DD, not before today (UTC); null clears it',
})

export const Task = Type.Object({
  id: Uuid,
  organization_id: Uuid,
  deal_id: Uuid,
  title: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  due_date: Type.Union([DateOnly, Type.Null()]),
  is_done: Type.Boolean(),
  created_at: Timestamp,
  updated_at: Timestamp,
})
export type Task = Static<typeof Task>

export type TaskRow = typeof tasks.$inferSelect

export function toTask(row: TaskRow): Task {
  return {
    id: row.id,
    organization_id: row.organizationId,
    deal_id: row.dealId,
    title: row.title,
    description: row.description,
    due_date: row.dueDate,
    is_done: row.isDone,
    created_at: isoTimestamp(row.createdAt),
    updated_at: isoTimestamp(row.updatedAt),
  }
}

export const ListTasksQuery = Defaulted(
  Type.Object(
    {
      ...PageQuery,
      deal_id: Type.Optional(Uuid),
      deal_owner_id: Type.Optional({
        ...Uuid,
        description: 'Only tasks on deals this user owns (the caller\'s own id lists "my tasks")',
      } as typeof Uuid),
      only_open: Type.Optional(Type.Boolean({ description: 'true: only tasks that are not done' })),
      /** Inclusive bounds; a task without a due date never matches either. */
      due_before: Type.Optional(DateOnly),
      due_after: Type.Optional(DateOnly),
    },
    { additionalProperties: false },
  ),
)

export const CreateTaskBody = Defaulted(
  Type.Object(
    {
      deal_id: Uuid,
      title: Title,
      description: { ...Description, default: null } as typeof Description,
      due_date: { ...DueDate, default: null } as typeof DueDate,
    },
    {
      additionalProperties: false,
      examples: [
        {
          deal_id: '0193c9a2-7c1e-7b4e-9a51-2f6d4c8e1a10',
          title: 'Send the revised proposal',
          description: 'Include the volume discount',
          due_date: '2030-06-28',
        },
      ],
    },
  ),
)
export type CreateTaskBody = Static<typeof CreateTaskBody>

export const UpdateTaskBody = Type.Object(
  {
    title: Type.Optional(Title),
    description: Type.Optional(Description),
    due_date: Type.Optional(DueDate),
    is_done: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, examples: [{ is_done: true }] },
)
export type UpdateTaskBody = Static<typeof UpdateTaskBody>
