import { eq, type Placeholder, type SQL } from 'drizzle-orm'
import type { Executor } from '../../db/client.js'
import { activities } from '../../db/schema.js'
import { isoTimestamp } from '../../lib/dates.js'
import { type ListRequest, listValues } from '../../lib/list.js'
import { selectActivities } from './queries.js'

type ActivityRow = Awaited<ReturnType<typeof selectActivities>>[number]

/**
 * A deal's feed for the list engine: newest first, ties by id. The total is a direct count on the
 * (organization_id, deal_id, created_at, id) index: one deal's feed, not an organization's.
 */
export function activityList(db: Executor, organizationId: string, dealId: string) {
  const { values, organization, bind } = listValues(organizationId)
  return {
    list: 'activities',
    shape: '',
    base: [eq(activities.organizationId, organization), eq(activities.dealId, bind('deal_id', dealId))],
    values,
    ordering: {
      keys: [
        { column: activities.createdAt, cast: 'timestamptz' as const },
        { column: activities.id, cast: 'uuid' as const },
      ],
      direction: 'desc' as const,
    },
    binding: { deal_id: dealId },
    table: activities,
    count: { kind: 'direct' as const },
    valuesOf: (row: ActivityRow) => [isoTimestamp(row.createdAt), row.id],
    run: (where: SQL | undefined, orderBy: SQL[], limit: Placeholder) =>
      selectActivities(db)
        .where(where)
        .orderBy(...orderBy)
        .limit(limit),
  } satisfies Omit<ListRequest<ActivityRow>, 'tools' | 'db' | 'organizationId' | 'params'>
}
