import { and, eq, getTableColumns, type Placeholder, type SQL, sql } from 'drizzle-orm'
import {
  type Db,
  type Executor,
  prepared,
  queryRows,
  rowFromSql,
  type Tx,
  writeWithEffects,
} from '../../db/client.js'
import { contacts, deals } from '../../db/schema.js'
import { dealProbabilitySql } from '../pipeline/probability.js'
import type { DealContact, DealRow } from './schemas.js'

export type { DealRow }

/** The organization's probability for the deal now: never stored. */
const probabilitySql = dealProbabilitySql(deals.organizationId, deals.status, deals.stage)
/** amount × probability / 100 rounded half up to cents, in NUMERIC (amounts are never negative). */
const weightedSql = sql<string>`round(${deals.amount} * ${probabilitySql} / 100, 2)::text`

/** Every column and the two derived fields of spec §12, computed by the database on every read. */
export const dealSelection = {
  ...getTableColumns(deals),
  probability: probabilitySql.mapWith(Number).as('probability'),
  weightedAmount: weightedSql.as('weighted_amount'),
}

/** Raw-SQL form of the derived fields over the row source `alias` (the CTE path of the PATCH). */
function derivedColumnsOf(alias: string) {
  const column = (name: string) => sql.raw(`${alias}.${name}`)
  const p = dealProbabilitySql(column('organization_id'), column('status'), column('stage'))
  return sql`${p} AS probability, round(${column('amount')} * ${p} / 100, 2)::text AS weighted_amount`
}

export const contactSelection = {
  id: contacts.id,
  name: contacts.name,
  email: contacts.email,
  company_id: contacts.companyId,
}

export function withContact() {
  return and(eq(contacts.organizationId, deals.organizationId), eq(contacts.id, deals.contactId))
}

/** One deal with its contact (`expand=contact`): one query, a join on the contact's primary key. */
export async function findDealWithContact(
  db: Executor,
  organizationId: string,
  id: string,
): Promise<{ deal: DealRow; contact: DealContact } | undefined> {
  const [row] = await db
    .select({ deal: dealSelection, contact: contactSelection })
    .from(deals)
    .innerJoin(contacts, withContact())
    .where(byId(organizationId, id))
  return row
}

function byId(organizationId: string | Placeholder, id: string | Placeholder) {
  return and(eq(deals.organizationId, organizationId), eq(deals.id, id))
}

export async function findDeal(db: Db, organizationId: string, id: string) {
  const statement = prepared(db, 'deals_find_by_id', (database) =>
    database
      .select(dealSelection)
      .from(deals)
      .where(byId(sql.placeholder('organizationId'), sql.placeholder('id')))
      .prepare('deals_find_by_id'),
  )
  const [row] = await statement.execute({ organizationId, id })
  return row
}

/**
 * Reads the deal and locks it until the transaction ends (used by delete, which then upgrades the lock).
 * NO KEY UPDATE still lets tasks and activities be inserted on the deal meanwhile.
 */
export async function lockDeal(tx: Tx, organizationId: string, id: string) {
  const [row] = await tx
    .select(dealSelection)
    .from(deals)
    .where(byId(organizationId, id))
    .for('no key update')
  return row
}

/** Inserts a deal; without a currency it takes the organization's default_currency (spec §10). */
export async function insertDeal(
  db: Executor,
  values: Omit<typeof deals.$inferInsert, 'currency'> & { currency?: string | undefined },
) {
  const currency =
    values.currency ?? sql`(SELECT default_currency FROM organizations WHERE id = ${values.organizationId})`
  const [row] = await db
    .insert(deals)
    .values({ ...values, currency })
    .returning(dealSelection)
  return row as DealRow
}

export type DealChanges = Partial<
  Pick<
    DealRow,
    | 'title'
    | 'amount'
    | 'currency'
    | 'status'
    | 'stage'
    | 'contactId'
    | 'ownerId'
    | 'expectedCloseDate'
    | 'lostReason'
    | 'stageChangedBy'
  >
>

/**
 * One statement that applies `changes` only if the deal still has the status, stage, amount and owner the rules
 * were checked against, and runs `effects` (data-modifying CTE members over `updated`: the change's activities
 * and its after-write effects) with it: all or nothing. Returns undefined when a concurrent change got there
 * first; the caller reads again and re-checks. Of two racing changes exactly one matches, so each activity's old
 * value is the value it really replaced. Raw SQL: a data-modifying CTE, W4's measured hot path.
 */
export async function updateDealIfUnchanged(
  db: Executor,
  current: DealRow,
  changes: DealChanges,
  effects: (updated: SQL) => SQL[],
): Promise<DealRow | undefined> {
  const update = db
    .update(deals)
    .set({ ...changes, updatedAt: sql`now()` })
    .where(
      and(
        byId(current.organizationId, current.id),
        eq(deals.status, current.status),
        eq(deals.stage, current.stage),
        eq(deals.amount, current.amount),
        eq(deals.ownerId, current.ownerId),
      ),
    )
    .returning()
  const [row] = await queryRows<Record<string, unknown>>(
    db,
    writeWithEffects(
      'updated',
      update.getSQL(),
      effects,
      sql`SELECT updated.*, ${derivedColumnsOf('updated')} FROM updated`,
    ),
  )
  return row && dealRowFromSql(row)
}

/** A deals row read with raw SQL, with the derived columns of `derivedColumnsOf`. */
function dealRowFromSql(row: Record<string, unknown>): DealRow {
  return {
    ...rowFromSql(deals, row),
    probability: Number(row.probability),
    weightedAmount: String(row.weighted_amount),
  }
}

export async function deleteDeal(tx: Tx, organizationId: string, id: string): Promise<void> {
  await tx.delete(deals).where(byId(organizationId, id))
}
