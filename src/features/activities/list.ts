import { and, eq, type SQL } from 'drizzle-orm'
import type { Executor } from '../../db/client.js'
import { activities } from '../../db/schema.js'
import type { ListRequest } from '../../lib/list.js'
import { selectActivities } from './queries.js'

type ActivityRow = Awaited<ReturnType<typeof selectActivities>>[number]

/**
 * A deal's feed for the list engine: newest first, ties by id. The total is a direct count on the
 * (organization_id, deal_id, created_at, id) index: one deal's feed, not an organization's.
 */
export function activityList(db: Executor, organizationId: string, dealId: string) {
  return {
    list: 'activities',
    base: [eq(activities.organizationId, organizationId), eq(activities.dealId, dealId)],
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
    valuesOf: (row: ActivityRow) => [row.createdAt.toISOString(), row.id],
    run: (where: SQL | undefined, orderBy: SQL[], limit: number, offset: number) =>
      selectActivities(db)
        .where(and(where))
        .orderBy(...orderBy)
        .limit(limit)
        .offset(offset),
  } satisfies Omit<ListRequest<ActivityRow>, 'tools' | 'db' | 'organizationId' | 'params'>
}
