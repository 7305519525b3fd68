import { eq } from 'drizzle-orm'
import { type Action, type Actor, allows, assertAllowed } from '../../auth/policy.js'
import type { Db, Tx } from '../../db/client.js'
import { memberships, users } from '../../db/schema.js'
import { type CsvRow, type ImportFailure, type ImportReport, parseImport } from '../../lib/csv-import.js'
import type { FieldError } from '../../lib/errors.js'
import { uuidv7 } from '../../lib/uuid.js'
import { afterWrite, type Write } from './after-write.js'

/**
 * The CSV import of a record kind (spec §14): contacts and companies plug an `ImportPlan` into `runImport`, which
 * owns everything the two share: the file and its header, the match key (and its repeats in the file), the
 * `owner_email` column and the role rules, create/update/unchanged, the per-row report, dry runs, and writing
 * every valid row in one transaction through the after-write hook (events, as the JSON routes record them).
 */

/** A failed row before its line is known. */
export type RowFailure = Omit<ImportFailure, 'row'>

export interface ImportPlan<Row extends { id: string; ownerId: string }, Wanted, Insert, Changes> {
  /** The columns a file may have, and those it must have. */
  columns: readonly string[]
  required: readonly string[]
  /** The column of the match key (`email`, `domain`): named by the row errors about the key. */
  keyField: string
  /** The records, plural, for messages ("matches 2 contacts"). */
  plural: string
  /** The permission-table actions of a create and of an update (with the matched record's owner). */
  actions: { create: Action; update: Action }
  /**
   * Set when the match key is unique in the organization (a unique index): rows of one file never share it
   * (also with match_on=none), and with match_on=none a row whose key an existing record has fails with this.
   * The same failure is reported for a create that the unique index refuses because a concurrent write took
   * the key after the file was checked.
   */
  unique?: RowFailure
  /** A matched record that was deleted between the check and its update fails with this. */
  gone: RowFailure
  /** A row's cells as the record's fields plus its (normalized) match key, or the row's field errors. */
  check(cells: Record<string, string>): { errors: FieldError[] } | { wanted: Wanted; key: string | undefined }
  /**
   * Reads, inside the import's transaction, what the valid rows refer to, and returns the per-row step that
   * resolves it (after the owner checks): the row's fields completed, or its failure.
   */
  prepare?(
    tx: Tx,
    organizationId: string,
    rows: Wanted[],
  ): Promise<(wanted: Wanted) => { wanted: Wanted } | { failed: RowFailure }>
  /** The organization's records whose match key is one of `keys`, and the match key of a record. */
  findByKeys(tx: Tx, organizationId: string, keys: string[]): Promise<Row[]>
  keyOf(row: Row): string
  /** The insert of a new record (`owner` is the row's owner, else the caller). */
  newRecord(wanted: Wanted, base: { organizationId: string; id: string; ownerId: string }): Insert
  /** What a matched record needs to become the row (the owner aside); empty when nothing differs. */
  changes(current: Row, wanted: Wanted): Changes
  /** Inserts new records; returns those written (a unique index may skip some, see `unique`). */
  insert(tx: Tx, values: Insert[]): Promise<Row[]>
  update(tx: Tx, organizationId: string, id: string, changes: Changes): Promise<Row | undefined>
  /** The after-write hook's view of a create and an update. */
  created(after: Row): Write
  updated(before: Row, after: Row): Write
}

export interface ImportOptions {
  /** The key column to match on, or `none`: every row creates. */
  matchOn: string
  dryRun: boolean
}

const INSERT_CHUNK = 1_000
const LOOKUP_CHUNK = 5_000

function fail(report: ImportReport, row: number, failure: RowFailure) {
  report.failed.push({ row, ...failure })
}

/**
 * Checks every row and writes the valid ones in one transaction. Order of the checks per row (the JSON routes'
 * order): fields (VALIDATION_ERROR) → a match key repeated in the file (VALIDATION_ERROR) → `owner_email` (a
 * member naming someone else: FORBIDDEN; then OWNER_NOT_MEMBER) → the plan's references → the match (more than
 * one: VALIDATION_ERROR; a unique key taken with match_on=none: `plan.unique`) → the role rule on the matched
 * record (FORBIDDEN) → unchanged when nothing differs.
 */
