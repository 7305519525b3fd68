import { eq, type SQL, sql } from 'drizzle-orm'
import type { Actor } from '../../auth/policy.js'
import type { Executor } from '../../db/client.js'
import { events, type memberships, users } from '../../db/schema.js'
import { uuidv7 } from '../../lib/uuid.js'
import { toActivity } from '../activities/schemas.js'
import { toContact } from '../contacts/schemas.js'
import { type DealRow, toDeal } from '../deals/schemas.js'
import { toTask } from '../tasks/schemas.js'
import type { Write } from '../writes/after-write.js'
import { changedFields, recordChange, recordEvent } from './record.js'

type MembershipRow = typeof memberships.$inferSelect

async function userOf(tx: Executor, userId: string | null) {
  if (!userId) return undefined
  const [user] = await tx
    .select({ name: users.name, email: users.email })
    .from(users)
    .where(eq(users.id, userId))
  return user
}

async function toMemberBody(tx: Executor, row: MembershipRow) {
  const user = await userOf(tx, row.userId)
  return {
    user_id: row.userId,
    name: user?.name ?? '',
    email: user?.email ?? '',
    role: row.role,
    joined_at: row.createdAt.toISOString(),
  }
}

/**
 * The outbox side of the after-write hook: the event of `write`, with `data` as the API returns the object.
 * Companies (another branch) record theirs with `recordChange(tx, org, 'company', toCompany(before), toCompany(after))`.
 */
export async function recordWriteEvent(tx: Executor, actor: Actor, write: Write): Promise<void> {
  const organizationId = actor.organizationId
  switch (write.resource) {
    case 'contact':
      return recordChange(
        tx,
        organizationId,
        'contact',
        write.before && toContact(write.before),
        write.after && toContact(write.after),
      )
    case 'deal':
      return recordChange(
        tx,
        organizationId,
        'deal',
        write.before && toDeal(write.before),
        write.after && toDeal(write.after),
      )
    case 'task':
      return recordChange(
        tx,
        organizationId,
        'task',
        write.before && toTask(write.before),
        write.after && toTask(write.after),
      )
    case 'comment': {
      if (write.kind !== 'created' || !write.after) return
      const row = write.after
      const author = await userOf(tx, row.authorId)
      const data = toActivity({
        ...row,
        authorName: author?.name ?? null,
        authorEmail: author?.email ?? null,
      })
      await recordEvent(tx, { organizationId, type: 'comment.created', data })
      return
    }
    case 'member': {
      const before = write.before && (await toMemberBody(tx, write.before))
      const after = write.after && (await toMemberBody(tx, write.after))
      const memberOrg = (write.after ?? write.before)?.organizationId ?? organizationId
      if (!before && after)
        await recordEvent(tx, { organizationId: memberOrg, type: 'member.added', data: after })
      else if (before && !after)
        await recordEvent(tx, { organizationId: memberOrg, type: 'member.removed', data: before })
      else if (before && after) {
        const previous = changedFields(before, after)
        if (Object.keys(previous).length > 0)
          await recordEvent(tx, { organizationId: memberOrg, type: 'member.updated', data: after, previous })
      }
      return
    }
  }
}

/**
 * `deal.updated` of the one-statement deal PATCH, as a CTE member over `updated`: the API body of the deal as
 * the change makes it (`predicted` = the row checked + the changes; `updated_at` comes from the statement), and
 * the old values of the fields that change. Writes nothing when the guarded update matched no row.
 */
export function dealUpdatedEventSql(before: DealRow, predicted: DealRow, updated: SQL): SQL {
  const beforeBody = toDeal(before)
  const afterBody = toDeal(predicted)
  const previous = changedFields(beforeBody, afterBody)
  previous.updated_at = beforeBody.updated_at
  return sql`INSERT INTO ${events} (organization_id, id, type, data, previous)
    SELECT organization_id, ${uuidv7()}::uuid, 'deal.updated',
      jsonb_set(${JSON.stringify(afterBody)}::jsonb, '{updated_at}',
        to_jsonb(to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))),
      ${JSON.stringify(previous)}::jsonb
    FROM ${updated}`
}
