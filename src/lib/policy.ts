import { and, eq } from 'drizzle-orm'
import type { Membership } from '../auth/access.js'
import type { Executor } from '../db/client.js'
import { memberships, type Role } from '../db/schema.js'
import { AppError } from './errors.js'

/**
 * Record permissions of spec §2, default-deny: every member reads; owner, admin and manager write everything;
 * a member writes only what they own. Routes call these with the facts they read.
 */

const WRITE_ALL: readonly Role[] = ['owner', 'admin', 'manager']
const ROLLBACK: readonly Role[] = ['owner', 'admin']

export function writesAllRecords(role: Role): boolean {
  return WRITE_ALL.includes(role)
}

export function mayRollBackStage(role: Role): boolean {
  return ROLLBACK.includes(role)
}

/** Editing or deleting a record owned by `ownerId` (for tasks: the owner of their deal). */
export function assertMayModify(membership: Membership, userId: string, ownerId: string): void {
  if (writesAllRecords(membership.role) || ownerId === userId) return
  throw new AppError('FORBIDDEN', 'Members may change only records they own')
}

/** Setting `owner_id` on create or update: managers and above hand records to anyone; members keep them. */
export function assertMayAssignOwner(membership: Membership, userId: string, ownerId: string): void {
  if (writesAllRecords(membership.role) || ownerId === userId) return
  throw new AppError('FORBIDDEN', 'Members cannot assign records to other users')
}

/** The new owner must belong to the organization (400 OWNER_NOT_MEMBER). */
export async function assertOwnerIsMember(
  db: Executor,
  organizationId: string,
  ownerId: string,
): Promise<void> {
  const [row] = await db
    .select({ role: memberships.role })
    .from(memberships)
    .where(and(eq(memberships.organizationId, organizationId), eq(memberships.userId, ownerId)))
  if (!row) throw new AppError('OWNER_NOT_MEMBER', 'owner_id is not a member of this organization')
}

/** A requested `owner_id` on create or update: 403 for a member naming someone else, then 400 for a non-member. */
export async function assertValidOwnerChoice(
  db: Executor,
  membership: Membership,
  userId: string,
  ownerId: string,
): Promise<void> {
  assertMayAssignOwner(membership, userId, ownerId)
  // The caller is a member (the tenant hook checked), so only someone else needs a lookup.
  if (ownerId !== userId) await assertOwnerIsMember(db, membership.organizationId, ownerId)
}
