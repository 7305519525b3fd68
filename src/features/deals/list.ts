import { and, eq, gte, ilike, inArray, lte, type SQL } from 'drizzle-orm'
import type { Executor } from '../../db/client.js'
import { type DealStage, type DealStatus, deals } from '../../db/schema.js'
import type { ListRequest, SortKey } from '../../lib/list.js'
import { parseAmount } from '../../lib/money.js'
import { type SortOrder, substringPattern } from '../../lib/search.js'
import type { DEAL_SORT_FIELDS } from './schemas.js'

type DealRow = typeof deals.$inferSelect

export interface DealListFilters {
  statuses?: DealStatus[] | undefined
  stages?: DealStage[] | undefined
  ownerId?: string | undefined
  contactId?: string | undefined
  minAmount?: string | undefined
  maxAmount?: string | undefined
  search?: string | undefined
  orderBy: (typeof DEAL_SORT_FIELDS)[number]
  order: SortOrder
}

const SORT_KEYS: Record<DealListFilters['orderBy'], { key: SortKey; value: (row: DealRow) => string }> = {
  created_at: {
    key: { column: deals.createdAt, cast: 'timestamptz' },
    value: (r) => r.createdAt.toISOString(),
  },
  updated_at: {
    key: { column: deals.updatedAt, cast: 'timestamptz' },
    value: (r) => r.updatedAt.toISOString(),
  },
  amount: { key: { column: deals.amount, cast: 'numeric' }, value: (r) => r.amount },
  title: { key: { column: deals.title, cast: 'text' }, value: (r) => r.title },
}

/**
 * The deal list as the list engine (lib/list.ts) and the export read it: conditions, keyset order, what a cursor
 * is bound to, and how the total is known. v1.1 filters (company, expected close dates) are more conditions here.
 */
export function dealList(db: Executor, organizationId: string, filters: DealListFilters) {
  const conditions: SQL[] = [eq(deals.organizationId, organizationId)]
  if (filters.statuses?.length) conditions.push(inArray(deals.status, filters.statuses))
  if (filters.stages?.length) conditions.push(inArray(deals.stage, filters.stages))
  if (filters.ownerId) conditions.push(eq(deals.ownerId, filters.ownerId))
  if (filters.contactId) conditions.push(eq(deals.contactId, filters.contactId))
  if (filters.minAmount !== undefined) conditions.push(gte(deals.amount, filters.minAmount))
  if (filters.maxAmount !== undefined) conditions.push(lte(deals.amount, filters.maxAmount))
  if (filters.search) conditions.push(ilike(deals.title, substringPattern(filters.search)))
  const sort = SORT_KEYS[filters.orderBy]
  return {
    list: 'deals',
    base: conditions,
    ordering: { keys: [sort.key, { column: deals.id, cast: 'uuid' as const }], direction: filters.order },
    binding: {
      status: filters.statuses,
      stage: filters.stages,
      owner_id: filters.ownerId,
      contact_id: filters.contactId,
      min_amount: filters.minAmount,
      max_amount: filters.maxAmount,
      search: filters.search,
      order_by: filters.orderBy,
      order: filters.order,
    },
    count:
      conditions.length > 1
        ? { kind: 'cached' as const, table: deals, lists: ['deals'] }
        : { kind: 'counter' as const, list: 'deals' },
    valuesOf: (row: DealRow) => [sort.value(row), row.id],
    run: (where: SQL | undefined, orderBy: SQL[], limit: number, offset: number) =>
      db
        .select()
        .from(deals)
        .where(and(where))
        .orderBy(...orderBy)
        .limit(limit)
        .offset(offset),
  } satisfies Omit<ListRequest<DealRow>, 'tools' | 'db' | 'organizationId' | 'params'>
}

/** The list's filters from its query string (amount bounds checked like body amounts), defaults applied. */
export function dealFiltersOf(query: {
  status?: DealStatus[] | undefined
  stage?: DealStage[] | undefined
  owner_id?: string | undefined
  contact_id?: string | undefined
  min_amount?: string | undefined
  max_amount?: string | undefined
  search?: string | undefined
  order_by?: DealListFilters['orderBy'] | undefined
  order?: SortOrder | undefined
}): DealListFilters {
  return {
    statuses: query.status,
    stages: query.stage,
    ownerId: query.owner_id,
    contactId: query.contact_id,
    minAmount:
      query.min_amount === undefined ? undefined : parseAmount(query.min_amount, 'querystring.min_amount'),
    maxAmount:
      query.max_amount === undefined ? undefined : parseAmount(query.max_amount, 'querystring.max_amount'),
    search: query.search,
    orderBy: query.order_by ?? 'created_at',
    order: query.order ?? 'desc',
  }
}
