import { type SQL, sql } from 'drizzle-orm'
import { type Executor, queryRows } from '../../db/client.js'
import type { DealStage, DealStatus } from '../../db/schema.js'
import { defaultStageProbabilitySql } from '../pipeline/probability.js'

/*
 * Every query reads the aggregate rows the deals_after_write trigger keeps exact in each writing transaction
 * (deal_totals, deal_created_days; migration 0002), never the organization's deals one by one: a handful of rows
 * per (currency, status, stage, month, shard) whatever the number of deals. Money is summed in NUMERIC.
 */

/**
 * The weighted sum of an aggregate row at the stage's current probability: the kept sum when the row holds that
 * probability (nearly always), else the exact sum from its cents histogram (a row written concurrently with a
 * pipeline change).
 */
const weightedOfRow = sql.raw(`CASE WHEN t.probability = pr.p
  THEN t.weighted ELSE deal_totals_weighted(t.cents_hist, t.amount, pr.p) END`)

/** The stage's probability now (its pipeline_stages row, else the default) as `pr.p`, one lookup per stage. */
const stageProbabilityJoin =
  sql.raw(`LEFT JOIN pipeline_stages ps ON ps.organization_id = t.organization_id AND ps.stage = t.stage
    CROSS JOIN LATERAL (SELECT coalesce(ps.probability::int, ${defaultStageProbabilitySql('t.stage')}) AS p) pr`)

export interface StatusTotals {
  status: DealStatus
  /** Deals of every currency. */
  count: number
  /** NUMERIC sums as text, over deals in the requested currency only. */
  total_amount: string
  currency_count: number
}

export interface SummaryData {
  /** Only statuses that have deals. */
  byStatus: StatusTotals[]
  currencies: { currency: string; count: number }[]
  pipeline: { open_count: number; open_amount: string; weighted_amount: string }
  /** Open deals (new, in_progress) per stage that has any: the board's column totals. */
  openByStage: { stage: DealStage; count: number; currency_count: number; amount: string; weighted: string }[]
  recentCount: number
  /** Milliseconds until the oldest deal counted as recent leaves the window; null when none is counted. */
  recentWindowMovesInMs: number | null
}

export function summaryByStatusQuery(organizationId: string, currency: string): SQL {
  return sql`
    SELECT t.status, t.stage, sum(t.deal_count)::int AS count,
           coalesce(sum(t.amount) FILTER (WHERE t.currency = ${currency}), 0)::text AS total_amount,
           coalesce(sum(t.deal_count) FILTER (WHERE t.currency = ${currency}), 0)::int AS currency_count,
           coalesce(sum(${weightedOfRow}) FILTER (WHERE t.currency = ${currency}
                    AND t.status IN ('new', 'in_progress')), 0)::text AS weighted
    FROM deal_totals t ${stageProbabilityJoin}
    WHERE t.organization_id = ${organizationId}
    GROUP BY t.status, t.stage`
}

export function currenciesQuery(organizationId: string): SQL {
  return sql`
    SELECT t.currency, sum(t.deal_count)::int AS count
    FROM deal_totals t
    WHERE t.organization_id = ${organizationId}
    GROUP BY t.currency
    HAVING sum(t.deal_count) > 0
    ORDER BY count DESC, t.currency`
}

/**
 * Deals created within the last `days` × 24 h (database clock): whole UTC days after the boundary day from
 * deal_created_days, the boundary day itself counted exactly from deals_org_created_idx (at most a day of deals).
 */
export function recentQuery(organizationId: string, days: number): SQL {
  return sql`
    WITH bounds AS (
      SELECT now() - make_interval(days => ${days}::int) AS since,
             ((now() - make_interval(days => ${days}::int)) AT TIME ZONE 'UTC')::date AS boundary_day
    ), whole_days AS (
      SELECT coalesce(sum(c.deal_count), 0)::int AS count
      FROM deal_created_days c, bounds b
      WHERE c.organization_id = ${organizationId} AND c.day > b.boundary_day
    ), boundary AS (
      SELECT count(*)::int AS count
      FROM deals d, bounds b
      WHERE d.organization_id = ${organizationId} AND d.created_at >= b.since
        AND d.created_at < ((b.boundary_day + 1)::timestamp AT TIME ZONE 'UTC')
    ), oldest AS (
      -- The first entry of deals_org_created_idx in the window (a LIMIT 1, not an aggregate over the window).
      SELECT d.created_at
      FROM deals d
      WHERE d.organization_id = ${organizationId} AND d.created_at >= now() - make_interval(days => ${days}::int)
      ORDER BY d.created_at
      LIMIT 1
    )
    SELECT (SELECT count FROM whole_days) + (SELECT count FROM boundary) AS recent_count,
           (extract(epoch FROM (SELECT created_at FROM oldest) + make_interval(days => ${days}::int) - now())
             * 1000)::float8 AS recent_window_moves_in_ms`
}

