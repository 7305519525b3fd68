import { eq, type SQL, sql } from 'drizzle-orm'
import type { Actor } from '../../auth/policy.js'
import type { Executor } from '../../db/client.js'
import { type contacts, events, type memberships, users } from '../../db/schema.js'
import { isoTimestamp } from '../../lib/dates.js'
import { uuidv7 } from '../../lib/uuid.js'
import { toActivity } from '../activities/schemas.js'
import { companyBody } from '../companies/queries.js'
import { toContact } from '../contacts/schemas.js'
import { type DealRow, toDeal } from '../deals/schemas.js'
import { dealProbabilitySql } from '../pipeline/probability.js'
import { toTask } from '../tasks/schemas.js'
import type { Write } from '../writes/after-write.js'
import { changedFields, eventDispatchedAtSql, recordChange, recordEvent } from './record.js'

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
    joined_at: isoTimestamp(row.createdAt),
  }
}

/** `recordChange` of a resource whose API body is a function of its row. */
function recordBodies<Row>(
  tx: Executor,
  organizationId: string,
  write: {
    resource: 'contact' | 'company' | 'deal' | 'task'
    before?: Row | undefined
    after?: Row | undefined
  },
  toBody: (row: Row) => object,
): Promise<void> {
  const body = (row: Row | undefined) => (row ? (toBody(row) as Record<string, unknown>) : undefined)
  return recordChange(tx, organizationId, write.resource, body(write.before), body(write.after))
}

/**
 * The outbox side of the after-write hook: the event of `write`, with `data` as the API returns the object.
 */
export async function recordWriteEvent(tx: Executor, actor: Actor, write: Write): Promise<void> {
  const organizationId = actor.organizationId
  switch (write.resource) {
    case 'contact':
      return recordBodies(tx, organizationId, write, toContact)
    // Deal rows of the operations carry the derived fields (probability, weighted amount) of every read.
    case 'deal':
      return recordBodies(tx, organizationId, write, (row) => toDeal(row as DealRow))
    case 'company':
      return recordBodies(tx, organizationId, write, companyBody)
    case 'task':
      return recordBodies(tx, organizationId, write, toTask)
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

const iso = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`

/**
 * `deal.updated` of the one-statement deal PATCH, as a CTE member of a fixed statement over `updated` (the row as
 * written, after the deals triggers); its values come from `dealUpdatedEventValues`. `data`: the API body of the
 * checked row with the change applied, merged with every field the database decides (`updated_at`, `closed_at`,
 * `stage_changed_at`, `lost_reason`, the derived probability and weighted amount) read from `updated`;
 * `previous`: the fields of the old body whose value differs. Writes nothing when the guarded update matched no
 * row. `OFFSET 0` keeps `d` a subquery: flattened, its `data` expression (timestamps formatted, probability
 * looked up) was computed again for each of the ~18 keys `previous` compares (~100 us per PATCH).
 */
export function dealUpdatedEventSql(updated: SQL): SQL {
  const probability = dealProbabilitySql(
    sql.raw('u.organization_id'),
    sql.raw('u.status'),
    sql.raw('u.stage'),
  )
  const fromDatabase = sql`jsonb_build_object(
      'updated_at', ${sql.raw(iso('u.updated_at'))},
      'closed_at', CASE WHEN u.closed_at IS NULL THEN NULL ELSE ${sql.raw(iso('u.closed_at'))} END,
      'stage_changed_at', ${sql.raw(iso('u.stage_changed_at'))},
      'lost_reason', u.lost_reason,
      'probability', ${probability},
      'weighted_amount', round(u.amount * ${probability} / 100, 2)::text)`
  return sql`INSERT INTO ${events} (organization_id, id, type, data, previous, dispatched_at)
    SELECT d.organization_id, ${sql.placeholder('eventId')}::uuid, 'deal.updated', d.data,
      (SELECT coalesce(jsonb_object_agg(b.key, b.value), '{}'::jsonb)
         FROM jsonb_each(${sql.placeholder('eventBefore')}::jsonb) b WHERE b.value IS DISTINCT FROM d.data -> b.key),
      ${eventDispatchedAtSql(sql.raw('d.organization_id'))}
    FROM (SELECT u.organization_id, ${sql.placeholder('eventChanged')}::jsonb || ${fromDatabase} AS data
          FROM ${updated} u OFFSET 0) d`
}

/** The values of `dealUpdatedEventSql`'s placeholders: `before` is the checked row, `changed` it with the change. */
export function dealUpdatedEventValues(before: DealRow, changed: DealRow) {
  return {
    eventId: uuidv7(),
    eventBefore: JSON.stringify(toDeal(before)),
    eventChanged: JSON.stringify(toDeal(changed)),
  }
}

/**
 * `contact.created` of the one-statement contact create, as a CTE member of a fixed statement over `inserted`;
 * its values come from `contactCreatedEventValues`. `data` is the API body (as `toContact` gives it) of the
 * inserted values, with the timestamps the database decided read from `inserted`.
 */
export function contactCreatedEventSql(inserted: SQL): SQL {
  const fromDatabase = sql.raw(
    `jsonb_build_object('created_at', ${iso('i.created_at')}, 'updated_at', ${iso('i.updated_at')})`,
  )
  return sql`INSERT INTO ${events} (organization_id, id, type, data, dispatched_at)
    SELECT i.organization_id, ${sql.placeholder('eventId')}::uuid, 'contact.created',
      ${sql.placeholder('eventBody')}::jsonb || ${fromDatabase}, ${eventDispatchedAtSql(sql.raw('i.organization_id'))}
    FROM ${inserted} i`
}

/** The values of `contactCreatedEventSql`'s placeholders, from the inserted values. */
export function contactCreatedEventValues(values: typeof contacts.$inferInsert) {
  const body = {
    id: values.id,
    organization_id: values.organizationId,
    owner_id: values.ownerId,
    name: values.name,
    email: values.email ?? null,
    phone: values.phone ?? null,
    company_id: values.companyId ?? null,
  }
  return { eventId: uuidv7(), eventBody: JSON.stringify(body) }
}
