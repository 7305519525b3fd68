import { and, eq, gt, isNull, sql } from 'drizzle-orm'
import type { Executor } from '../db/client.js'
import { refreshTokens } from '../db/schema.js'
import { AppError } from '../lib/errors.js'
import { uuidv7 } from '../lib/uuid.js'
import { hashRefreshToken, newRefreshToken } from './tokens.js'

const DAY_MS = 86_400_000

/** Stores a new refresh token (a new family on login, the same family on rotation) and returns it. */
export async function issueRefreshToken(
  db: Executor,
  userId: string,
  expireDays: number,
  familyId: string = uuidv7(),
): Promise<string> {
  const { token, hash } = newRefreshToken()
  await db.insert(refreshTokens).values({
    id: uuidv7(),
    userId,
    familyId,
    tokenHash: hash,
    expiresAt: new Date(Date.now() + expireDays * DAY_MS),
  })
  return token
}

/**
 * Rotates a refresh token. The conditional UPDATE is the lock: of two parallel calls with one token exactly
 * one marks it rotated. Presenting a token that was already rotated is reuse and revokes its whole family.
 */
export async function rotateRefreshToken(
  db: Executor,
  token: string,
  expireDays: number,
): Promise<{ userId: string; refreshToken: string }> {
  const hash = hashRefreshToken(token)
  const claimed = await db.transaction(async (tx) => {
    const [row] = await tx
      .update(refreshTokens)
      .set({ rotatedAt: sql`now()` })
      .where(
        and(
          eq(refreshTokens.tokenHash, hash),
          isNull(refreshTokens.rotatedAt),
          isNull(refreshTokens.revokedAt),
          gt(refreshTokens.expiresAt, sql`now()`),
        ),
      )
      .returning({ userId: refreshTokens.userId, familyId: refreshTokens.familyId })
    if (!row) return undefined
    return {
      userId: row.userId,
      refreshToken: await issueRefreshToken(tx, row.userId, expireDays, row.familyId),
    }
  })
  if (claimed) return claimed

  const [known] = await db
    .select({ familyId: refreshTokens.familyId, rotatedAt: refreshTokens.rotatedAt })
    .from(refreshTokens)
    .where(eq(refreshTokens.tokenHash, hash))
  if (known?.rotatedAt) {
    await revokeFamily(db, known.familyId)
    throw new AppError('INVALID_TOKEN', 'Refresh token was already used; the session has been revoked')
  }
  throw new AppError('INVALID_TOKEN', 'Refresh token is invalid, expired or revoked')
}

export async function revokeFamily(db: Executor, familyId: string): Promise<void> {
  await db
    .update(refreshTokens)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(refreshTokens.familyId, familyId), isNull(refreshTokens.revokedAt)))
}

/** Logout: revokes the family of the presented token; unknown tokens are ignored (logout is idempotent). */
export async function revokeByToken(db: Executor, token: string): Promise<void> {
  const [known] = await db
    .select({ familyId: refreshTokens.familyId })
    .from(refreshTokens)
    .where(eq(refreshTokens.tokenHash, hashRefreshToken(token)))
  if (known) await revokeFamily(db, known.familyId)
}