export async function summaryData(
  db: Executor,
  organizationId: string,
  days: number,
  currency: string,
): Promise<SummaryData> {
  const [statusStageRows, currencyRows, recentRows] = await Promise.all([
    queryRows<{
      status: DealStatus
      stage: DealStage
      count: number
      total_amount: string
      currency_count: number
      weighted: string
    }>(db, summaryByStatusQuery(organizationId, currency)),
    queryRows<{ currency: string; count: number }>(db, currenciesQuery(organizationId)),
    queryRows<{ recent_count: number; recent_window_moves_in_ms: number | null }>(
      db,
      recentQuery(organizationId, days),
    ),
  ])
  type Row = (typeof statusStageRows)[number]
  const totalsOf = (rows: Row[]) => ({
    count: rows.reduce((sum, row) => sum + Number(row.count), 0),
    currency_count: rows.reduce((sum, row) => sum + Number(row.currency_count), 0),
    amount: addDecimals(rows.map((row) => String(row.total_amount))),
    weighted: addDecimals(rows.map((row) => String(row.weighted))),
  })
  const groupBy = <K extends string>(rows: Row[], key: (row: Row) => K) => {
    const groups = new Map<K, Row[]>()
    for (const row of rows) {
      const group = groups.get(key(row))
      if (group) group.push(row)
      else groups.set(key(row), [row])
    }
    return [...groups]
  }
  const open = statusStageRows.filter((row) => row.status === 'new' || row.status === 'in_progress')
  const openTotals = totalsOf(open)
  return {
    byStatus: groupBy(statusStageRows, (row) => row.status).map(([status, rows]) => {
      const totals = totalsOf(rows)
      return {
        status,
        count: totals.count,
        total_amount: totals.amount,
        currency_count: totals.currency_count,
      }
    }),
    currencies: currencyRows.map((row) => ({ currency: row.currency, count: Number(row.count) })),
    pipeline: {
      open_count: openTotals.currency_count,
      open_amount: openTotals.amount,
      weighted_amount: openTotals.weighted,
    },
    openByStage: groupBy(open, (row) => row.stage).map(([stage, rows]) => ({ stage, ...totalsOf(rows) })),
    recentCount: Number(recentRows[0]?.recent_count ?? 0),
    recentWindowMovesInMs: recentRows[0]?.recent_window_moves_in_ms ?? null,
  }
}

/** Exact sum of non-negative or negative decimal strings with at most two decimals (cents in BigInt). */
export function addDecimals(values: string[]): string {
  let cents = 0n
  for (const value of values) {
    const negative = value.startsWith('-')
    const [whole = '0', fraction = ''] = (negative ? value.slice(1) : value).split('.')
    const part = BigInt(whole + fraction.padEnd(2, '0').slice(0, 2))
    cents += negative ? -part : part
  }
  const negative = cents < 0n
  const digits = (negative ? -cents : cents).toString().padStart(3, '0')
  return `${negative ? '-' : ''}${digits.slice(0, -2)}.${digits.slice(-2)}`
}

export interface StageStatusCount {
  stage: DealStage
  status: DealStatus
  count: number
}

export function stageStatusQuery(organizationId: string): SQL {
  return sql`
    SELECT t.stage, t.status, sum(t.deal_count)::int AS count
    FROM deal_totals t
    WHERE t.organization_id = ${organizationId}
    GROUP BY t.stage, t.status`
}

export async function stageStatusCounts(db: Executor, organizationId: string): Promise<StageStatusCount[]> {
  const rows = await queryRows<StageStatusCount>(db, stageStatusQuery(organizationId))
  return rows.map((row) => ({ ...row, count: Number(row.count) }))
}

export interface ForecastRow {
  /** 'YYYY-MM', 'overdue' or 'unscheduled'. */
  bucket: string
  won: boolean
  count: number
  amount: string
  weighted: string
}

/**
 * Forecast buckets in one statement. Open deals: by the month of expected_close_date (before the current UTC
 * month: overdue; none: unscheduled, stored as month 'infinity'); won deals: by the UTC month of closed_at.
 * Months from the current one for `months` months; later ones are left out.
 */
