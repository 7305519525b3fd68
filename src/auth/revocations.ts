import { and, eq, gt, isNotNull, sql } from 'drizzle-orm'
import type { FastifyBaseLogger } from 'fastify'
import type { Db } from '../db/client.js'
import { sessions } from '../db/schema.js'
import type { Redis } from '../lib/redis.js'

const CHANNEL = 'mini-crm:sessions-revoked'
/** Covers access tokens signed just after their session ended (a refresh racing the revocation). */
const MARGIN_MS = 60_000
/** The backstop poll looks this far behind its previous run: a revocation commits well within it. */
const POLL_OVERLAP_MS = 60_000

export interface RevocationOptions {
  /** Access-token lifetime: a session revoked longer ago than this has no live access token left. */
  accessTokenLifetimeMs: number
  /** How often every instance reads recent revocations from the database, whatever Redis does. */
  pollIntervalMs?: number
  log: FastifyBaseLogger
}

/**
 * Which sessions have ended, so their access tokens fail at once without a database round trip per request.
 *
 * Every instance keeps the set of sessions revoked within the last access-token lifetime (older ones have no
 * live access token left). It is loaded from the database at start, grows when this instance ends a session,
 * and hears other instances' revocations through Redis pub/sub (`REDIS_URL`).
 *
 * Fail safe: while the set might miss a revocation (REDIS_URL set but the subscription not up: Redis away, a
 * reconnection, or not yet connected at start), each request's session is checked in the database instead;
 * after every (re)subscription the set is reloaded, then trusted again. A poll of recent revocations every few
 * seconds bounds what a lost message could leave (a publish that failed, or several instances without Redis).
 */
export class SessionRevocations {
  /** Session id → when to forget it (its access tokens have all expired by then). */
  private readonly revoked = new Map<string, number>()
  private readonly retainMs: number
  private subscriber: Redis | undefined
  /** True while the set is known complete; always true without Redis (one instance, in process). */
  private synced: boolean
  private syncGeneration = 0
  private pollTimer: NodeJS.Timeout | undefined
  private lastPoll = new Date(0)
  private readonly onMessage = (message: string) => {
    for (const id of parseIds(message)) this.remember(id, Date.now() + this.retainMs)
  }

  constructor(
    private readonly db: Db,
    private readonly redis: Redis | undefined,
    private readonly options: RevocationOptions,
  ) {
    this.retainMs = options.accessTokenLifetimeMs + MARGIN_MS
    this.synced = redis === undefined
  }

  /** Loads the recent revocations (start-up fails if the database cannot say) and starts listening. */
  async start(): Promise<void> {
    await this.load()
    this.listen()
    const interval = this.options.pollIntervalMs ?? 5_000
    this.pollTimer = setInterval(() => {
      this.poll().catch((error: unknown) => this.options.log.warn({ err: error }, 'revocation poll failed'))
    }, interval)
    this.pollTimer.unref()
  }

  /** Whether the in-memory set alone decides (false: each request's session is checked in the database). */
  get trusted(): boolean {
    return this.synced && (this.subscriber === undefined || this.subscriber.isReady)
  }

  /**
   * The hot path: a Map lookup. Only while the set cannot be trusted does it ask the database; a session row
   * that is missing (its user deleted) is left to the routes, which answer 401 for a user that is gone.
   */
  isRevoked(sessionId: string): boolean | Promise<boolean> {
    const forgetAt = this.revoked.get(sessionId)
    if (forgetAt !== undefined) {
      if (forgetAt > Date.now()) return true
      this.revoked.delete(sessionId)
    }
    return this.trusted ? false : this.checkDatabase(sessionId)
  }

  /** Call once the revocation has committed: this instance at once, the others through Redis. */
  async ended(sessionIds: readonly string[]): Promise<void> {
    if (sessionIds.length === 0) return
    const forgetAt = Date.now() + this.retainMs
    for (const id of sessionIds) this.remember(id, forgetAt)
    if (this.redis?.isReady) {
      await this.redis.publish(CHANNEL, JSON.stringify(sessionIds)).catch((error: unknown) => {
        this.options.log.warn({ err: error }, 'revocation not published; other instances learn it by polling')
      })
    }
  }

