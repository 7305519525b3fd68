import { eq, getTableColumns, ilike, or, type Placeholder, type SQL } from 'drizzle-orm'
import type { Executor } from '../../db/client.js'
import { contacts } from '../../db/schema.js'
import { isoTimestamp } from '../../lib/dates.js'
import { type ListRequest, listMetaColumn, listValues, type SortKey } from '../../lib/list.js'
import { type SortOrder, substringPattern } from '../../lib/search.js'
import type { CONTACT_SORT_FIELDS } from './schemas.js'

type ContactRow = typeof contacts.$inferSelect

export interface ContactListFilters {
  search?: string | undefined
  ownerId?: string | undefined
  companyId?: string | undefined
  orderBy: (typeof CONTACT_SORT_FIELDS)[number]
  order: SortOrder
}

const SORT_KEYS: Record<ContactListFilters['orderBy'], { key: SortKey; value: (row: ContactRow) => string }> =
  {
    created_at: {
      key: { column: contacts.createdAt, cast: 'timestamptz' },
      value: (r) => isoTimestamp(r.createdAt),
    },
    name: { key: { column: contacts.name, cast: 'text' }, value: (r) => r.name },
  }

/** The contact list for the list engine and the export (see deals/list.ts). */
export function contactList(db: Executor, organizationId: string, filters: ContactListFilters) {
  const { values, organization, bind } = listValues(organizationId)
  const conditions: SQL[] = [eq(contacts.organizationId, organization)]
  if (filters.ownerId) conditions.push(eq(contacts.ownerId, bind('owner_id', filters.ownerId)))
  if (filters.companyId) conditions.push(eq(contacts.companyId, bind('company_id', filters.companyId)))
  if (filters.search) {
    const pattern = bind('search', substringPattern(filters.search))
    conditions.push(or(ilike(contacts.name, pattern), ilike(contacts.email, pattern)) as SQL)
  }
  const sort = SORT_KEYS[filters.orderBy]
  return {
    list: 'contacts',
    shape: `${filters.orderBy} ${filters.order}`,
    base: conditions,
    values,
    ordering: { keys: [sort.key, { column: contacts.id, cast: 'uuid' as const }], direction: filters.order },
    binding: {
      search: filters.search,
      owner_id: filters.ownerId,
      company_id: filters.companyId,
      order_by: filters.orderBy,
      order: filters.order,
    },
    table: contacts,
    count:
      conditions.length > 1
        ? { kind: 'cached' as const, lists: ['contacts'] }
        : { kind: 'counter' as const, list: 'contacts' },
    valuesOf: (row: ContactRow) => [sort.value(row), row.id],
    run: (where: SQL | undefined, orderBy: SQL[], limit: Placeholder, meta?: SQL) =>
      db
        .select({ ...getTableColumns(contacts), listMeta: listMetaColumn(meta) })
        .from(contacts)
        .where(where)
        .orderBy(...orderBy)
        .limit(limit),
  } satisfies Omit<ListRequest<ContactRow>, 'tools' | 'db' | 'organizationId' | 'params'>
}