export async function runImport<Row extends { id: string; ownerId: string }, Wanted, Insert, Changes>(
  db: Db,
  actor: Actor,
  csv: string,
  plan: ImportPlan<Row, Wanted, Insert, Changes>,
  options: ImportOptions,
): Promise<ImportReport> {
  assertAllowed(actor, plan.actions.create)
  const { rows, badRows } = await parseImport(csv, plan.columns, plan.required)
  const report: ImportReport = { created: 0, updated: 0, unchanged: 0, failed: [...badRows] }
  const { organizationId } = actor
  const matching = options.matchOn !== 'none'
  // The key takes part when rows match on it, or when it must stay unique whatever the match.
  const keyed = matching || plan.unique !== undefined

  const checked: { line: number; cells: CsvRow['cells']; wanted: Wanted; key: string | undefined }[] = []
  for (const { line, cells } of rows) {
    const result = plan.check(cells)
    if ('errors' in result) fail(report, line, { code: 'VALIDATION_ERROR', errors: result.errors })
    else checked.push({ line, cells, wanted: result.wanted, key: keyed ? result.key : undefined })
  }

  await db.transaction(async (tx) => {
    // Everything the rows are checked against, read inside the transaction that writes them.
    const members = await tx
      .select({ id: users.id, email: users.email })
      .from(memberships)
      .innerJoin(users, eq(users.id, memberships.userId))
      .where(eq(memberships.organizationId, organizationId))
    const memberByEmail = new Map(members.map((m) => [m.email.toLowerCase(), m.id]))
    const resolve = plan.prepare
      ? await plan.prepare(
          tx,
          organizationId,
          checked.map((row) => row.wanted),
        )
      : (wanted: Wanted) => ({ wanted })
    const existingByKey = new Map<string, Row[]>()
    const keys = [...new Set(checked.map((row) => row.key ?? '').filter(Boolean))]
    for (let i = 0; i < keys.length; i += LOOKUP_CHUNK) {
      for (const row of await plan.findByKeys(tx, organizationId, keys.slice(i, i + LOOKUP_CHUNK))) {
        const key = plan.keyOf(row)
        existingByKey.set(key, [...(existingByKey.get(key) ?? []), row])
      }
    }

    const creates: { line: number; id: string; values: Insert }[] = []
    const updates: { line: number; before: Row; changes: Changes }[] = []
    const seenKeys = new Map<string, number>()
    for (const { line, cells, key, ...row } of checked) {
      if (key !== undefined) {
        const earlier = seenKeys.get(key)
        if (earlier !== undefined) {
          const message = matching
            ? `repeats the match key of line ${earlier}`
            : `repeats line ${earlier}; it is unique in the organization`
          fail(report, line, { code: 'VALIDATION_ERROR', errors: [{ field: plan.keyField, message }] })
          continue
        }
        seenKeys.set(key, line)
      }
      // Owner: a member may only name themselves (403 first, as on the JSON routes), then it must be a member.
      const ownerEmail = (cells.owner_email ?? '').trim().toLowerCase()
      let ownerId: string | undefined
      if (ownerEmail !== '') {
        ownerId = memberByEmail.get(ownerEmail)
        if (!allows(actor, 'record.assign_owner', ownerId ?? '')) {
          fail(report, line, {
            code: 'FORBIDDEN',
            errors: [{ field: 'owner_email', message: 'a member may only own their records' }],
          })
          continue
        }
        if (!ownerId) {
          fail(report, line, {
            code: 'OWNER_NOT_MEMBER',
            errors: [{ field: 'owner_email', message: 'is not a member' }],
          })
          continue
        }
      }
      const resolved = resolve(row.wanted)
      if ('failed' in resolved) {
        fail(report, line, resolved.failed)
        continue
      }
      const { wanted } = resolved
      const matches = key !== undefined ? (existingByKey.get(key) ?? []) : []
      if (!matching && matches.length > 0 && plan.unique) {
        fail(report, line, plan.unique)
        continue
      }
      if (matching && matches.length > 1) {
        fail(report, line, {
          code: 'VALIDATION_ERROR',
          errors: [
            {
              field: plan.keyField,
              message: `matches ${matches.length} ${plan.plural}; only a unique match can be updated`,
            },
          ],
        })
        continue
      }
      const [current] = matching ? matches : []
      if (!current) {
        const id = uuidv7()
        creates.push({
          line,
          id,
          values: plan.newRecord(wanted, { organizationId, id, ownerId: ownerId ?? actor.userId }),
        })
        continue
      }
      if (!allows(actor, plan.actions.update, current.ownerId)) {
        fail(report, line, {
          code: 'FORBIDDEN',
          errors: [{ field: 'row', message: `a member may only update their own ${plan.plural}` }],
        })
        continue
      }
      const changes = plan.changes(current, wanted) as Changes & { ownerId?: string }
      if (ownerId !== undefined && current.ownerId !== ownerId) changes.ownerId = ownerId
      if (Object.keys(changes).length === 0) report.unchanged += 1
      else updates.push({ line, before: current, changes })
    }

    report.created = creates.length
    report.updated = updates.length
    if (options.dryRun) return
    // Each written row goes through the after-write hook, as a record written by the JSON routes does.
    for (let i = 0; i < creates.length; i += INSERT_CHUNK) {
      const chunk = creates.slice(i, i + INSERT_CHUNK)
      const written = await plan.insert(
        tx,
        chunk.map((create) => create.values),
      )
      const writtenIds = new Set(written.map((row) => row.id))
      for (const create of chunk) {
        if (writtenIds.has(create.id) || !plan.unique) continue
        report.created -= 1
        fail(report, create.line, plan.unique)
      }
      for (const row of written) await afterWrite(tx, actor, plan.created(row))
    }
    for (const { line, before, changes } of updates) {
      const row = await plan.update(tx, organizationId, before.id, changes)
      if (!row) {
        report.updated -= 1
        fail(report, line, plan.gone)
        continue
      }
      await afterWrite(tx, actor, plan.updated(before, row))
    }
  })
  report.failed.sort((a, b) => a.row - b.row)
  return report
}
