import type { FastifyInstance } from 'fastify'
import { type Actor, assertAllowed } from '../../auth/policy.js'
import { hashOpaqueToken, newOpaqueToken } from '../../auth/tokens.js'
import type { Executor } from '../../db/client.js'
import type { Role } from '../../db/schema.js'
import { isUniqueViolation } from '../../lib/db-errors.js'
import { normalizeEmail } from '../../lib/email.js'
import { AppError } from '../../lib/errors.js'
import { uuidv7 } from '../../lib/uuid.js'
import { assertMayGrant, assertMayManage } from '../organizations/rules.js'
import { afterWrite } from '../writes/after-write.js'
import { invitationEmail } from './emails.js'
import * as queries from './queries.js'

export const INVITATION_LIFETIME_MS = 7 * 86_400_000

export function invitationNotFound(): AppError {
  return new AppError(
    'INVITATION_NOT_FOUND',
    'No pending invitation with this id or token for you (it may have expired, been used or revoked)',
  )
}

/**
 * Invites an email (registered or not: the answer is the same, so nothing is learned about accounts) and
 * sends the link. One pending invitation per email and organization, enforced by a partial unique index.
 */
export async function createInvitation(
  app: FastifyInstance,
  actor: Actor,
  input: { email: string; role?: Role | undefined },
) {
  const role = input.role ?? 'member'
  assertMayGrant(actor.role, role, 'invitation.create')
  const email = normalizeEmail(input.email)
  const now = app.clock()
  const { token, hash } = newOpaqueToken()
  const invitation = await app.db.db
    .transaction(async (tx) => {
      if (await queries.isMemberByEmail(tx, actor.organizationId, email)) {
        throw new AppError('MEMBER_ALREADY_EXISTS', 'A user with this email is already a member')
      }
      await queries.expireStale(tx, actor.organizationId, email, now)
      return queries.insertInvitation(tx, {
        organizationId: actor.organizationId,
        id: uuidv7(),
        email,
        role,
        tokenHash: hash,
        invitedBy: actor.userId,
        createdAt: now,
        expiresAt: new Date(now.getTime() + INVITATION_LIFETIME_MS),
      })
    })
    .catch((error: unknown) => {
      if (isUniqueViolation(error, 'invitations_org_email_pending_key')) {
        throw new AppError('INVITATION_ALREADY_EXISTS', 'This email already has a pending invitation')
      }
      throw error
    })
  if (!invitation) throw new Error('insert returned no row')
  const context = await queries.invitationContext(app.db.db, actor.organizationId, actor.userId)
  app.mailer.send(
    invitationEmail({
      to: email,
      organizationName: context?.organizationName ?? 'an organization',
      inviterName: context?.inviterName ?? 'A colleague',
      role,
      link: `${app.config.publicUrl}/invite?token=${encodeURIComponent(token)}`,
      expiresAt: invitation.expiresAt,
    }),
  )
  return { ...invitation, token }
}

/** Revokes a pending invitation; an admin only those for managers and members. */
export async function revokeInvitation(app: FastifyInstance, actor: Actor, invitationId: string) {
  assertAllowed(actor, 'invitation.revoke')
  const now = app.clock()
  const invitation = await queries.findPending(app.db.db, actor.organizationId, invitationId, now)
  if (!invitation) throw invitationNotFound()
  assertMayManage(actor.role, invitation.role, 'invitation.revoke')
  const closed = await queries.closeInvitation(
    app.db.db,
    { organizationId: actor.organizationId, id: invitationId },
    'revoked',
    now,
  )
  if (!closed) throw invitationNotFound()
}

/**
 * Accepts an invitation addressed to the caller's email, by id or by token, in one transaction: the claim
 * (exactly one of parallel accepts wins) and the membership. Already a member: 409 and the invitation stays
 * pending (the caller may decline it).
 */
export async function acceptInvitation(
  app: FastifyInstance,
  userId: string,
  which: { id: string } | { token: string },
): Promise<{ organizationId: string; role: Role }> {
  const email = await callerEmail(app, userId)
  const now = app.clock()
  const where = 'id' in which ? { id: which.id } : { tokenHash: hashOpaqueToken(which.token) }
  const joined = await app.db.db.transaction(async (tx) => {
    const claimed = await queries.claimInvitation(tx, where, email, now)
    if (!claimed) throw invitationNotFound()
    await joinOrganization(tx, claimed.organizationId, userId, claimed.role)
    return claimed
  })
  await app.membershipCache.forget(joined.organizationId, userId)
  return { organizationId: joined.organizationId, role: joined.role }
}

export async function declineInvitation(app: FastifyInstance, userId: string, invitationId: string) {
  const email = await callerEmail(app, userId)
  const closed = await queries.closeInvitation(
    app.db.db,
    { id: invitationId, email },
    'declined',
    app.clock(),
  )
  if (!closed) throw invitationNotFound()
}

export async function receivedInvitations(app: FastifyInstance, userId: string) {
  return queries.listReceived(app.db.db, await callerEmail(app, userId), app.clock())
}

/**
 * Registration with an invitation token, inside the registration's transaction: claims the invitation and
 * makes the new user a member. The email must be the invitation's (400, and the transaction rolls back).
 */
export async function joinByInvitationToken(
  tx: Executor,
  token: string,
  user: { id: string; email: string },
  now: Date,
): Promise<{ organizationId: string; role: Role }> {
  const claimed = await queries.claimInvitation(tx, { tokenHash: hashOpaqueToken(token) }, undefined, now)
  if (!claimed) throw invitationNotFound()
  if (claimed.email !== user.email) {
    throw new AppError('INVITATION_EMAIL_MISMATCH', 'This invitation is for another email address')
  }
  await joinOrganization(tx, claimed.organizationId, user.id, claimed.role)
  return { organizationId: claimed.organizationId, role: claimed.role }
}

/** The invitee joins; they are the actor of their own membership's after-write hook. */
async function joinOrganization(tx: Executor, organizationId: string, userId: string, role: Role) {
  const membership = await queries.insertMembership(tx, organizationId, userId, role)
  if (!membership)
    throw new AppError('MEMBER_ALREADY_EXISTS', 'You are already a member of this organization')
  await afterWrite(
    tx,
    { userId, organizationId, role },
    { resource: 'member', kind: 'created', after: membership },
  )
}

async function callerEmail(app: FastifyInstance, userId: string): Promise<string> {
  const email = await queries.emailOfUser(app.db.db, userId)
  if (!email) throw new AppError('UNAUTHORIZED', 'The user of this token no longer exists')
  return email
}
