import {
  and,
  asc,
  count,
  desc,
  eq,
  gte,
  ilike,
  inArray,
  lte,
  type Placeholder,
  type SQL,
  sql,
} from 'drizzle-orm'
import { type Db, type Executor, prepared, queryRows, type Tx } from '../../db/client.js'
import { type DealStage, type DealStatus, deals } from '../../db/schema.js'
import { type SortOrder, substringPattern } from '../../lib/search.js'
import type { DEAL_SORT_FIELDS } from './schemas.js'

export type DealRow = typeof deals.$inferSelect

function byId(organizationId: string | Placeholder, id: string | Placeholder) {
  return and(eq(deals.organizationId, organizationId), eq(deals.id, id))
}

export async function findDeal(db: Db, organizationId: string, id: string) {
  const statement = prepared(db, 'deals_find_by_id', (database) =>
    database
      .select()
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
  const [row] = await tx.select().from(deals).where(byId(organizationId, id)).for('no key update')
  return row
}

export interface DealFilters {
  statuses?: DealStatus[] | undefined
  stages?: DealStage[] | undefined
  ownerId?: string | undefined
  contactId?: string | undefined
  minAmount?: string | undefined
  maxAmount?: string | undefined
  search?: string | undefined
  orderBy: (typeof DEAL_SORT_FIELDS)[number]
  order: SortOrder
  limit: number
  offset: number
}

const SORT_COLUMNS = {
  created_at: deals.createdAt,
  updated_at: deals.updatedAt,
  amount: deals.amount,
  title: deals.title,
}

/** One page and the total under the same filters; the two queries run side by side on the pool. */
export async function listDeals(db: Executor, organizationId: string, filters: DealFilters) {
  const conditions: SQL[] = [eq(deals.organizationId, organizationId)]
  if (filters.statuses?.length) conditions.push(inArray(deals.status, filters.statuses))
  if (filters.stages?.length) conditions.push(inArray(deals.stage, filters.stages))
  if (filters.ownerId) conditions.push(eq(deals.ownerId, filters.ownerId))
  if (filters.contactId) conditions.push(eq(deals.contactId, filters.contactId))
  if (filters.minAmount !== undefined) conditions.push(gte(deals.amount, filters.minAmount))
  if (filters.maxAmount !== undefined) conditions.push(lte(deals.amount, filters.maxAmount))
  if (filters.search) conditions.push(ilike(deals.title, substringPattern(filters.search)))
  const where = and(...conditions)
  const direction = filters.order === 'asc' ? asc : desc
  const [rows, [counted]] = await Promise.all([
    db
      .select()
      .from(deals)
      .where(where)
      .orderBy(direction(SORT_COLUMNS[filters.orderBy]), direction(deals.id))
      .limit(filters.limit)
      .offset(filters.offset),
    db.select({ total: count() }).from(deals).where(where),
  ])
  return { rows, total: counted?.total ?? 0 }
}

export async function insertDeal(db: Executor, values: typeof deals.$inferInsert) {
  const [row] = await db.insert(deals).values(values).returning()
  return row as DealRow
}

export type DealChanges = Partial<
  Pick<DealRow, 'title' | 'amount' | 'currency' | 'status' | 'stage' | 'contactId' | 'ownerId'>
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
  const members = effects(sql`updated`).map(
    (statement, i) => sql`, ${sql.raw(`effect${i}`)} AS (${statement})`,
  )
  const [row] = await queryRows<Record<string, unknown>>(
    db,
    sql`WITH updated AS (${update.getSQL()})${sql.join(members, sql``)} SELECT * FROM updated`,
  )
  return row && dealRowFromSql(row)
}

/** A deals row read with raw SQL (snake_case columns) in the shape drizzle returns. */
function dealRowFromSql(row: Record<string, unknown>): DealRow {
  return {
    organizationId: row.organization_id as string,
    id: row.id as string,
    contactId: row.contact_id as string,
    ownerId: row.owner_id as string,
    title: row.title as string,
    amount: String(row.amount),
    currency: row.currency as string,
    status: row.status as DealStatus,
    stage: row.stage as DealStage,
    createdAt: new Date(row.created_at as string | Date),
    updatedAt: new Date(row.updated_at as string | Date),
  }
}

export async function deleteDeal(tx: Tx, organizationId: string, id: string): Promise<void> {
  await tx.delete(deals).where(byId(organizationId, id))
}
