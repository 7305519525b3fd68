import { createHash, randomBytes } from 'node:crypto'
import { and, eq, isNull, lt, or, sql } from 'drizzle-orm'
import type { FastifyBaseLogger, FastifyRequest } from 'fastify'
import type { Db } from '../../db/client.js'
import { type ApiKeyScope, apiKeys } from '../../db/schema.js'
import { AppError } from '../../lib/errors.js'
import type { Redis } from '../../lib/redis.js'

export const API_KEY_PREFIX = 'mcrm_'
const KEY_BYTES = 32
const SHOWN_PREFIX_LENGTH = 12

/** What a presented key stands for; the role is not here: it is the user's current one, read per request. */
export interface ApiKeyIdentity {
  id: string
  organizationId: string
  userId: string
  scope: ApiKeyScope
  expiresAt: Date | null
}

/** What each key scope grants, as the actor's `scopes`. */
export const API_KEY_SCOPES_OF: Record<ApiKeyScope, readonly string[]> = {
  read: ['read'],
  write: ['read', 'write'],
}

export function isApiKey(token: string): boolean {
  return token.startsWith(API_KEY_PREFIX)
}

/** `mcrm_` + 32 random bytes in base64url (256 bits): a fast hash is enough to store it (no guessing). */
export function generateApiKey(): { key: string; prefix: string; hash: string } {
  const key = `${API_KEY_PREFIX}${randomBytes(KEY_BYTES).toString('base64url')}`
  return { key, prefix: key.slice(0, SHOWN_PREFIX_LENGTH), hash: hashApiKey(key) }
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('base64url')
}

const CHANNEL = 'mini-crm:api-key-revoked'
/** Bounds what a lost revocation message (no Redis with several instances, Redis away) could leave valid. */
const TTL_MS = 5_000
const MAX_ENTRIES = 20_000
const LAST_USED_EVERY_MS = 60_000

/**
 * Presented keys (by hash) → identity, so a busy integration costs no key query per request. A revocation
 * forgets the key at once here and, through Redis pub/sub, in every other instance; the role is not cached
 * here (the membership cache, invalidated on every membership change, answers it).
 */
export class ApiKeyCache {
  private readonly entries = new Map<string, { identity: ApiKeyIdentity; expiresAt: number }>()
  private readonly lastUsedWrites = new Map<string, number>()
  private subscriber: Redis | undefined

  constructor(
    private readonly db: Db,
    private readonly redis: Redis | undefined,
  ) {}

  async identify(key: string): Promise<ApiKeyIdentity | undefined> {
    const hash = hashApiKey(key)
    const entry = this.entries.get(hash)
    if (entry && entry.expiresAt > Date.now()) return entry.identity
    const [row] = await this.db
      .select({
        id: apiKeys.id,
        organizationId: apiKeys.organizationId,
        userId: apiKeys.userId,
        scope: apiKeys.scope,
        expiresAt: apiKeys.expiresAt,
      })
      .from(apiKeys)
      .where(eq(apiKeys.keyHash, hash))
    if (!row) {
      this.entries.delete(hash)
      return undefined
    }
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear()
    this.entries.set(hash, { identity: row, expiresAt: Date.now() + TTL_MS })
    return row
  }

  private forgetLocally(id: string): void {
    for (const [hash, entry] of this.entries) if (entry.identity.id === id) this.entries.delete(hash)
  }

  /** A membership changed (maybe ended, deleting its keys): its keys are read afresh. */
  forgetMember(organizationId: string, userId: string): void {
    for (const [hash, { identity }] of this.entries) {
      if (identity.organizationId === organizationId && identity.userId === userId) this.entries.delete(hash)
    }
  }

  /** Call after a revocation commits. */
  async forget(id: string): Promise<void> {
    this.forgetLocally(id)
    if (this.redis?.isReady) await this.redis.publish(CHANNEL, id).catch(() => {})
  }

  /** At most one write a minute per key and process; the WHERE keeps it so across instances too. */
  touch(identity: ApiKeyIdentity, log: FastifyBaseLogger): void {
    const now = Date.now()
    const last = this.lastUsedWrites.get(identity.id)
    if (last !== undefined && now - last < LAST_USED_EVERY_MS) return
    if (this.lastUsedWrites.size >= MAX_ENTRIES) this.lastUsedWrites.clear()
    this.lastUsedWrites.set(identity.id, now)
    // Not awaited: bookkeeping must not slow or fail the request it describes.
    this.db
      .update(apiKeys)
      .set({ lastUsedAt: sql`now()` })
      .where(
        and(
          eq(apiKeys.organizationId, identity.organizationId),
          eq(apiKeys.id, identity.id),
          or(isNull(apiKeys.lastUsedAt), lt(apiKeys.lastUsedAt, sql`now() - interval '1 minute'`)),
        ),
      )
      .catch((error: unknown) => log.warn({ err: error }, 'could not record api key use'))
  }

  listen(log: FastifyBaseLogger): void {
    if (!this.redis) return
    const subscriber = this.redis.duplicate()
    this.subscriber = subscriber
    subscriber.on('error', () => {})
    // After a reconnection messages may have been missed: start clean.
    subscriber.on('ready', () => this.entries.clear())
    subscriber
      .connect()
      .then(() => subscriber.subscribe(CHANNEL, (id) => this.forgetLocally(id)))
      .catch((error: unknown) =>
        log.warn({ err: error }, 'api key revocation channel unavailable; relying on the cache TTL'),
      )
  }

  async close(): Promise<void> {
    const subscriber = this.subscriber
    if (!subscriber) return
    if (subscriber.isOpen) await subscriber.close().catch(() => subscriber.destroy())
    else subscriber.destroy()
  }
}

/** Path prefixes an API key never reaches (spec §16): account, organization and integration management. */
const KEY_FORBIDDEN_PREFIXES = [
  '/api/v1/auth/',
  '/api/v1/organizations',
  '/api/v1/invitations',
  '/api/v1/api-keys',
  '/api/v1/webhooks',
]
const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/** The authentication step for `Bearer mcrm_…`: sets `request.userId` and `request.apiKey`. */
export async function authenticateApiKey(request: FastifyRequest, key: string): Promise<void> {
  const identity = await request.server.apiKeys.identify(key)
  if (!identity) throw new AppError('INVALID_TOKEN', 'API key is invalid or revoked')
  if (identity.expiresAt && identity.expiresAt.getTime() <= Date.now()) {
    throw new AppError('INVALID_TOKEN', 'API key has expired')
  }
  const url = request.routeOptions.url ?? request.url
  if (KEY_FORBIDDEN_PREFIXES.some((prefix) => url === prefix || url.startsWith(prefix))) {
    throw new AppError('FORBIDDEN', 'API keys cannot be used on this route; sign in as the user')
  }
  if (identity.scope === 'read' && !READ_METHODS.has(request.method)) {
    throw new AppError('FORBIDDEN', 'This API key is read-only')
  }
  request.userId = identity.userId
  request.apiKey = identity
  request.server.apiKeys.touch(identity, request.log)
}
