import type { Role } from '../../db/schema.js'
import { AppError } from '../../lib/errors.js'

/** Pure role rules of spec §4; the routes and transactions call them with the facts they read. */

const ADMIN_MANAGEABLE: readonly Role[] = ['manager', 'member']

export function canManageMembers(role: Role): boolean {
  return role === 'owner' || role === 'admin'
}

/** May `actor` give someone the role `granted`? Owners grant any role; admins only manager or member. */
export function assertMayGrant(actor: Role, granted: Role): void {
  if (!canManageMembers(actor)) throw new AppError('FORBIDDEN', 'Only owners and admins manage members')
  if (actor === 'admin' && !ADMIN_MANAGEABLE.includes(granted)) {
    throw new AppError('FORBIDDEN', 'Admins may grant only the manager or member role')
  }
}

/** May `actor` change or remove a member who holds `target`? Admins touch only managers and members. */
export function assertMayManage(actor: Role, target: Role): void {
  if (!canManageMembers(actor)) throw new AppError('FORBIDDEN', 'Only owners and admins manage members')
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
