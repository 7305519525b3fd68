import { type SQL, sql } from 'drizzle-orm'
import type { Actor } from '../../auth/policy.js'
import type { Executor } from '../../db/client.js'
import type { activities, companies, contacts, deals, memberships, tasks } from '../../db/schema.js'
import type { DealRow } from '../deals/schemas.js'
import {
  contactCreatedEventSql,
  contactCreatedEventValues,
  dealUpdatedEventSql,
  dealUpdatedEventValues,
  recordWriteEvent,
} from '../events/write-events.js'

export type WriteKind = 'created' | 'updated' | 'deleted'

interface Change<R extends string, Row> {
  resource: R
  kind: WriteKind
  /** The row before the write (absent on create). */
  before?: Row | undefined
  /** The row after the write (absent on delete). */
  after?: Row | undefined
}

/** Every write of contacts, deals, tasks, comments and members, with its old and new row. */
export type Write =
  | Change<'contact', typeof contacts.$inferSelect>
  | Change<'deal', typeof deals.$inferSelect>
  | Change<'task', typeof tasks.$inferSelect>
  | Change<'comment', typeof activities.$inferSelect>
  | Change<'member', typeof memberships.$inferSelect>
  | Change<'company', typeof companies.$inferSelect>

/**
 * THE after-write hook: every operation calls it inside the transaction of its write, after the write, so
 * whatever it records commits or rolls back with the change (never "commit, then publish"). Events for webhooks and
 * audit attach here (integrations: insert the outbox row from `write.before` / `write.after` in this function).
 * Analytics freshness needs nothing here: every deal write moves the deals list's write counter in its own
 * transaction (database triggers), and that counter is part of the analytics generation (analytics/generation.ts).
 *
 * The deal PATCH and the contact create are one statement, not a transaction: they run `afterDealChangeSql` and
 * `afterContactCreateSql` (with their `…Values`) instead, the same effects as CTE members. Whatever is added here
 * for deal updates or contact creates must be added there too.
 */
export async function afterWrite(tx: Executor, actor: Actor, write: Write): Promise<void> {
  // The outbox (spec §16): the event commits or rolls back with the change.
  await recordWriteEvent(tx, actor, write)
}

/**
 * `afterWrite` for a deal update that runs as one fixed statement: data-modifying CTE members over `updated` (the
 * statement's CTE of the updated deal row, empty when the guarded update did not match, which then writes
 * nothing), with named placeholders that `afterDealChangeValues` fills on each call.
 */
export function afterDealChangeSql(updated: SQL): SQL[] {
  return [dealUpdatedEventSql(updated)]
}

/**
 * The values of `afterDealChangeSql`'s placeholders. `before` is the row the change was checked against;
 * `changed` is `before` with the change applied (the fields the database decides are read from `updated`).
 */
export function afterDealChangeValues(_actor: Actor, before: DealRow, changed: DealRow) {
  return dealUpdatedEventValues(before, changed)
}

/**
 * `afterWrite` for the contact create, which runs as one fixed statement: data-modifying CTE members over
 * `inserted` (the statement's CTE of the inserted row), with named placeholders that `afterContactCreateValues`
 * fills on each call.
 */
export function afterContactCreateSql(inserted: SQL): SQL[] {
  return [contactCreatedEventSql(inserted)]
}

/** The values of `afterContactCreateSql`'s placeholders: what is inserted, before the database's defaults. */
export function afterContactCreateValues(_actor: Actor, values: typeof contacts.$inferInsert) {
  return contactCreatedEventValues(values)
}
