import { type Static, Type } from 'typebox'
import { ACTIVITY_TYPES } from '../../db/schema.js'
import { isoTimestamp } from '../../lib/dates.js'
import { Defaulted, PageQuery, StringEnum, Timestamp, Uuid } from '../../lib/schemas.js'

export const DealParams = Type.Object({ deal_id: Uuid }, { additionalProperties: false })

export const ListActivitiesQuery = Defaulted(Type.Object({ ...PageQuery }, { additionalProperties: false }))

export const Activity = Type.Object({
  id: Uuid,
  deal_id: Uuid,
  author_id: Type.Union([Uuid, Type.Null()]),
  author: Type.Union([Type.Object({ id: Uuid, name: Type.String(), email: Type.String() }), Type.Null()], {
    description: 'The user who caused the activity; null once that user no longer exists',
  }),
  type: StringEnum(ACTIVITY_TYPES),
  payload: Type.Object(
    {},
    {
      additionalProperties: true,
      description:
        'By type: comment {text}; status_changed {old_status, new_status}; stage_changed {old_stage, ' +
        'new_stage}; task_created and task_completed {task_id, task_title}',
    },
  ),
  created_at: Timestamp,
})
export type Activity = Static<typeof Activity>

/** An activity row joined with its author (features/activities/queries.ts). */
export interface ActivityRow {
  id: string
  dealId: string
  authorId: string | null
  authorName: string | null
  authorEmail: string | null
  type: Activity['type']
  payload: unknown
  createdAt: Date
}

export function toActivity(row: ActivityRow): Activity {
  return {
    id: row.id,
    deal_id: row.dealId,
    author_id: row.authorId,
    author:
      row.authorId !== null && row.authorName !== null && row.authorEmail !== null
        ? { id: row.authorId, name: row.authorName, email: row.authorEmail }
        : null,
    type: row.type,
    payload: row.payload as Record<string, unknown>,
    created_at: isoTimestamp(row.createdAt),
  }
}

export const CreateCommentBody = Type.Object(
  {
    type: Type.Optional(
      StringEnum(['comment'] as const, { default: 'comment', description: 'Only comments can be posted' }),
    ),
    payload: Type.Object(
      { text: Type.String({ minLength: 1, maxLength: 10_000 }) },
      { additionalProperties: false },
    ),
  },
  {
    additionalProperties: false,
    examples: [{ type: 'comment', payload: { text: 'Budget approved; contract next week.' } }],
  },
)
export type CreateCommentBody = Static<typeof CreateCommentBody>
