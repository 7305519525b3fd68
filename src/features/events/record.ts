import { isDeepStrictEqual } from 'node:util'
import { type SQL, sql } from 'drizzle-orm'
import type { Executor } from '../../db/client.js'
import { events, webhooks } from '../../db/schema.js'
import { uuidv7 } from '../../lib/uuid.js'
import type { EventType } from './catalogue.js'

export interface EventInput {
  organizationId: string
  type: EventType | 'webhook.ping'
  /** The object as the API returns it (its last state for `.deleted`). */
  data: Record<string, unknown>
  /** Only for `.updated`: the old values of exactly the fields that changed. */
  previous?: Record<string, unknown> | undefined
}

/**
 * The `dispatched_at` of an event being written for `organizationId` (a SQL expression): null (the dispatcher
 * fans it out) when the organization has an enabled webhook, else the write's time: nobody can receive it, so it
 * is written fanned out, and the dispatcher never rewrites it (one row version, index entry and lock less per
 * write). The look uses the writing statement's snapshot: a webhook receives the events of transactions that
 * begin after its creation committed; for a write concurrent with the creation either outcome is correct.
 */
export function eventDispatchedAtSql(organizationId: SQL | string): SQL {
  return sql`CASE WHEN EXISTS (SELECT 1 FROM ${webhooks} w
    WHERE w.organization_id = ${organizationId} AND w.enabled) THEN NULL ELSE now() END`
}

/**
 * Records an event in the outbox. Call it with the transaction that makes the change, so the event commits
 * with the change or not at all; the dispatcher delivers it after the commit. Returns the event id.
 */
export async function recordEvent(tx: Executor, event: EventInput): Promise<string> {
  const id = uuidv7()
  await tx.insert(events).values({
    organizationId: event.organizationId,
    id,
    type: event.type,
    data: event.data,
    previous: event.previous ?? null,
    dispatchedAt: eventDispatchedAtSql(event.organizationId),
  })
  return id
}

/** The old values of the fields whose value differs between two API bodies (derived fields included). */
export function changedFields(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
): Record<string, unknown> {
  const previous: Record<string, unknown> = {}
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (!isDeepStrictEqual(before[key], after[key])) previous[key] = before[key] ?? null
  }
  return previous
}

/**
 * The event of one write of a resource, from the API bodies before and after it: `.created` without a
 * before, `.deleted` without an after, `.updated` (with `previous`) when anything changed, else nothing.
 * The seam's after-write hook of every resource calls this (companies included: `resource` is a name).
 */
export async function recordChange(
  tx: Executor,
  organizationId: string,
  resource: 'contact' | 'company' | 'deal' | 'task',
  before: Record<string, unknown> | undefined,
  after: Record<string, unknown> | undefined,
): Promise<void> {
  if (!before && after) {
    await recordEvent(tx, { organizationId, type: `${resource}.created`, data: after })
  } else if (before && !after) {
    await recordEvent(tx, { organizationId, type: `${resource}.deleted`, data: before })
  } else if (before && after) {
    const previous = changedFields(before, after)
    if (Object.keys(previous).length === 0) return
    await recordEvent(tx, { organizationId, type: `${resource}.updated`, data: after, previous })
  }
}
