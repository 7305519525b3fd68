import type { FastifyInstance } from 'fastify'
import type { Actor } from '../../auth/policy.js'
import type { Tx } from '../../db/client.js'
import { memberships, organizations, type Role } from '../../db/schema.js'
import { isForeignKeyViolation, isUniqueViolation } from '../../lib/db-errors.js'
import { AppError } from '../../lib/errors.js'
import { uuidv7 } from '../../lib/uuid.js'
import { afterWrite } from '../writes/after-write.js'
import * as queries from './queries.js'
import { assertKeepsAnOwner, assertMayGrant, assertMayManage } from './rules.js'

/**
 * Organization and member writes. Membership changes that could remove an owner serialize on the organization
 * row (lockOrganizationAsMember) and decide on the actor's role read under that lock. The membership cache of
 * every instance forgets the changed member after commit (a role cache, never the source of truth).
 */

/** The actor's role read under the organization lock: a concurrent change may have demoted or removed them. */
async function lockAsMember(tx: Tx, actor: Actor): Promise<Role> {
  const role = await queries.lockOrganizationAsMember(tx, actor.organizationId, actor.userId)
  if (!role) throw new AppError('ORGANIZATION_ACCESS_DENIED', 'You are not a member of this organization')
  return role
}

type App = Pick<FastifyInstance, 'db' | 'membershipCache'>
export type MemberRow = NonNullable<Awaited<ReturnType<typeof queries.findMember>>>

export async function createOrganization(app: App, userId: string, name: string) {
  const id = uuidv7()
  const actor: Actor = { userId, organizationId: id, role: 'owner' }
  return app.db.db
    .transaction(async (tx) => {
      const [organization] = await tx.insert(organizations).values({ id, name }).returning()
      const [membership] = await tx
        .insert(memberships)
        .values({ organizationId: id, userId, role: 'owner' })
        .returning()
      await afterWrite(tx, actor, { resource: 'member', kind: 'created', after: membership })
      if (!organization) throw new Error('INSERT ... RETURNING gave no row')
      return organization
    })
    .catch((error: unknown) => {
      // The token's user was deleted: the membership's foreign key says so without an extra query.
      if (isForeignKeyViolation(error, 'memberships_user_id_users_id_fk')) {
        throw new AppError('UNAUTHORIZED', 'The user of this token no longer exists')
      }
      throw error
    })
}

export async function addMember(app: App, actor: Actor, email: string, role: MemberRow['role']) {
  assertMayGrant(actor.role, role, 'member.add')
  // Only a user the actor can already see (they share an organization): an unknown email and a registered
  // stranger answer alike, so members-add tells nothing about which emails have accounts. Invite the others.
  const userId = await queries.findVisibleUserIdByEmail(app.db.db, actor.userId, email)
  if (!userId) {
    throw new AppError(
      'USER_NOT_FOUND',
      'No user with this email shares an organization with you; invite them (POST /organizations/{id}/invitations)',
    )
  }
  try {
    await app.db.db.transaction(async (tx) => {
      const [membership] = await tx
        .insert(memberships)
        .values({ organizationId: actor.organizationId, userId, role })
        .returning()
      await afterWrite(tx, actor, { resource: 'member', kind: 'created', after: membership })
    })
  } catch (error) {
    if (isUniqueViolation(error, 'memberships_pkey')) {
      throw new AppError('MEMBER_ALREADY_EXISTS', 'This user is already a member')
    }
    throw error
  }
  const member = await queries.findMember(app.db.db, actor.organizationId, userId)
  if (!member) throw new AppError('MEMBER_NOT_FOUND', 'The member was removed meanwhile')
  return member
}

export async function changeMemberRole(
  app: App,
  actor: Actor,
  targetId: string,
  newRole: MemberRow['role'],
): Promise<MemberRow> {
  const { organizationId } = actor
  // Fail fast before taking the lock; the decision below uses the role read under the lock.
  assertMayGrant(actor.role, newRole)
  if (targetId === actor.userId) throw new AppError('FORBIDDEN', 'You cannot change your own role')
  const member = await app.db.db.transaction(async (tx) => {
    const actorRole = await lockAsMember(tx, actor)
    assertMayGrant(actorRole, newRole)
    const target = await queries.findMember(tx, organizationId, targetId)
    if (!target) throw new AppError('MEMBER_NOT_FOUND', 'This user is not a member of the organization')
    assertMayManage(actorRole, target.role, 'member.change_role')
    if (target.role === newRole) return target
    assertKeepsAnOwner(target.role, newRole, await queries.countOwners(tx, organizationId))
    const before = await queries.setRole(tx, organizationId, targetId, newRole)
    await afterWrite(tx, { ...actor, role: actorRole }, { resource: 'member', kind: 'updated', ...before })
    return { ...target, role: newRole }
  })
  await app.membershipCache.forget(organizationId, targetId)
  return member
}

/** Removing a member (owner, admin), or leaving (anyone, for themselves). */
export async function removeMember(app: App, actor: Actor, targetId: string): Promise<void> {
  const { organizationId } = actor
  const leaving = targetId === actor.userId
  // Fail fast before taking the lock; the decision below uses the role read under the lock.
  if (!leaving) assertMayManage(actor.role, 'member')
  await app.db.db.transaction(async (tx) => {
    const actorRole = await lockAsMember(tx, actor)
    const target = await queries.findMember(tx, organizationId, targetId)
    if (!target) throw new AppError('MEMBER_NOT_FOUND', 'This user is not a member of the organization')
    if (!leaving) assertMayManage(actorRole, target.role)
    assertKeepsAnOwner(target.role, null, await queries.countOwners(tx, organizationId))
    const before = await queries.deleteMember(tx, organizationId, targetId)
    await afterWrite(tx, { ...actor, role: actorRole }, { resource: 'member', kind: 'deleted', before })
  })
  await app.membershipCache.forget(organizationId, targetId)
}
