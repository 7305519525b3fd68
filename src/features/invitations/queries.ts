import { and, asc, eq, gt, lte } from 'drizzle-orm'
import type { Executor } from '../../db/client.js'
import { invitations, memberships, organizations, type Role, users } from '../../db/schema.js'

/** SQL only; never throws AppError. Every expiry is compared with the app's clock (`now`), not the database's. */

const invitationColumns = {
  id: invitations.id,
  email: invitations.email,
  role: invitations.role,
  invitedBy: invitations.invitedBy,
  createdAt: invitations.createdAt,
  expiresAt: invitations.expiresAt,
}

export async function isMemberByEmail(db: Executor, organizationId: string, email: string): Promise<boolean> {
  const rows = await db
    .select({ userId: memberships.userId })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(and(eq(memberships.organizationId, organizationId), eq(users.email, email)))
  return rows.length > 0
}

/** A pending invitation past its expiry no longer holds the one-pending-per-email slot. */
export async function expireStale(db: Executor, organizationId: string, email: string, now: Date) {
  await db
    .update(invitations)
    .set({ status: 'expired' })
    .where(
      and(
        eq(invitations.organizationId, organizationId),
        eq(invitations.email, email),
        eq(invitations.status, 'pending'),
        lte(invitations.expiresAt, now),
      ),
    )
}

export async function insertInvitation(
  db: Executor,
  values: {
    organizationId: string
    id: string
    email: string
    role: Role
    tokenHash: string
    invitedBy: string
    createdAt: Date
    expiresAt: Date
  },
) {
  const [row] = await db.insert(invitations).values(values).returning(invitationColumns)
  return row
}

export function listPending(db: Executor, organizationId: string, now: Date) {
  return db
    .select(invitationColumns)
    .from(invitations)
    .where(
      and(
        eq(invitations.organizationId, organizationId),
        eq(invitations.status, 'pending'),
        gt(invitations.expiresAt, now),
      ),
    )
    .orderBy(asc(invitations.createdAt), asc(invitations.id))
}

export async function findPending(db: Executor, organizationId: string, id: string, now: Date) {
  const [row] = await db
    .select(invitationColumns)
    .from(invitations)
    .where(
      and(
        eq(invitations.organizationId, organizationId),
        eq(invitations.id, id),
        eq(invitations.status, 'pending'),
        gt(invitations.expiresAt, now),
      ),
    )
  return row
}

/** Ends a pending invitation (revoke, decline); false when it was no longer pending. */
export async function closeInvitation(
  db: Executor,
  where: { organizationId?: string; id: string; email?: string },
  status: 'revoked' | 'declined',
  now: Date,
): Promise<boolean> {
  const rows = await db
    .update(invitations)
    .set({ status, respondedAt: now })
    .where(
      and(
        where.organizationId === undefined ? undefined : eq(invitations.organizationId, where.organizationId),
        eq(invitations.id, where.id),
        where.email === undefined ? undefined : eq(invitations.email, where.email),
        eq(invitations.status, 'pending'),
        gt(invitations.expiresAt, now),
      ),
    )
    .returning({ id: invitations.id })
  return rows.length > 0
}

/**
 * Marks a pending, unexpired invitation accepted and returns it. The conditional UPDATE is the lock: of
 * parallel accepts exactly one gets the row. `email` (when given) must be the invitation's.
 */
export async function claimInvitation(
  db: Executor,
  where: { id: string } | { tokenHash: string },
  email: string | undefined,
  now: Date,
) {
  const [row] = await db
    .update(invitations)
    .set({ status: 'accepted', respondedAt: now })
    .where(
      and(
        'id' in where ? eq(invitations.id, where.id) : eq(invitations.tokenHash, where.tokenHash),
        email === undefined ? undefined : eq(invitations.email, email),
        eq(invitations.status, 'pending'),
        gt(invitations.expiresAt, now),
      ),
    )
    .returning({
      organizationId: invitations.organizationId,
      id: invitations.id,
      email: invitations.email,
      role: invitations.role,
    })
  return row
}

/** Adds the member unless they already are one (then undefined: the caller decides the answer). */
export async function insertMembership(db: Executor, organizationId: string, userId: string, role: Role) {
  const [row] = await db
    .insert(memberships)
    .values({ organizationId, userId, role })
    .onConflictDoNothing()
    .returning()
  return row
}

/** Pending invitations addressed to `email`, with their organization and inviter. */
export function listReceived(db: Executor, email: string, now: Date) {
  return db
    .select({
      id: invitations.id,
      organizationId: invitations.organizationId,
      organizationName: organizations.name,
      role: invitations.role,
      inviterName: users.name,
      inviterEmail: users.email,
      expiresAt: invitations.expiresAt,
    })
    .from(invitations)
    .innerJoin(organizations, eq(organizations.id, invitations.organizationId))
    .innerJoin(users, eq(users.id, invitations.invitedBy))
    .where(
      and(eq(invitations.email, email), eq(invitations.status, 'pending'), gt(invitations.expiresAt, now)),
    )
    .orderBy(asc(invitations.createdAt), asc(invitations.id))
}

export async function emailOfUser(db: Executor, userId: string): Promise<string | undefined> {
  const [row] = await db.select({ email: users.email }).from(users).where(eq(users.id, userId))
  return row?.email
}

/** What the invitation email says: the organization's name and the inviter's. */
export async function invitationContext(db: Executor, organizationId: string, inviterId: string) {
  const [row] = await db
    .select({ organizationName: organizations.name, inviterName: users.name })
    .from(organizations)
    .innerJoin(users, eq(users.id, inviterId))
    .where(eq(organizations.id, organizationId))
  return row
}
