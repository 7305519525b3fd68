import { type SQL, sql } from 'drizzle-orm'
import { type Db, queryRows } from '../db/client.js'
import type { DealStage, DealStatus } from '../db/schema.js'

/**
 * Puts the demo's timeline in the past. The seed writes everything through the API, but the API cannot travel
 * in time: every deal, stay and change it writes carries the database clock of the seed run (the
 * deals_before_write trigger sets `stage_changed_at` and `closed_at`; the app's injectable clock only decides
 * invitation and reset-token expiry). So, once the API writes are done, this moves those times, and only times,
 * to when the demo's story says they happened, in one transaction:
 *
 * - companies' and contacts' `created_at`/`updated_at`;
 * - deals' `created_at`, `updated_at`, `stage_changed_at` and `closed_at`: an UPDATE of the deals table, so the
 *   deals_after_write trigger moves the deal between its aggregate rows (`deal_totals` by the month it closed,
 *   `deal_created_days` by the day it was created), keeping the analytics exact, and counts each row in the
 *   deals' write counter, which moves the organization's analytics generation (no cached figure outlives it);
 *   no aggregate or counter is written here;
 * - each deal's stays in `deal_stage_history` (chained: each `exited_at` is the next `entered_at`) and its
 *   `stage_changed`/`status_changed` activities, to the same instants, so the two keep agreeing.
 *
 * Tasks and comments keep the time of the run: they are today's work. Times are `now() - days`, on the database
 * clock that the analytics windows use.
 */

/** Days before the database's now(); fractions spread the times of day. */
export type DaysAgo = number

export interface DealStep {
  at: DaysAgo
  stage?: DealStage
  status?: DealStatus
}

export interface DealTimeline {
  id: string
  opened: DaysAgo
  /** The PATCHes the seed sent, oldest first, with the stage and status each one set. */
  steps: DealStep[]
}

export interface RecordTime {
  id: string
  at: DaysAgo
}

export class TimelineError extends Error {}

function ago(days: DaysAgo): SQL {
  return sql`now() - make_interval(secs => ${Math.round(days * 86_400_000) / 1000}::float8)`
}

function agoOrNull(days: DaysAgo | undefined): SQL {
  return days === undefined ? sql`NULL::timestamptz` : ago(days)
}

/** The stays and changes one deal's steps imply; throws when the story repeats a value or goes back in time. */
export function planDeal(deal: DealTimeline) {
  const stays: { seq: number; entered: DaysAgo; exited: DaysAgo | undefined }[] = [
    { seq: 1, entered: deal.opened, exited: undefined },
  ]
  const changes: { type: 'stage_changed' | 'status_changed'; value: string; at: DaysAgo }[] = []
  const seenStages = new Set<string>()
  const seenStatuses = new Set<string>()
  let previous = deal.opened
  let closed: DaysAgo | undefined
  for (const step of deal.steps) {
    if (!(step.at < previous) || step.at < 0)
      throw new TimelineError(`deal ${deal.id}: steps go back in time`)
    previous = step.at
    if (step.stage) {
      if (seenStages.has(step.stage)) throw new TimelineError(`deal ${deal.id}: ${step.stage} entered twice`)
      seenStages.add(step.stage)
      const last = stays[stays.length - 1] as (typeof stays)[number]
      last.exited = step.at
      stays.push({ seq: last.seq + 1, entered: step.at, exited: undefined })
      changes.push({ type: 'stage_changed', value: step.stage, at: step.at })
    }
    if (step.status) {
      if (seenStatuses.has(step.status)) throw new TimelineError(`deal ${deal.id}: ${step.status} set twice`)
      seenStatuses.add(step.status)
      changes.push({ type: 'status_changed', value: step.status, at: step.at })
      closed = step.status === 'won' || step.status === 'lost' ? step.at : undefined
    }
  }
  const lastStay = stays[stays.length - 1] as (typeof stays)[number]
  return { stays, changes, updated: previous, stageChanged: lastStay.entered, closed }
}

function values(rows: SQL[]): SQL {
  return sql.join(rows, sql`, `)
}

export async function backdate(
  db: Db,
  organizationId: string,
  input: { companies: RecordTime[]; contacts: RecordTime[]; deals: DealTimeline[] },
): Promise<void> {
  const plans = input.deals.map((deal) => ({ deal, plan: planDeal(deal) }))
  await db.transaction(async (tx) => {
    for (const [table, records] of [
      ['companies', input.companies],
      ['contacts', input.contacts],
    ] as const) {
      if (records.length === 0) continue
      await tx.execute(sql`
        UPDATE ${sql.identifier(table)} AS r SET created_at = v.at, updated_at = v.at
        FROM (VALUES ${values(records.map((record) => sql`(${record.id}::uuid, ${ago(record.at)})`))}) AS v(id, at)
        WHERE r.organization_id = ${organizationId} AND r.id = v.id`)
    }
    if (plans.length === 0) return
    // Through the deals table: its triggers move each deal between aggregate rows (closed month, created day).
    const moved = await queryRows<{ id: string }>(
      tx,
      sql`
        UPDATE deals AS d SET created_at = v.created_at, updated_at = v.updated_at,
               stage_changed_at = v.stage_changed_at, closed_at = v.closed_at
        FROM (VALUES ${values(
          plans.map(
            ({ deal, plan }) =>
              sql`(${deal.id}::uuid, ${ago(deal.opened)}, ${ago(plan.updated)}, ${ago(plan.stageChanged)}, ${agoOrNull(plan.closed)})`,
          ),
        )}) AS v(id, created_at, updated_at, stage_changed_at, closed_at)
        WHERE d.organization_id = ${organizationId} AND d.id = v.id
        RETURNING d.id`,
    )
    const stays = plans.flatMap(({ deal, plan }) =>
      plan.stays.map(
        (stay) => sql`(${deal.id}::uuid, ${stay.seq}::int, ${ago(stay.entered)}, ${agoOrNull(stay.exited)})`,
      ),
    )
    const stayRows = await queryRows<{ seq: number }>(
      tx,
      sql`
        UPDATE deal_stage_history AS h SET entered_at = v.entered_at, exited_at = v.exited_at
        FROM (VALUES ${values(stays)}) AS v(deal_id, seq, entered_at, exited_at)
        WHERE h.organization_id = ${organizationId} AND h.deal_id = v.deal_id AND h.seq = v.seq
        RETURNING h.seq`,
    )
    const changes = plans.flatMap(({ deal, plan }) =>
      plan.changes.map(
        (change) => sql`(${deal.id}::uuid, ${change.type}::text, ${change.value}::text, ${ago(change.at)})`,
      ),
    )
    const changeRows =
      changes.length === 0
        ? []
        : await queryRows<{ id: string }>(
            tx,
            sql`
              UPDATE activities AS a SET created_at = v.at
              FROM (VALUES ${values(changes)}) AS v(deal_id, type, value, at)
              WHERE a.organization_id = ${organizationId} AND a.deal_id = v.deal_id AND a.type = v.type
                AND a.payload ->> (CASE v.type WHEN 'stage_changed' THEN 'new_stage' ELSE 'new_status' END) = v.value
              RETURNING a.id`,
          )
    // The API wrote exactly what the story says, or the times would land on the wrong rows: all or nothing.
    if (
      moved.length !== plans.length ||
      stayRows.length !== stays.length ||
      changeRows.length !== changes.length
    ) {
      throw new TimelineError(
        `the API wrote another history than planned: ${moved.length}/${plans.length} deals, ` +
          `${stayRows.length}/${stays.length} stays, ${changeRows.length}/${changes.length} changes`,
      )
    }
  })
}
