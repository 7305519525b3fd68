import { and, desc, eq, gt, inArray, isNull, sql } from 'drizzle-orm'
import type { Executor } from '../db/client.js'
import { refreshTokens, sessions } from '../db/schema.js'
import { AppError } from '../lib/errors.js'
import { uuidv7 } from '../lib/uuid.js'
import { hashRefreshToken, newRefreshToken } from './tokens.js'

const DAY_MS = 86_400_000
const USER_AGENT_MAX = 512

/** Where a session was started or last refreshed from, as `GET /auth/sessions` shows it. */
export interface SessionClient {
  userAgent?: string | undefined
  ip?: string | undefined
}

function clientColumns(client: SessionClient) {
  return {
    userAgent: client.userAgent?.slice(0, USER_AGENT_MAX) ?? null,
    ip: client.ip ?? null,
  }
}

async function insertRefreshToken(
  db: Executor,
  userId: string,
  sessionId: string,
  expiresAt: Date,
): Promise<string> {
  const { token, hash } = newRefreshToken()
  await db
    .insert(refreshTokens)
    .values({ id: uuidv7(), userId, familyId: sessionId, tokenHash: hash, expiresAt })
  return token
}

export interface IssuedSession {
  sessionId: string
  refreshToken: string
}

/** A login: a new session (refresh-token family) and its first refresh token. */
export async function startSession(
  db: Executor,
  userId: string,
  expireDays: number,
  client: SessionClient,
): Promise<IssuedSession> {
  const sessionId = uuidv7()
  const expiresAt = new Date(Date.now() + expireDays * DAY_MS)
  const insert = async (tx: Executor) => {
    await tx.insert(sessions).values({ id: sessionId, userId, expiresAt, ...clientColumns(client) })
    return insertRefreshToken(tx, userId, sessionId, expiresAt)
  }
  // Inside a caller's transaction already, or one of its own: a session never exists without its token.
  const refreshToken = 'rollback' in db ? await insert(db) : await db.transaction(insert)
  return { sessionId, refreshToken }
}

/**
 * Rotates a refresh token. The conditional UPDATE is the lock: of two parallel calls with one token exactly
 * one marks it rotated. The session row is updated (and so locked) in the same transaction, so a concurrent
 * revocation either waits for the rotation and then revokes the new token too, or wins and the rotation fails.
 * Presenting a token that was already rotated is reuse and revokes its whole family.
 */
export async function rotateRefreshToken(
  db: Executor,
  token: string,
  expireDays: number,
  client: SessionClient,
): Promise<{ userId: string; sessionId: string; refreshToken: string }> {
  const hash = hashRefreshToken(token)
  const claimed = await db
    .transaction(async (tx) => {
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
      const expiresAt = new Date(Date.now() + expireDays * DAY_MS)
      const [session] = await tx
        .update(sessions)
        .set({ lastUsedAt: sql`now()`, expiresAt, ...clientColumns(client) })
        .where(and(eq(sessions.id, row.familyId), isNull(sessions.revokedAt)))
        .returning({ id: sessions.id })
      // The session ended meanwhile: undo the claim, the token is as dead as its session.
      if (!session) throw new SessionEnded()
      return {
        userId: row.userId,
        sessionId: row.familyId,
        refreshToken: await insertRefreshToken(tx, row.userId, row.familyId, expiresAt),
      }
    })
    .catch((error: unknown) => {
      if (error instanceof SessionEnded) return undefined
      throw error
    })
  if (claimed) return claimed

  const [known] = await db
    .select({ familyId: refreshTokens.familyId, rotatedAt: refreshTokens.rotatedAt })
    .from(refreshTokens)
    .where(eq(refreshTokens.tokenHash, hash))
  if (known?.rotatedAt) {
    const ended = await revokeSessions(db, [known.familyId])
    throw new ReuseDetected(ended)
  }
  throw new AppError('INVALID_TOKEN', 'Refresh token is invalid, expired or revoked')
}

/** 401 INVALID_TOKEN that also names the sessions it ended, so the caller can announce them. */
export class ReuseDetected extends AppError {
  constructor(readonly endedSessions: string[]) {
    super('INVALID_TOKEN', 'Refresh token was already used; the session has been revoked')
  }
}

class SessionEnded extends Error {}

/**
 * Ends sessions: the session row first (it serializes with a rotation in flight), then every token of the
 * family. Returns the ids that were still live, which the caller announces once this has committed.
 */
export async function revokeSessions(db: Executor, sessionIds: string[]): Promise<string[]> {
  if (sessionIds.length === 0) return []
  const ended = await db
    .update(sessions)
    .set({ revokedAt: sql`now()` })
    .where(and(inArray(sessions.id, sessionIds), isNull(sessions.revokedAt)))
    .returning({ id: sessions.id })
  await db
    .update(refreshTokens)
    .set({ revokedAt: sql`now()` })
    .where(and(inArray(refreshTokens.familyId, sessionIds), isNull(refreshTokens.revokedAt)))
  return ended.map((row) => row.id)
}

/** Every live session of a user (password change and reset). */
export async function revokeUserSessions(db: Executor, userId: string): Promise<string[]> {
  const live = await db
    .select({ id: sessions.id })
    .from(sessions)
    .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt)))
  return revokeSessions(
    db,
    live.map((row) => row.id),
  )
}

/** Logout: the family of the presented token; an unknown token ends nothing (logout is idempotent). */
export async function revokeByToken(db: Executor, token: string): Promise<string[]> {
  const [known] = await db
    .select({ familyId: refreshTokens.familyId })
    .from(refreshTokens)
    .where(eq(refreshTokens.tokenHash, hashRefreshToken(token)))
  return known ? revokeSessions(db, [known.familyId]) : []
}

/** One of the user's own live sessions; false when it is not theirs, unknown or already ended. */
export async function revokeOwnSession(db: Executor, userId: string, sessionId: string): Promise<string[]> {
  const [owned] = await db
    .select({ id: sessions.id })
    .from(sessions)
    .where(and(eq(sessions.id, sessionId), eq(sessions.userId, userId), isNull(sessions.revokedAt)))
  return owned ? revokeSessions(db, [owned.id]) : []
}

/** The user's live sessions, newest first. */
export function listSessions(db: Executor, userId: string) {
  return db
    .select({
      id: sessions.id,
      createdAt: sessions.createdAt,
      lastUsedAt: sessions.lastUsedAt,
      userAgent: sessions.userAgent,
      ip: sessions.ip,
    })
    .from(sessions)
    .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt), gt(sessions.expiresAt, sql`now()`)))
    .orderBy(desc(sessions.createdAt), desc(sessions.id))
}