  async close(): Promise<void> {
    clearInterval(this.pollTimer)
    const subscriber = this.subscriber
    if (!subscriber) return
    if (subscriber.isOpen) await subscriber.close().catch(() => subscriber.destroy())
    else subscriber.destroy()
  }

  private remember(id: string, forgetAt: number): void {
    const known = this.revoked.get(id)
    if (known === undefined || known < forgetAt) this.revoked.set(id, forgetAt)
  }

  private async checkDatabase(sessionId: string): Promise<boolean> {
    const [row] = await this.db
      .select({ revokedAt: sessions.revokedAt })
      .from(sessions)
      .where(eq(sessions.id, sessionId))
    if (row?.revokedAt) {
      this.remember(sessionId, row.revokedAt.getTime() + this.retainMs)
      return true
    }
    return false
  }

  /** Every session revoked within the retention window, with the database's own clock. */
  private async load(): Promise<void> {
    const started = new Date()
    const rows = await this.db
      .select({ id: sessions.id, revokedAt: sessions.revokedAt })
      .from(sessions)
      .where(
        and(
          isNotNull(sessions.revokedAt),
          gt(sessions.revokedAt, sql`now() - make_interval(secs => ${this.retainMs / 1000})`),
        ),
      )
    this.addRows(rows)
    this.lastPoll = started
  }

  private async poll(): Promise<void> {
    const started = new Date()
    const since = new Date(this.lastPoll.getTime() - POLL_OVERLAP_MS)
    const rows = await this.db
      .select({ id: sessions.id, revokedAt: sessions.revokedAt })
      .from(sessions)
      .where(and(isNotNull(sessions.revokedAt), gt(sessions.revokedAt, since)))
    this.addRows(rows)
    this.lastPoll = started
    const now = Date.now()
    for (const [id, forgetAt] of this.revoked) if (forgetAt <= now) this.revoked.delete(id)
  }

  private addRows(rows: { id: string; revokedAt: Date | null }[]): void {
    for (const row of rows) {
      if (row.revokedAt) this.remember(row.id, row.revokedAt.getTime() + this.retainMs)
    }
  }

  /**
   * A connection of its own (a subscribed connection can do nothing else), connected in the background like the
   * main client. Each time the subscription is (re)confirmed, the set is reloaded before it is trusted again:
   * messages published while it was down are lost, but their revocations are in the database.
   */
  private listen(): void {
    if (!this.redis) return
    const subscriber = this.redis.duplicate()
    this.subscriber = subscriber
    const distrust = () => {
      this.synced = false
      this.syncGeneration++
    }
    subscriber.on('error', distrust)
    subscriber.on('end', distrust)
    subscriber.on('reconnecting', distrust)
    subscriber.on('ready', () => {
      void this.resync(subscriber)
    })
    subscriber.connect().catch((error: unknown) => {
      this.options.log.warn({ err: error }, 'session revocation channel unavailable; checking the database')
    })
  }

  private async resync(subscriber: Redis): Promise<void> {
    const generation = ++this.syncGeneration
    try {
      // Subscribing again with the same listener is idempotent; its reply proves the subscription is live.
      await subscriber.subscribe(CHANNEL, this.onMessage)
      await this.load()
      if (generation === this.syncGeneration && subscriber.isReady) this.synced = true
    } catch (error) {
      this.options.log.warn({ err: error }, 'session revocation channel not synced; checking the database')
    }
  }
}

function parseIds(message: string): string[] {
  try {
    const parsed: unknown = JSON.parse(message)
    return Array.isArray(parsed) ? parsed.filter((id): id is string => typeof id === 'string') : []
  } catch {
    return []
  }
}
