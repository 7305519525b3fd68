import { type Action, CAN } from '../../auth/policy.js'
import type { Role } from '../../db/schema.js'
import { AppError } from '../../lib/errors.js'

/**
 * Pure role rules of spec §4; the operations call them with the roles read under their locks. Who manages
 * members at all is the permission table; which roles an admin may grant or touch depends on the target, here.
 */

const ADMIN_MANAGEABLE: readonly Role[] = ['manager', 'member']

function assertRoleMay(actor: Role, action: Action): void {
  if (!CAN[action].includes(actor)) throw new AppError('FORBIDDEN', 'Only owners and admins manage members')
}

/** May `actor` give someone the role `granted`? Owners grant any role; admins only manager or member. */
export function assertMayGrant(actor: Role, granted: Role, action: Action = 'member.change_role'): void {
  assertRoleMay(actor, action)
  if (actor === 'admin' && !ADMIN_MANAGEABLE.includes(granted)) {
    throw new AppError('FORBIDDEN', 'Admins may grant only the manager or member role')
  }
}

/** May `actor` change or remove a member who holds `target`? Admins touch only managers and members. */
export function assertMayManage(actor: Role, target: Role, action: Action = 'member.remove'): void {
  assertRoleMay(actor, action)
  if (actor === 'admin' && !ADMIN_MANAGEABLE.includes(target)) {
    throw new AppError('FORBIDDEN', 'Admins may manage only managers and members')
  }
}

/** The organization must keep an owner: refuses to take the owner role from the last one. */
export function assertKeepsAnOwner(targetRole: Role, newRole: Role | null, ownerCount: number): void {
  if (targetRole === 'owner' && newRole !== 'owner' && ownerCount <= 1) {
    throw new AppError('LAST_OWNER', 'The organization must keep at least one owner')
  }
}
