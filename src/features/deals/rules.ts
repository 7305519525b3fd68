import { CAN } from '../../auth/policy.js'
import { DEAL_STAGES, type DealStage, type DealStatus, type Role } from '../../db/schema.js'
import { AppError } from '../../lib/errors.js'

/** Pure deal rules of spec §5; the change operation calls them with the row its guarded update re-checks. */

export interface DealPipeline {
  status: DealStatus
  stage: DealStage
  /** Canonical two-decimal string (parseAmount / NUMERIC). */
  amount: string
}

export type DealActivity =
  | { type: 'status_changed'; payload: { old_status: DealStatus; new_status: DealStatus } }
  | { type: 'stage_changed'; payload: { old_stage: DealStage; new_stage: DealStage } }

export function isStageRollback(from: DealStage, to: DealStage): boolean {
  return DEAL_STAGES.indexOf(to) < DEAL_STAGES.indexOf(from)
}

/** Exact on decimal strings: zero is any amount without a non-zero digit ("0", "0.00", "000.0"). */
export function isZeroAmount(amount: string): boolean {
  return !/[1-9]/.test(amount)
}

/**
 * Checks a change of a deal against its current state, in this order: a stage rollback by anyone but an
 * owner or admin (403 STAGE_ROLLBACK_FORBIDDEN), then a resulting `won` without a positive amount
 * (400 INVALID_DEAL_AMOUNT; this also refuses zeroing the amount of a deal that is already won).
 */
export function assertValidDealChange(
  role: Role,
  current: DealPipeline,
  change: Partial<DealPipeline>,
): void {
  if (
    change.stage !== undefined &&
    isStageRollback(current.stage, change.stage) &&
    !CAN['deal.rollback_stage'].includes(role)
  ) {
    throw new AppError(
      'STAGE_ROLLBACK_FORBIDDEN',
      `Only owners and admins may move a deal back from ${current.stage} to ${change.stage}`,
    )
  }
  const status = change.status ?? current.status
  const amount = change.amount ?? current.amount
  if (status === 'won' && isZeroAmount(amount)) {
    throw new AppError('INVALID_DEAL_AMOUNT', 'A won deal must have an amount greater than 0')
  }
}

/**
 * A non-null lost_reason needs a resulting status `lost` (400 INVALID_LOST_REASON); null is always accepted.
 * When the status leaves `lost`, the reason is cleared (the deals_before_write trigger does it in the database).
 */
export function assertValidLostReason(
  resultingStatus: DealStatus,
  lostReason: string | null | undefined,
): void {
  if (lostReason != null && resultingStatus !== 'lost') {
    throw new AppError('INVALID_LOST_REASON', 'A lost reason is only accepted when the status is lost')
  }
}

/** The activities an accepted change writes: one per field whose value actually changes. */
export function dealChangeActivities(current: DealPipeline, change: Partial<DealPipeline>): DealActivity[] {
  const activities: DealActivity[] = []
  if (change.status !== undefined && change.status !== current.status) {
    activities.push({
      type: 'status_changed',
      payload: { old_status: current.status, new_status: change.status },
    })
  }
  if (change.stage !== undefined && change.stage !== current.stage) {
    activities.push({ type: 'stage_changed', payload: { old_stage: current.stage, new_stage: change.stage } })
  }
  return activities
}
