import { and, eq, gte, ilike, inArray, lte, type SQL } from 'drizzle-orm'
import type { Executor } from '../../db/client.js'
import { contacts, type DealStage, type DealStatus, deals } from '../../db/schema.js'
import { isoTimestamp } from '../../lib/dates.js'
import { type ListSpec, listMetaColumn, listValues, type SortKey } from '../../lib/list.js'
import { parseAmount } from '../../lib/money.js'
import { type SortOrder, substringPattern } from '../../lib/search.js'
import { contactSelection, dealSelection, withContact } from './queries.js'
import type { DEAL_SORT_FIELDS, DealContact, DealRow } from './schemas.js'

/** A listed deal, with its contact when `expand=contact`. */
export interface DealListRow {
  deal: DealRow
  contact?: DealContact | undefined
}

export interface DealListFilters {
  statuses?: DealStatus[] | undefined
  stages?: DealStage[] | undefined
  ownerId?: string | undefined
  contactId?: string | undefined
  companyId?: string | undefined
  minAmount?: string | undefined
  maxAmount?: string | undefined
  search?: string | undefined
  expectedCloseBefore?: string | undefined
  expectedCloseAfter?: string | undefined
  expandContact?: boolean
  orderBy: (typeof DEAL_SORT_FIELDS)[number]
  order: SortOrder
}

const SORT_KEYS: Record<
  DealListFilters['orderBy'],
  { key: SortKey; value: (row: DealRow) => string | null }
> = {
  created_at: {
    key: { column: deals.createdAt, cast: 'timestamptz' },
    value: (r) => isoTimestamp(r.createdAt),
  },
  updated_at: {
    key: { column: deals.updatedAt, cast: 'timestamptz' },
    value: (r) => isoTimestamp(r.updatedAt),
  },
  amount: { key: { column: deals.amount, cast: 'numeric' }, value: (r) => r.amount },
  title: { key: { column: deals.title, cast: 'text' }, value: (r) => r.title },
  // Deals without a date last in both directions (spec §12): two index ranges, see lib/list.ts.
  expected_close_date: {
    key: { column: deals.expectedCloseDate, cast: 'date', nullable: true },
    value: (r) => r.expectedCloseDate,
  },
}

/**
 * The deal list as the list engine (lib/list.ts) and the export read it: conditions, keyset order, what a cursor
 * is bound to, and how the total is known.
 */
export function dealList(
  db: Executor,
  organizationId: string,
  filters: DealListFilters,
): ListSpec<DealListRow> {
  const { values, organization, bind } = listValues(organizationId)
  const conditions: SQL[] = [eq(deals.organizationId, organization)]
  // One placeholder per value: `IN ($n)` of one value is planned as `=`, which walks the (status, amount) or
  // (stage, …) index in order; `= ANY($n)` is not, before PostgreSQL 17 (a bitmap scan and a sort of every match).
  const each = (name: string, list: string[]) =>
    [...new Set(list)].map((value, n) => bind(`${name}_${n}`, value))
  if (filters.statuses?.length) conditions.push(inArray(deals.status, each('status', filters.statuses)))
  if (filters.stages?.length) conditions.push(inArray(deals.stage, each('stage', filters.stages)))
  if (filters.ownerId) conditions.push(eq(deals.ownerId, bind('owner_id', filters.ownerId)))
  if (filters.contactId) conditions.push(eq(deals.contactId, bind('contact_id', filters.contactId)))
  if (filters.companyId) {
    // Deals whose contact belongs to the company (contacts_org_company_idx).
    conditions.push(
      inArray(
        deals.contactId,
        db
          .select({ id: contacts.id })
          .from(contacts)
          .where(
            and(
              eq(contacts.organizationId, organization),
              eq(contacts.companyId, bind('company_id', filters.companyId)),
            ),
          ),
      ),
    )
  }
  if (filters.minAmount !== undefined)
    conditions.push(gte(deals.amount, bind('min_amount', filters.minAmount)))
  if (filters.maxAmount !== undefined)
    conditions.push(lte(deals.amount, bind('max_amount', filters.maxAmount)))
  if (filters.search) conditions.push(ilike(deals.title, bind('search', substringPattern(filters.search))))
  if (filters.expectedCloseAfter !== undefined) {
    conditions.push(gte(deals.expectedCloseDate, bind('close_after', filters.expectedCloseAfter)))
  }
  if (filters.expectedCloseBefore !== undefined) {
    conditions.push(lte(deals.expectedCloseDate, bind('close_before', filters.expectedCloseBefore)))
  }
  const sort = SORT_KEYS[filters.orderBy]
  return {
    list: 'deals',
    shape: `${filters.orderBy} ${filters.order}${filters.expandContact ? ' expand=contact' : ''}`,
    base: conditions,
    values,
    ordering: { keys: [sort.key, { column: deals.id, cast: 'uuid' }], direction: filters.order },
    binding: {
      status: filters.statuses,
      stage: filters.stages,
      owner_id: filters.ownerId,
      contact_id: filters.contactId,
      company_id: filters.companyId,
      min_amount: filters.minAmount,
      max_amount: filters.maxAmount,
      search: filters.search,
      expected_close_before: filters.expectedCloseBefore,
      expected_close_after: filters.expectedCloseAfter,
      order_by: filters.orderBy,
      order: filters.order,
    },
    // company_id reads contacts too: its cached count must move with contact writes.
    table: deals,
    count:
      conditions.length > 1
        ? { kind: 'cached', lists: filters.companyId ? ['deals', 'contacts'] : ['deals'] }
        : { kind: 'counter', list: 'deals' },
    valuesOf: (row) => [sort.value(row.deal), row.deal.id],
    run: (where, orderBy, limit, meta) => {
      if (filters.expandContact) {
        // The page and its contacts in one query (a join on the contact's primary key), never one per deal.
        return db
          .select({
            deal: dealSelection(organization),
            contact: contactSelection,
            listMeta: listMetaColumn(meta),
          })
          .from(deals)
          .innerJoin(contacts, withContact())
          .where(where)
          .orderBy(...orderBy)
          .limit(limit)
      }
      return db
        .select({ deal: dealSelection(organization), listMeta: listMetaColumn(meta) })
        .from(deals)
        .where(where)
        .orderBy(...orderBy)
        .limit(limit)
    },
  }
}

/** The list's filters from its query string (amount bounds checked like body amounts). */
export function dealFiltersOf(query: {
  status?: DealStatus[] | undefined
  stage?: DealStage[] | undefined
  owner_id?: string | undefined
  contact_id?: string | undefined
  company_id?: string | undefined
  min_amount?: string | undefined
  max_amount?: string | undefined
  search?: string | undefined
  expected_close_before?: string | undefined
  expected_close_after?: string | undefined
  expand?: string | undefined
  order_by: DealListFilters['orderBy']
  order: SortOrder
}): DealListFilters {
  return {
    statuses: query.status,
    stages: query.stage,
    ownerId: query.owner_id,
    contactId: query.contact_id,
    companyId: query.company_id,
    minAmount:
      query.min_amount === undefined ? undefined : parseAmount(query.min_amount, 'querystring.min_amount'),
    maxAmount:
      query.max_amount === undefined ? undefined : parseAmount(query.max_amount, 'querystring.max_amount'),
    search: query.search,
    expectedCloseBefore: query.expected_close_before,
    expectedCloseAfter: query.expected_close_after,
    expandContact: query.expand === 'contact',
    orderBy: query.order_by,
    order: query.order,
  }
}
