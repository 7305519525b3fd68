import { and, eq, gt, isNull, sql } from 'drizzle-orm'
import type { FastifyInstance } from 'fastify'
import { type Executor, queryRows } from '../db/client.js'
import { passwordResets, users } from '../db/schema.js'
import { AppError } from '../lib/errors.js'
import { uuidv7 } from '../lib/uuid.js'
import { passwordResetEmail } from './emails.js'
import { hashPassword, verifyPassword } from './passwords.js'
import { type IssuedSession, revokeUserSessions, type SessionClient, startSession } from './sessions.js'
import { hashOpaqueToken, newOpaqueToken } from './tokens.js'

export const RESET_TOKEN_LIFETIME_MINUTES = 60

/**
 * Spec §15 password reset, step 1, run after the 202 has been sent: the answer's body, status and time are
 * those of the same code for every email (a commit that writes takes longer than one that does not, so even
 * the lookup stays off the request). Known and unknown emails still do the same work here: a token is made and
 * hashed either way, and one statement inserts it only if the email belongs to a user.
 */
export function schedulePasswordReset(app: FastifyInstance, email: string): void {
  app.background.run('password reset', () => requestPasswordReset(app, email))
}

async function requestPasswordReset(app: FastifyInstance, email: string): Promise<void> {
  const now = app.clock()
  const { token, hash } = newOpaqueToken()
  const expiresAt = new Date(now.getTime() + RESET_TOKEN_LIFETIME_MINUTES * 60_000)
  // Raw SQL: one round trip whether or not the user exists (a CTE that inserts only when it finds them).
  const [user] = await queryRows<{ name: string }>(
    app.db.db,
    sql`WITH target AS (
      SELECT ${users.id} AS id, ${users.name} AS name FROM ${users} WHERE ${users.email} = ${email}
    ), inserted AS (
      INSERT INTO ${passwordResets} (id, user_id, token_hash, created_at, expires_at)
      SELECT ${uuidv7()}::uuid, target.id, ${hash}, ${now.toISOString()}::timestamptz,
        ${expiresAt.toISOString()}::timestamptz FROM target
    )
    SELECT name FROM target`,
  )
  if (!user) return
  app.mailer.send(
    passwordResetEmail({
      to: email,
      name: user.name,
      link: `${app.config.publicUrl}/reset-password?token=${encodeURIComponent(token)}`,
      minutes: RESET_TOKEN_LIFETIME_MINUTES,
    }),
  )
}

function invalidResetToken(): AppError {
  return new AppError('INVALID_RESET_TOKEN', 'The reset token is invalid, used or expired')
}

/**
 * Step 2: a valid token sets the password once. The claim is one conditional UPDATE (of two parallel
 * confirmations exactly one succeeds); the new password, the end of every session and of every other
 * outstanding reset token commit together.
 */
export async function confirmPasswordReset(
  app: FastifyInstance,
  token: string,
  newPassword: string,
): Promise<void> {
  const hash = hashOpaqueToken(token)
  const now = app.clock()
  const usable = and(
    eq(passwordResets.tokenHash, hash),
    isNull(passwordResets.usedAt),
    gt(passwordResets.expiresAt, now),
  )
  // Cheap check first: a bad token costs no password hashing.
  const [candidate] = await app.db.db.select({ id: passwordResets.id }).from(passwordResets).where(usable)
  if (!candidate) throw invalidResetToken()
  const passwordHash = await hashPassword(newPassword)
  const ended = await app.db.db.transaction(async (tx) => {
    const [claimed] = await tx
      .update(passwordResets)
      .set({ usedAt: now })
      .where(usable)
      .returning({ userId: passwordResets.userId })
    if (!claimed) throw invalidResetToken()
    await tx.update(users).set({ passwordHash }).where(eq(users.id, claimed.userId))
    return afterPasswordChange(tx, claimed.userId, now)
  })
  await app.revocations.ended(ended)
}

/**
 * Spec §15 password change: every earlier session ends (the calling one too) and a new one starts, whose
 * tokens are returned.
 */
export async function changePassword(
  app: FastifyInstance,
  userId: string,
  input: { currentPassword: string; newPassword: string },
  client: SessionClient,
): Promise<IssuedSession> {
  const [user] = await app.db.db
    .select({ passwordHash: users.passwordHash })
    .from(users)
    .where(eq(users.id, userId))
  if (!user) throw new AppError('UNAUTHORIZED', 'The user of this token no longer exists')
  if (!(await verifyPassword(user.passwordHash, input.currentPassword))) {
    throw new AppError('INVALID_CURRENT_PASSWORD', 'The current password is not correct')
  }
  const passwordHash = await hashPassword(input.newPassword)
  const now = app.clock()
  const { ended, issued } = await app.db.db.transaction(async (tx) => {
    await tx.update(users).set({ passwordHash }).where(eq(users.id, userId))
    const ended = await afterPasswordChange(tx, userId, now)
    const issued = await startSession(tx, userId, app.config.refreshTokenExpireDays, client)
    return { ended, issued }
  })
  await app.revocations.ended(ended)
  return issued
}

/** A new password ends every session and makes outstanding reset links useless. */
async function afterPasswordChange(tx: Executor, userId: string, now: Date): Promise<string[]> {
  await tx
    .update(passwordResets)
    .set({ usedAt: now })
    .where(and(eq(passwordResets.userId, userId), isNull(passwordResets.usedAt)))
  return revokeUserSessions(tx, userId)
}
