import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { DEAL_STAGES, ROLES } from '../src/db/schema.js'
import {
  assertValidDealChange,
  type DealPipeline,
  dealChangeActivities,
  isStageRollback,
  isZeroAmount,
} from '../src/features/deals/rules.js'
import type { ErrorCode } from '../src/lib/errors.js'
import { AppError } from '../src/lib/errors.js'

function throwsCode(fn: () => void, code: ErrorCode) {
  assert.throws(fn, (error: unknown) => error instanceof AppError && error.code === code)
}

const fresh: DealPipeline = { status: 'new', stage: 'qualification', amount: '0.00' }

describe('isStageRollback', () => {
  it('is true exactly when the target comes earlier in the pipeline', () => {
    for (const [i, from] of DEAL_STAGES.entries()) {
      for (const [j, to] of DEAL_STAGES.entries()) {
        assert.equal(isStageRollback(from, to), j < i, `${from} → ${to}`)
      }
    }
  })
})

describe('isZeroAmount', () => {
  for (const zero of ['0', '0.00', '000.0', '0.0']) {
    it(`${zero} is zero`, () => assert.equal(isZeroAmount(zero), true))
  }
  for (const positive of ['0.01', '0.10', '1.00', '10.00', '9999999999999.99']) {
    it(`${positive} is not zero`, () => assert.equal(isZeroAmount(positive), false))
  }
})

describe('assertValidDealChange: stage', () => {
  for (const role of ROLES) {
    const mayRollBack = role === 'owner' || role === 'admin'
    it(`${role} ${mayRollBack ? 'may' : 'may not'} move a stage back`, () => {
      const current: DealPipeline = { ...fresh, stage: 'negotiation' }
      const rollBack = () => assertValidDealChange(role, current, { stage: 'proposal' })
      if (mayRollBack) assert.doesNotThrow(rollBack)
      else throwsCode(rollBack, 'STAGE_ROLLBACK_FORBIDDEN')
    })
    it(`${role} may move forward, skipping stages, or keep the stage`, () => {
      assert.doesNotThrow(() => assertValidDealChange(role, fresh, { stage: 'closed' }))
      assert.doesNotThrow(() => assertValidDealChange(role, fresh, { stage: 'proposal' }))
      assert.doesNotThrow(() => assertValidDealChange(role, fresh, { stage: 'qualification' }))
      assert.doesNotThrow(() => assertValidDealChange(role, fresh, {}))
    })
  }
})

describe('assertValidDealChange: won needs an amount > 0', () => {
  it('refuses won on a deal without amount', () => {
    throwsCode(() => assertValidDealChange('owner', fresh, { status: 'won' }), 'INVALID_DEAL_AMOUNT')
  })
  it('refuses won with an amount of zero set in the same change', () => {
    const current = { ...fresh, amount: '10.00' }
    throwsCode(
      () => assertValidDealChange('owner', current, { status: 'won', amount: '0.00' }),
      'INVALID_DEAL_AMOUNT',
    )
  })
  it('refuses zeroing the amount of a deal that is already won', () => {
    const won: DealPipeline = { ...fresh, status: 'won', amount: '10.00' }
    throwsCode(() => assertValidDealChange('owner', won, { amount: '0.00' }), 'INVALID_DEAL_AMOUNT')
  })
  it('accepts won with a positive amount, current or set in the same change', () => {
    assert.doesNotThrow(() => assertValidDealChange('member', fresh, { status: 'won', amount: '0.01' }))
    assert.doesNotThrow(() =>
      assertValidDealChange('member', { ...fresh, amount: '5.00' }, { status: 'won' }),
    )
  })
  it('accepts zero amounts on every other status, and leaving won with a zero amount', () => {
    for (const status of ['new', 'in_progress', 'lost'] as const) {
      assert.doesNotThrow(() => assertValidDealChange('member', fresh, { status }))
    }
    const won: DealPipeline = { ...fresh, status: 'won', amount: '10.00' }
    assert.doesNotThrow(() => assertValidDealChange('member', won, { status: 'lost', amount: '0' }))
  })
  it('checks the rollback before the amount', () => {
    const current: DealPipeline = { ...fresh, stage: 'closed' }
    throwsCode(
      () => assertValidDealChange('manager', current, { stage: 'proposal', status: 'won' }),
      'STAGE_ROLLBACK_FORBIDDEN',
    )
  })
})

describe('dealChangeActivities', () => {
  const current: DealPipeline = { status: 'new', stage: 'qualification', amount: '10.00' }
  it('records an actual status change', () => {
    assert.deepEqual(dealChangeActivities(current, { status: 'in_progress' }), [
      { type: 'status_changed', payload: { old_status: 'new', new_status: 'in_progress' } },
    ])
  })
  it('records an actual stage change', () => {
    assert.deepEqual(dealChangeActivities(current, { stage: 'closed' }), [
      { type: 'stage_changed', payload: { old_stage: 'qualification', new_stage: 'closed' } },
    ])
  })
  it('records both when both change', () => {
    assert.deepEqual(dealChangeActivities(current, { status: 'lost', stage: 'proposal', amount: '1.00' }), [
      { type: 'status_changed', payload: { old_status: 'new', new_status: 'lost' } },
      { type: 'stage_changed', payload: { old_stage: 'qualification', new_stage: 'proposal' } },
    ])
  })
  it('records nothing for unchanged values or other fields', () => {
    assert.deepEqual(dealChangeActivities(current, { status: 'new', stage: 'qualification' }), [])
    assert.deepEqual(dealChangeActivities(current, { amount: '99.00' }), [])
    assert.deepEqual(dealChangeActivities(current, {}), [])
  })
})
