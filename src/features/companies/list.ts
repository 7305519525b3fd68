import { eq, getTableColumns, ilike, or, type Placeholder, type SQL } from 'drizzle-orm'
import type { Executor } from '../../db/client.js'
import { companies } from '../../db/schema.js'
import { isoTimestamp } from '../../lib/dates.js'
import { type ListRequest, listMetaColumn, listValues, type SortKey } from '../../lib/list.js'
import { type SortOrder, substringPattern } from '../../lib/search.js'
import type { COMPANY_SORT_FIELDS } from './schemas.js'

type CompanyRow = typeof companies.$inferSelect

export interface CompanyListFilters {
  search?: string | undefined
  ownerId?: string | undefined
  orderBy: (typeof COMPANY_SORT_FIELDS)[number]
  order: SortOrder
}

const SORT_KEYS: Record<CompanyListFilters['orderBy'], { key: SortKey; value: (row: CompanyRow) => string }> =
  {
    created_at: {
      key: { column: companies.createdAt, cast: 'timestamptz' },
      value: (r) => isoTimestamp(r.createdAt),
    },
    name: { key: { column: companies.name, cast: 'text' }, value: (r) => r.name },
  }

/** The list's filters from its query string (the list and the export take the same). */
export function companyFiltersOf(query: {
  search?: string | undefined
  owner_id?: string | undefined
  order_by?: CompanyListFilters['orderBy'] | undefined
  order?: SortOrder | undefined
}): CompanyListFilters {
  return {
    search: query.search,
    ownerId: query.owner_id,
    orderBy: query.order_by ?? 'created_at',
    order: query.order ?? 'desc',
  }
}

/** The company list for the list engine and the export (see deals/list.ts). */
export function companyList(db: Executor, organizationId: string, filters: CompanyListFilters) {
  const { values, organization, bind } = listValues(organizationId)
  const conditions: SQL[] = [eq(companies.organizationId, organization)]
  if (filters.ownerId) conditions.push(eq(companies.ownerId, bind('owner_id', filters.ownerId)))
  if (filters.search) {
    const pattern = bind('search', substringPattern(filters.search))
    conditions.push(or(ilike(companies.name, pattern), ilike(companies.domain, pattern)) as SQL)
  }
  const sort = SORT_KEYS[filters.orderBy]
  return {
    list: 'companies',
    shape: `${filters.orderBy} ${filters.order}`,
    base: conditions,
    values,
    ordering: { keys: [sort.key, { column: companies.id, cast: 'uuid' as const }], direction: filters.order },
    binding: {
      search: filters.search,
      owner_id: filters.ownerId,
      order_by: filters.orderBy,
      order: filters.order,
    },
    table: companies,
    count:
      conditions.length > 1
        ? { kind: 'cached' as const, lists: ['companies'] }
        : { kind: 'counter' as const, list: 'companies' },
    valuesOf: (row: CompanyRow) => [sort.value(row), row.id],
    run: (where: SQL | undefined, orderBy: SQL[], limit: Placeholder, meta?: SQL) =>
      db
        .select({ ...getTableColumns(companies), listMeta: listMetaColumn(meta) })
        .from(companies)
        .where(where)
        .orderBy(...orderBy)
        .limit(limit),
  } satisfies Omit<ListRequest<CompanyRow>, 'tools' | 'db' | 'organizationId' | 'params'>
}
