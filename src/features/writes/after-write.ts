import { type SQL, sql } from 'drizzle-orm'
import type { Actor } from '../../auth/policy.js'
import type { Executor } from '../../db/client.js'
import type { activities, companies, contacts, deals, memberships, tasks } from '../../db/schema.js'
import { bumpGeneration, bumpGenerationSql, randomShard } from '../analytics/generation.js'
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
 * whatever it records commits or rolls back with the change (never "commit, then publish"). Analytics freshness
 * attaches here (deal writes bump the organization's generation); events for webhooks and audit attach here too
 * (integrations: insert the outbox row from `write.before` / `write.after` in this function).
 *
 * The deal PATCH and the contact create are one statement, not a transaction: they run `afterDealChangeSql` and
 * `afterContactCreateSql` (with their `…Values`) instead, the same effects as CTE members. Whatever is added here
 * for deal updates or contact creates must be added there too.
 */
export async function afterWrite(tx: Executor, actor: Actor, write: Write): Promise<void> {
  switch (write.resource) {
    case 'deal':
      await bumpGeneration(tx, actor.organizationId)
      break
    case 'contact':
    case 'company':
    case 'task':
    case 'comment':
    case 'member':
      break
  }
  // The outbox (spec §16): the event commits or rolls back with the change.
  await recordWriteEvent(tx, actor, write)
}

/**
 * `afterWrite` for a deal update that runs as one fixed statement: data-modifying CTE members over `updated` (the
 * statement's CTE of the updated deal row, empty when the guarded update did not match, which then writes
 * nothing), with named placeholders that `afterDealChangeValues` fills on each call.
 */
export function afterDealChangeSql(updated: SQL): SQL[] {
  return [
    bumpGenerationSql(sql`organization_id`, updated, sql.placeholder('generationShard')),
    dealUpdatedEventSql(updated),
  ]
}

/**
 * The values of `afterDealChangeSql`'s placeholders. `before` is the row the change was checked against;
 * `changed` is `before` with the change applied (the fields the database decides are read from `updated`).
 */
export function afterDealChangeValues(_actor: Actor, before: DealRow, changed: DealRow) {
  return { generationShard: randomShard(), ...dealUpdatedEventValues(before, changed) }
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
