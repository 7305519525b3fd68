import { and, eq, getTableColumns, gte, inArray, lte, type Placeholder, type SQL, sql } from 'drizzle-orm'
import type { Executor } from '../../db/client.js'
import { deals, tasks } from '../../db/schema.js'
import { isoTimestamp } from '../../lib/dates.js'
import { type ListRequest, listMetaColumn, listValues } from '../../lib/list.js'

type TaskRow = typeof tasks.$inferSelect

export interface TaskListFilters {
  dealId?: string | undefined
  /** Only tasks on deals this user owns. */
  dealOwnerId?: string | undefined
  onlyOpen?: boolean | undefined
  dueBefore?: string | undefined
  dueAfter?: string | undefined
}

/**
 * The task list for the list engine and the export: due date ascending with undated tasks last, then created_at,
 * then id. A NULL due date fails both comparisons, so undated tasks never match a due-date filter.
 */
export function taskList(db: Executor, organizationId: string, filters: TaskListFilters) {
  const { values, organization, bind } = listValues(organizationId)
  const conditions: SQL[] = [eq(tasks.organizationId, organization)]
  if (filters.dealId !== undefined) conditions.push(eq(tasks.dealId, bind('deal_id', filters.dealId)))
  if (filters.dealOwnerId !== undefined) {
    // The owner's deals in this organization (deals_org_owner_created_idx), then their tasks by deal.
    conditions.push(
      inArray(
        tasks.dealId,
        db
          .select({ id: deals.id })
          .from(deals)
          .where(
            and(
              eq(deals.organizationId, organization),
              eq(deals.ownerId, bind('deal_owner_id', filters.dealOwnerId)),
            ),
          ),
      ),
    )
  }
  // Spelled as the partial index's predicate (NOT is_done), so the planner can use it.
  if (filters.onlyOpen) conditions.push(sql`NOT ${tasks.isDone}`)
  if (filters.dueBefore !== undefined)
    conditions.push(lte(tasks.dueDate, bind('due_before', filters.dueBefore)))
  if (filters.dueAfter !== undefined) conditions.push(gte(tasks.dueDate, bind('due_after', filters.dueAfter)))
  return {
    list: 'tasks',
    // Open-only adds a condition without a value: the bound names alone do not show it.
    shape: filters.onlyOpen ? 'open' : 'all',
    base: conditions,
    values,
    ordering: {
      keys: [
        { column: tasks.dueDate, cast: 'date' as const, nullable: true },
        { column: tasks.createdAt, cast: 'timestamptz' as const },
        { column: tasks.id, cast: 'uuid' as const },
      ],
      direction: 'asc' as const,
    },
    binding: {
      deal_id: filters.dealId,
      deal_owner_id: filters.dealOwnerId,
      only_open: filters.onlyOpen,
      due_before: filters.dueBefore,
      due_after: filters.dueAfter,
    },
    table: tasks,
    count:
      conditions.length > 1
        ? {
            kind: 'cached' as const,
            // A deal changing owner changes which tasks the owner filter matches: deal writes move the count on.
            lists: filters.dealOwnerId === undefined ? ['tasks'] : ['tasks', 'deals'],
          }
        : { kind: 'counter' as const, list: 'tasks' },
    valuesOf: (row: TaskRow) => [row.dueDate, isoTimestamp(row.createdAt), row.id],
    run: (where: SQL | undefined, orderBy: SQL[], limit: Placeholder, meta?: SQL) =>
      db
        .select({ ...getTableColumns(tasks), listMeta: listMetaColumn(meta) })
        .from(tasks)
        .where(where)
        .orderBy(...orderBy)
        .limit(limit),
  } satisfies Omit<ListRequest<TaskRow>, 'tools' | 'db' | 'organizationId' | 'params'>
}
