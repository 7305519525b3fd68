import { DEAL_STAGES, DEAL_STATUSES, type DealStage, type DealStatus } from '../../db/schema.js'
import { formatMoney } from '../../lib/money.js'
import type { ForecastRow, StageStatusCount, SummaryData, VelocityRow } from './queries.js'

/**
 * round(numerator / denominator, decimals), half up, from integer counts. Exact: the scaled quotient is
 * computed once, and a true half (the only case Math.round must decide) is exactly representable.
 */
function roundedRatio(numerator: number, denominator: number, decimals: number): number {
  const scale = 10 ** decimals
  return Math.round((numerator * scale) / denominator) / scale
}

/** won / (won + lost) rounded to 4 decimals (the precision of a percentage with two decimals); null without closed deals. */
export function winRate(won: number, lost: number): number | null {
  return won + lost === 0 ? null : roundedRatio(won, won + lost, 4)
}

/** round(100 * to / from, 2); 0 when nothing reached the source stage. */
export function conversionRate(fromCount: number, toCount: number): number {
  return fromCount === 0 ? 0 : roundedRatio(100 * toCount, fromCount, 2)
}

/** round(total / count, 2) half up, exactly (cents in BigInt); "0.00" when count is 0. */
export function averageMoney(total: string, count: number): string {
  if (count === 0) return '0.00'
  const [whole = '0', fraction = ''] = total.split('.')
  const cents = BigInt(whole + fraction.padEnd(2, '0').slice(0, 2))
  const n = BigInt(count)
  return formatMoney(centsToString((2n * cents + n) / (2n * n)))
}

function centsToString(cents: bigint): string {
  const digits = cents.toString().padStart(3, '0')
  return `${digits.slice(0, -2)}.${digits.slice(-2)}`
}

export function dealSummary(data: SummaryData, days: number, currency: string) {
  const byStatus = Object.fromEntries(
    DEAL_STATUSES.map((status) => {
      const row = data.byStatus.find((r) => r.status === status)
      return [status, { count: row?.count ?? 0, total_amount: formatMoney(row?.total_amount ?? '0') }]
    }),
  ) as Record<DealStatus, { count: number; total_amount: string }>
  const won = data.byStatus.find((r) => r.status === 'won')
  return {
    by_status: byStatus,
    average_won_amount: averageMoney(won?.total_amount ?? '0', won?.currency_count ?? 0),
    win_rate: winRate(byStatus.won.count, byStatus.lost.count),
    new_deals_last_n_days: { count: data.recentCount, days },
    currency,
    currencies: data.currencies,
    pipeline: {
      open_count: data.pipeline.open_count,
      open_amount: formatMoney(data.pipeline.open_amount),
      weighted_amount: formatMoney(data.pipeline.weighted_amount),
      by_stage: DEAL_STAGES.map((stage) => {
        const row = data.openByStage.find((r) => r.stage === stage)
        return {
          stage,
          count: row?.count ?? 0,
          currency_count: row?.currency_count ?? 0,
          amount: formatMoney(row?.amount ?? '0'),
          weighted_amount: formatMoney(row?.weighted ?? '0'),
        }
      }),
    },
  }
}

export function dealFunnel(counts: StageStatusCount[]) {
  const stages = Object.fromEntries(
    DEAL_STAGES.map((stage) => [
      stage,
      Object.fromEntries(DEAL_STATUSES.map((status) => [status, 0])) as Record<DealStatus, number>,
    ]),
  ) as Record<DealStage, Record<DealStatus, number>>
  for (const { stage, status, count } of counts) stages[stage][status] += count
  const stageTotals = Object.fromEntries(
    DEAL_STAGES.map((stage) => [
      stage,
      DEAL_STATUSES.reduce((sum, status) => sum + stages[stage][status], 0),
    ]),
  ) as Record<DealStage, number>
  // A deal has reached its current stage and every stage before it.
  const reached = DEAL_STAGES.map((_, index) =>
    DEAL_STAGES.slice(index).reduce((sum, stage) => sum + stageTotals[stage], 0),
  )
  const conversions = DEAL_STAGES.slice(1).map((toStage, index) => {
    const fromCount = reached[index] as number
    const toCount = reached[index + 1] as number
    return {
      from_stage: DEAL_STAGES[index] as DealStage,
      to_stage: toStage,
      from_count: fromCount,
      to_count: toCount,
      conversion_rate: conversionRate(fromCount, toCount),
    }
  })
  return { stages, stage_totals: stageTotals, conversions }
}

/** The months from `firstMonth` ('YYYY-MM'), `count` of them. */
export function monthsFrom(firstMonth: string, count: number): string[] {
  const [year, month] = firstMonth.split('-').map(Number) as [number, number]
  return Array.from({ length: count }, (_, index) => {
    const total = year * 12 + (month - 1) + index
    return `${Math.floor(total / 12)}-${String((total % 12) + 1).padStart(2, '0')}`
  })
}

export function dealForecast(rows: ForecastRow[], currency: string, firstMonth: string, months: number) {
  const bucket = (name: string, won: boolean) => rows.find((row) => row.bucket === name && row.won === won)
  const openBucket = (name: string) => {
    const row = bucket(name, false)
    return {
      count: row?.count ?? 0,
      amount: formatMoney(row?.amount ?? '0'),
      weighted_amount: formatMoney(row?.weighted ?? '0'),
    }
  }
  return {
    currency,
    months: monthsFrom(firstMonth, months).map((month) => {
      const open = openBucket(month)
      const won = bucket(month, true)
      return {
        month,
        open_count: open.count,
        open_amount: open.amount,
        weighted_amount: open.weighted_amount,
        won_count: won?.count ?? 0,
        won_amount: formatMoney(won?.amount ?? '0'),
      }
    }),
    overdue: openBucket('overdue'),
    unscheduled: openBucket('unscheduled'),
  }
}

export function dealVelocity(rows: VelocityRow[], days: number) {
  const number = (value: string | null) => (value === null ? null : Number(value))
  const won = rows.find((row) => row.stage === null)
  return {
    days,
    stages: DEAL_STAGES.map((stage) => {
      const row = rows.find((r) => r.stage === stage)
      return {
        stage,
        exits: row?.exits ?? 0,
        avg_days: number(row?.avg_days ?? null),
        median_days: number(row?.median_days ?? null),
      }
    }),
    won: {
      count: won?.exits ?? 0,
      avg_days_to_close: number(won?.avg_days ?? null),
      median_days_to_close: number(won?.median_days ?? null),
    },
  }
}
