import { type SQL, sql } from 'drizzle-orm'
import { type Executor, queryRows } from '../../db/client.js'
import type { DealStage, DealStatus } from '../../db/schema.js'

export interface StatusTotals {
  status: DealStatus
  count: number
  /** NUMERIC sum as text: money never passes through a float. */
  total_amount: string
  /** Average rounded to cents in SQL (half away from zero), as text; sum / count spares avg's second sum. */
  average_amount: string
}

export interface SummaryData {
  /** Only statuses that have deals. */
  byStatus: StatusTotals[]
  recentCount: number
  /**
   * Milliseconds (from the start of the query) until the oldest deal counted as recent leaves the window;
   * null when none is counted. Until then the count can only change through a write.
   */
  recentWindowMovesInMs: number | null
}

/**
 * One statement, two index-only range scans: totals per status on deals_org_status_amount_idx
 * (organization_id, status, amount, id) and the recent count on deals_org_created_idx
 * (organization_id, created_at, id). The window is measured on the database clock, the one that set created_at.
 */
export function summaryQuery(organizationId: string, days: number): SQL {
  return sql`
    WITH by_status AS (
      SELECT status, count(*)::int AS count, sum(amount)::text AS total_amount,
             round(sum(amount) / count(*), 2)::text AS average_amount
      FROM deals
      WHERE organization_id = ${organizationId}
      GROUP BY status
    ), recent AS (
      SELECT count(*)::int AS count,
             (extract(epoch FROM min(created_at) + make_interval(days => ${days}::int) - now()) * 1000)::float8
               AS window_moves_in_ms
      FROM deals
      WHERE organization_id = ${organizationId} AND created_at >= now() - make_interval(days => ${days}::int)
    )
    SELECT b.status, b.count, b.total_amount, b.average_amount,
           r.count AS recent_count, r.window_moves_in_ms AS recent_window_moves_in_ms
    FROM recent r LEFT JOIN by_status b ON true`
}

export async function summaryData(db: Executor, organizationId: string, days: number): Promise<SummaryData> {
  const rows = await queryRows<{
    status: DealStatus | null
    count: number | null
    total_amount: string | null
    average_amount: string | null
    recent_count: number
    recent_window_moves_in_ms: number | null
  }>(db, summaryQuery(organizationId, days))
  const first = rows[0]
  return {
    byStatus: rows.flatMap((row) =>
      row.status === null
        ? []
        : [
            {
              status: row.status,
              count: Number(row.count),
              total_amount: row.total_amount ?? '0',
              average_amount: row.average_amount ?? '0',
            },
          ],
    ),
    recentCount: Number(first?.recent_count ?? 0),
    recentWindowMovesInMs: first?.recent_window_moves_in_ms ?? null,
  }
}

export interface StageStatusCount {
  stage: DealStage
  status: DealStatus
  count: number
}

/** Current deals per (stage, status): an index-only scan of deals_org_stage_status_idx. */
export function stageStatusQuery(organizationId: string): SQL {
  return sql`
    SELECT stage, status, count(*)::int AS count
    FROM deals
    WHERE organization_id = ${organizationId}
    GROUP BY stage, status`
}

export async function stageStatusCounts(db: Executor, organizationId: string): Promise<StageStatusCount[]> {
  const rows = await queryRows<StageStatusCount>(db, stageStatusQuery(organizationId))
  return rows.map((row) => ({ ...row, count: Number(row.count) }))
}