export function forecastQuery(organizationId: string, currency: string, months: number): SQL {
  return sql`
    WITH bounds AS (
      SELECT date_trunc('month', now() AT TIME ZONE 'UTC')::date AS first_month,
             (date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => ${months}::int))::date AS end_month
    )
    SELECT CASE WHEN t.status = 'won' THEN to_char(t.month, 'YYYY-MM')
                WHEN t.month = 'infinity'::date THEN 'unscheduled'
                WHEN t.month < b.first_month THEN 'overdue'
                ELSE to_char(t.month, 'YYYY-MM') END AS bucket,
           t.status = 'won' AS won,
           sum(t.deal_count)::int AS count,
           sum(t.amount)::text AS amount,
           coalesce(sum(${weightedOfRow}) FILTER (WHERE t.status <> 'won'), 0)::text AS weighted
    FROM deal_totals t ${stageProbabilityJoin} CROSS JOIN bounds b
    WHERE t.organization_id = ${organizationId} AND t.currency = ${currency}
      AND (t.status IN ('new', 'in_progress') AND (t.month < b.end_month OR t.month = 'infinity'::date)
           OR t.status = 'won' AND t.month >= b.first_month AND t.month < b.end_month)
    GROUP BY 1, 2`
}

/** The current UTC month and the milliseconds left in it: the forecast's first month and its cache expiry. */
export function forecastClockQuery(): SQL {
  return sql`SELECT to_char(date_trunc('month', now() AT TIME ZONE 'UTC'), 'YYYY-MM') AS first_month,
                 (extract(epoch FROM (date_trunc('month', now() AT TIME ZONE 'UTC') + interval '1 month')
                   - (now() AT TIME ZONE 'UTC')) * 1000)::float8 AS next_month_in_ms`
}

export async function forecastData(db: Executor, organizationId: string, currency: string, months: number) {
  const [rows, [clock]] = await Promise.all([
    queryRows<ForecastRow>(db, forecastQuery(organizationId, currency, months)),
    queryRows<{ first_month: string; next_month_in_ms: number }>(db, forecastClockQuery()),
  ])
  return {
    rows: rows.map((row) => ({ ...row, count: Number(row.count) })),
    firstMonth: clock?.first_month as string,
    nextMonthInMs: Number(clock?.next_month_in_ms ?? 0),
  }
}

export interface VelocityRow {
  stage: DealStage | null
  exits: number
  avg_days: string | null
  median_days: string | null
}

/** Milliseconds in a day: durations are kept in milliseconds and bucketed by whole days (migration 0008). */
const DAY_MS = sql.raw('86400000')

/**
 * Stays that ended within the last `days` × 24 h per stage, and deals won within the window (creation to
 * closed_at), from the duration rows of migration 0008 instead of every stay and won deal of the window:
 * - `parts`: the duration rows of the UTC days wholly inside the window, plus the rows themselves of the
 *   window's first, partial day (index range scans on deal_stage_history_org_exited_idx and
 *   deals_org_status_closed_idx);
 * - the count and average from their sums (exact, in milliseconds);
 * - the median (`percentile_cont(0.5)`: the middle value, or the mean of the two middle values): the ranks of the
 *   middle values fall in one or two duration-days; within one, the values of exactly its whole days come first
 *   (kept as a count), the others are read from the window's rows of that day in duration order from the
 *   expression indexes of migration 0008, skipping to the rank: one read per duration-day.
 * Days with 2 decimals.
 */
