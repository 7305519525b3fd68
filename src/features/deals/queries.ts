import { and, eq, getTableColumns, type Placeholder, sql } from 'drizzle-orm'
import {
  type Db,
  type Executor,
  fixedStatement,
  param,
  prepared,
  rowFromSql,
  type Tx,
  writeWithEffects,
} from '../../db/client.js'
import { contacts, deals } from '../../db/schema.js'
import { writeActivitiesSql } from '../activities/writer.js'
import { dealProbabilitySql } from '../pipeline/probability.js'
import { afterDealChangeSql } from '../writes/after-write.js'
import type { DealContact, DealRow } from './schemas.js'

export type { DealRow }

/**
 * Every column and the two derived fields of spec §12, computed by the database on every read, for deals of
 * `organizationId` (a placeholder or a value: every deal statement reads one organization's deals): the
 * probability now (never stored), and amount × probability / 100 rounded half up to cents, in NUMERIC (amounts
 * are never negative).
 */
export function dealSelection(organizationId: Placeholder | string) {
  const probability = dealProbabilitySql(organizationId, deals.status, deals.stage)
  return {
    ...getTableColumns(deals),
    probability: probability.mapWith(Number).as('probability'),
    weightedAmount: sql<string>`round(${deals.amount} * ${probability} / 100, 2)::text`.as('weighted_amount'),
  }
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
    .select({ deal: dealSelection(organizationId), contact: contactSelection })
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
      .select(dealSelection(sql.placeholder('organizationId')))
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
    .select(dealSelection(organizationId))
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
    .returning(dealSelection(values.organizationId))
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
 * The deal PATCH as one fixed statement (its text is the same for every change, so it is built once and stays
 * prepared): a column is set when its value is not null, except the two nullable columns, which carry a flag.
 * The guard: the status, stage, amount and owner the rules were checked against.
 */
const updateDealStatement = fixedStatement(() =>
  writeWithEffects(
    'updated',
    sql`UPDATE ${deals} SET
      title = coalesce(${param('title')}::text, title),
      amount = coalesce(${param('amount')}::numeric, amount),
      currency = coalesce(${param('currency')}::text, currency),
      status = coalesce(${param('status')}::text, status),
      stage = coalesce(${param('stage')}::text, stage),
      contact_id = coalesce(${param('contactId')}::uuid, contact_id),
      owner_id = coalesce(${param('ownerId')}::uuid, owner_id),
      expected_close_date = CASE WHEN ${param('setsExpectedCloseDate')}::boolean
        THEN ${param('expectedCloseDate')}::date ELSE expected_close_date END,
      lost_reason = CASE WHEN ${param('setsLostReason')}::boolean THEN ${param('lostReason')}::text ELSE lost_reason END,
      stage_changed_by = coalesce(${param('stageChangedBy')}::uuid, stage_changed_by),
      updated_at = now()
    WHERE organization_id = ${param('organizationId')}::uuid AND id = ${param('id')}::uuid
      AND status = ${param('checkedStatus')}::text AND stage = ${param('checkedStage')}::text
      AND amount = ${param('checkedAmount')}::numeric AND owner_id = ${param('checkedOwnerId')}::uuid
    RETURNING *`,
    (updated) => [writeActivitiesSql(updated), ...afterDealChangeSql(updated)],
    sql`SELECT updated.*, ${derivedColumnsOf('updated')} FROM updated`,
  ),
)

/**
 * One statement that applies `changes` only if the deal still has the status, stage, amount and owner the rules
 * were checked against, and writes its activities and after-write effects with it (`effects`: the values of
 * `writeActivitiesValues` and `afterDealChangeValues`): all or nothing. Returns undefined when a concurrent
 * change got there first; the caller reads again and re-checks. Of two racing changes exactly one matches, so
 * each activity's old value is the value it really replaced. Raw SQL: a data-modifying CTE, W4's hot path.
 */
export async function updateDealIfUnchanged(
  db: Executor,
  current: DealRow,
  changes: DealChanges,
  effects: Record<string, unknown>,
): Promise<DealRow | undefined> {
  const [row] = await updateDealStatement(db, {
    title: changes.title ?? null,
    amount: changes.amount ?? null,
    currency: changes.currency ?? null,
    status: changes.status ?? null,
    stage: changes.stage ?? null,
    contactId: changes.contactId ?? null,
    ownerId: changes.ownerId ?? null,
    setsExpectedCloseDate: changes.expectedCloseDate !== undefined,
    expectedCloseDate: changes.expectedCloseDate ?? null,
    setsLostReason: changes.lostReason !== undefined,
    lostReason: changes.lostReason ?? null,
    stageChangedBy: changes.stageChangedBy ?? null,
    organizationId: current.organizationId,
    id: current.id,
    checkedStatus: current.status,
    checkedStage: current.stage,
    checkedAmount: current.amount,
    checkedOwnerId: current.ownerId,
    ...effects,
  })
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
