import { and, asc, count, desc, eq, gte, ilike, inArray, lte, type SQL, sql } from 'drizzle-orm'
import type { Executor, Tx } from '../../db/client.js'
import { type DealStage, type DealStatus, deals } from '../../db/schema.js'
import { formatMoney } from '../../lib/money.js'
import { type SortOrder, substringPattern } from '../../lib/search.js'
import type { DEAL_SORT_FIELDS } from './schemas.js'

type DealRow = typeof deals.$inferSelect

export function dealBody(row: DealRow) {
  return {
    id: row.id,
    organization_id: row.organizationId,
    contact_id: row.contactId,
    owner_id: row.ownerId,
    title: row.title,
    amount: formatMoney(row.amount),
    currency: row.currency,
    status: row.status,
    stage: row.stage,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  }
}

function byId(organizationId: string, id: string) {
  return and(eq(deals.organizationId, organizationId), eq(deals.id, id))
}

export async function findDeal(db: Executor, organizationId: string, id: string) {
  const [row] = await db.select().from(deals).where(byId(organizationId, id))
  return row
}

/**
 * Reads the deal and locks it until the transaction ends: concurrent changes of one deal queue here, and each
 * reads the values the previous one committed. NO KEY UPDATE (the key never changes) still lets tasks and
 * activities be inserted on the deal meanwhile; a delete upgrades the lock.
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

export async function updateDeal(tx: Tx, organizationId: string, id: string, changes: DealChanges) {
  const [row] = await tx
    .update(deals)
    .set({ ...changes, updatedAt: sql`now()` })
    .where(byId(organizationId, id))
    .returning()
  return row as DealRow
}

export async function deleteDeal(tx: Tx, organizationId: string, id: string): Promise<void> {
  await tx.delete(deals).where(byId(organizationId, id))
}
