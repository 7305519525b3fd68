import { DEAL_STAGES, DEAL_STATUSES, type DealStage, type DealStatus } from '../../db/schema.js'
import { formatMoney } from '../../lib/money.js'
import type { StageStatusCount, SummaryData } from './queries.js'

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

export function dealSummary(data: SummaryData, days: number) {
  const byStatus = Object.fromEntries(
    DEAL_STATUSES.map((status) => {
      const row = data.byStatus.find((r) => r.status === status)
      return [status, { count: row?.count ?? 0, total_amount: formatMoney(row?.total_amount ?? '0') }]
    }),
  ) as Record<DealStatus, { count: number; total_amount: string }>
  const won = data.byStatus.find((r) => r.status === 'won')
  return {
    by_status: byStatus,
    average_won_amount: formatMoney(won?.average_amount ?? '0'),
    win_rate: winRate(byStatus.won.count, byStatus.lost.count),
    new_deals_last_n_days: { count: data.recentCount, days },
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