export function velocityQuery(organizationId: string, days: number): SQL {
  const stayMs = sql.raw('duration_ms(h.entered_at, h.exited_at)')
  const wonMs = sql.raw('duration_ms(d.created_at, d.closed_at)')
  return sql`
    WITH bounds AS (
      SELECT t0, ((t0 AT TIME ZONE 'UTC')::date + 1) AT TIME ZONE 'UTC' AS first_full_day
      FROM (SELECT now() - make_interval(days => ${days}::int) AS t0) b
    ), partial_day AS (
      SELECT h.stage AS kind, ${stayMs} AS ms
      FROM deal_stage_history h, bounds b
      WHERE h.organization_id = ${organizationId} AND h.exited_at IS NOT NULL
        AND h.exited_at >= b.t0 AND h.exited_at < b.first_full_day
      UNION ALL
      SELECT 'won', ${wonMs}
      FROM deals d, bounds b
      WHERE d.organization_id = ${organizationId} AND d.status = 'won'
        AND d.closed_at >= b.t0 AND d.closed_at < b.first_full_day
    ), parts AS (
      SELECT t.kind, t.duration_day, t.count::bigint AS n, t.total_ms AS ms, t.at_floor::bigint AS at_floor
      FROM deal_durations t, bounds b
      WHERE t.organization_id = ${organizationId} AND t.end_day >= (b.first_full_day AT TIME ZONE 'UTC')::date
      UNION ALL
      SELECT kind, floor(ms / ${DAY_MS}.0)::int, 1, ms, (ms % ${DAY_MS} = 0)::int FROM partial_day
    ), buckets AS (
      SELECT kind, duration_day, sum(n)::bigint AS n, sum(ms) AS ms, sum(at_floor)::bigint AS at_floor
      FROM parts GROUP BY kind, duration_day HAVING sum(n) > 0
    ), cumulative AS (
      SELECT kind, duration_day, n, at_floor,
             (sum(n) OVER (PARTITION BY kind ORDER BY duration_day))::bigint AS upto,
             (sum(n) OVER (PARTITION BY kind))::bigint AS total,
             sum(ms) OVER (PARTITION BY kind) AS total_ms
      FROM buckets
    ), middles AS (
      -- The ranks of the middle values, by integer division: the same rank twice for an odd count, the two middle
      -- ranks for an even one; per duration-day that holds them, the first and last of them within that day.
      SELECT c.kind, c.total, c.total_ms, c.duration_day, c.at_floor,
             min(r.rank - (c.upto - c.n)) AS first_rank, max(r.rank - (c.upto - c.n)) AS last_rank
      FROM cumulative c
      CROSS JOIN LATERAL (VALUES ((c.total + 1) / 2), (c.total / 2 + 1)) r(rank)
      WHERE r.rank > c.upto - c.n AND r.rank <= c.upto
      GROUP BY c.kind, c.total, c.total_ms, c.duration_day, c.at_floor
    ), middle_values AS (
      -- Within a duration-day the first \`at_floor\` values are exactly its whole days; the others are read in
      -- duration order, skipping to the rank.
      SELECT m.kind, m.total, m.total_ms, v.ms
      FROM middles m, bounds b
      CROSS JOIN LATERAL (
        SELECT m.duration_day * ${DAY_MS}::bigint AS ms
        FROM generate_series(m.first_rank, least(m.last_rank, m.at_floor))
        UNION ALL
        SELECT s.ms FROM (
          SELECT ${stayMs} AS ms FROM deal_stage_history h
          WHERE m.kind <> 'won' AND m.last_rank > m.at_floor
            AND h.organization_id = ${organizationId} AND h.stage = m.kind
            AND h.exited_at IS NOT NULL AND h.exited_at >= b.t0
            AND ${stayMs} > m.duration_day * ${DAY_MS}::bigint AND ${stayMs} < (m.duration_day + 1) * ${DAY_MS}::bigint
          ORDER BY ${stayMs}
          OFFSET greatest(m.first_rank - m.at_floor, 1) - 1 LIMIT greatest(m.last_rank - greatest(m.first_rank, m.at_floor + 1) + 1, 0)) s
        UNION ALL
        SELECT w.ms FROM (
          SELECT ${wonMs} AS ms FROM deals d
          WHERE m.kind = 'won' AND m.last_rank > m.at_floor
            AND d.organization_id = ${organizationId} AND d.status = 'won' AND d.closed_at >= b.t0
            AND ${wonMs} > m.duration_day * ${DAY_MS}::bigint AND ${wonMs} < (m.duration_day + 1) * ${DAY_MS}::bigint
          ORDER BY ${wonMs}
          OFFSET greatest(m.first_rank - m.at_floor, 1) - 1 LIMIT greatest(m.last_rank - greatest(m.first_rank, m.at_floor + 1) + 1, 0)) w
      ) v
    )
    SELECT CASE kind WHEN 'won' THEN NULL ELSE kind END AS stage, total::int AS exits,
           round(total_ms / total / ${DAY_MS}.0, 2)::text AS avg_days,
           round(avg(ms) / ${DAY_MS}.0, 2)::text AS median_days
    FROM middle_values GROUP BY kind, total, total_ms`
}

export async function velocityData(db: Executor, organizationId: string, days: number) {
  const rows = await queryRows<VelocityRow>(db, velocityQuery(organizationId, days))
  return rows.map((row) => ({ ...row, exits: Number(row.exits) }))
}
