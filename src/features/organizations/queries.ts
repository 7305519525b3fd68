import { and, asc, count, eq, exists, sql } from 'drizzle-orm'
import { alias } from 'drizzle-orm/pg-core'
import type { Executor, Tx } from '../../db/client.js'
import { memberships, organizations, type Role, users } from '../../db/schema.js'

const memberColumns = {
  user_id: memberships.userId,
  name: users.name,
  email: users.email,
  role: memberships.role,
  joined_at: memberships.createdAt,
}

export function listOrganizationsOf(db: Executor, userId: string) {
  return db
    .select({
      id: organizations.id,
      name: organizations.name,
      created_at: organizations.createdAt,
      role: memberships.role,
    })
    .from(memberships)
    .innerJoin(organizations, eq(organizations.id, memberships.organizationId))
    .where(eq(memberships.userId, userId))
    .orderBy(asc(organizations.createdAt), asc(organizations.id))
}

export async function userExists(db: Executor, userId: string): Promise<boolean> {
  const rows = await db.select({ id: users.id }).from(users).where(eq(users.id, userId))
  return rows.length > 0
}

export function listMembers(db: Executor, organizationId: string) {
  return db
    .select(memberColumns)
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(eq(memberships.organizationId, organizationId))
    .orderBy(asc(memberships.createdAt), asc(memberships.userId))
}

export async function findMember(db: Executor, organizationId: string, userId: string) {
  const [member] = await db
    .select(memberColumns)
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(and(eq(memberships.organizationId, organizationId), eq(memberships.userId, userId)))
  return member
}

/**
 * The user with this email if `viewerId` can already see them: they share at least one organization. Anyone
 * else (a stranger with an account, or no account) is undefined alike, so members-add tells nothing about
 * which emails have accounts; strangers are invited instead.
 */
export async function findVisibleUserIdByEmail(
  db: Executor,
  viewerId: string,
  email: string,
): Promise<string | undefined> {
  const theirs = alias(memberships, 'theirs')
  const mine = alias(memberships, 'mine')
  const [user] = await db
    .select({ id: users.id })
    .from(users)
    .where(
      and(
        eq(users.email, email),
        exists(
          db
            .select({ one: sql`1` })
            .from(theirs)
            .innerJoin(mine, eq(mine.organizationId, theirs.organizationId))
            .where(and(eq(theirs.userId, users.id), eq(mine.userId, viewerId))),
        ),
      ),
    )
  return user?.id
}

/**
 * Serializes membership changes of one organization: every change that could remove an owner takes this row
 * lock first, so two concurrent demotions or removals cannot both see "another owner is left".
 */
export async function lockOrganizationAsMember(
  tx: Tx,
  organizationId: string,
  actorId: string,
): Promise<Role | undefined> {
  await tx.execute(sql`SELECT id FROM organizations WHERE id = ${organizationId} FOR UPDATE`)
  // Re-read under the lock: a concurrent request may have demoted or removed the caller meanwhile.
  const [actor] = await tx
    .select({ role: memberships.role })
    .from(memberships)
    .where(and(eq(memberships.organizationId, organizationId), eq(memberships.userId, actorId)))
  return actor?.role
}

export async function countOwners(tx: Tx, organizationId: string): Promise<number> {
  const [row] = await tx
    .select({ owners: count() })
    .from(memberships)
    .where(and(eq(memberships.organizationId, organizationId), eq(memberships.role, 'owner')))
  return row?.owners ?? 0
}

type MembershipRow = typeof memberships.$inferSelect

/** Sets the role; returns the row before and after (for the after-write hook). */
export async function setRole(
  tx: Tx,
  organizationId: string,
  userId: string,
  role: Role,
): Promise<{ before?: MembershipRow; after?: MembershipRow }> {
  const where = and(eq(memberships.organizationId, organizationId), eq(memberships.userId, userId))
  const [before] = await tx.select().from(memberships).where(where)
  const [after] = await tx.update(memberships).set({ role }).where(where).returning()
  return { before, after }
}

export async function deleteMember(
  tx: Tx,
  organizationId: string,
  userId: string,
): Promise<MembershipRow | undefined> {
  const [before] = await tx
    .delete(memberships)
    .where(and(eq(memberships.organizationId, organizationId), eq(memberships.userId, userId)))
    .returning()
  return before
}

export async function isMember(db: Executor, organizationId: string, userId: string): Promise<boolean> {
  const rows = await db
    .select({ role: memberships.role })
    .from(memberships)
    .where(and(eq(memberships.organizationId, organizationId), eq(memberships.userId, userId)))
  return rows.length > 0
}
