import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { type Action, allows, assertAllowed, CAN } from '../src/auth/policy.js'
import { ROLES } from '../src/db/schema.js'
import { AppError } from '../src/lib/errors.js'

const me = '00000000-0000-7000-8000-000000000001'
const other = '00000000-0000-7000-8000-000000000002'

describe('permission table (auth/policy.ts)', () => {
  it('lists only known roles for every action', () => {
    for (const [action, roles] of Object.entries(CAN)) {
      for (const role of roles) assert.ok(ROLES.includes(role), `${action}: ${role}`)
    }
  })

  it('denies a role an action does not list, with 403 FORBIDDEN', () => {
    for (const action of [
      'member.add',
      'member.change_role',
      'member.remove',
      'deal.rollback_stage',
    ] as Action[]) {
      assert.equal(allows({ role: 'manager', userId: me }, action), false, action)
      assert.equal(allows({ role: 'member', userId: me }, action), false, action)
      assert.equal(allows({ role: 'admin', userId: me }, action), true, action)
      assert.throws(
        () => assertAllowed({ role: 'member', userId: me }, action),
        (error) => error instanceof AppError && error.code === 'FORBIDDEN',
      )
    }
  })

  it('applies the own-records rule: members only on what they own, managers and up on everything', () => {
    for (const action of [
      'contact.update',
      'deal.delete',
      'task.create',
      'record.assign_owner',
    ] as Action[]) {
      assert.equal(allows({ role: 'member', userId: me }, action, me), true)
      assert.equal(allows({ role: 'member', userId: me }, action, other), false)
      for (const role of ['owner', 'admin', 'manager'] as const) {
        assert.equal(allows({ role, userId: me }, action, other), true, `${role} ${action}`)
      }
    }
    // Without an owner it is a plain role check (comments: any member, any deal).
    assert.equal(allows({ role: 'member', userId: me }, 'comment.create'), true)
  })
})
