import type { FastifyBaseLogger } from 'fastify'
import type { Role } from '../db/schema.js'
import { closeRedis, type Redis, redisCall } from '../lib/redis.js'

const CHANNEL = 'mini-crm:membership-changed'
/** How long a role is trusted without asking the database; bounds staleness only if invalidation is lost. */
const TTL_MS = 5_000
const MAX_ENTRIES = 50_000

/**
 * Roles of (user, organization) pairs, so the tenant check of a busy user costs no query. Every membership
 * change forgets its entry at once in this process and, through Redis pub/sub, in every other instance; the
 * short TTL bounds what a lost message (Redis away, no Redis with several instances) could leave stale.
 * Only memberships are cached: a non-member is always asked for afresh.
 */
export class MembershipCache {
  private readonly entries = new Map<string, { role: Role; expiresAt: number }>()
  private subscriber: Redis | undefined
  /** Resolves once this instance hears other instances' changes (never, without Redis). */
  listening: Promise<void> = new Promise(() => {})

  constructor(private readonly redis: Redis | undefined) {}

  private static key(organizationId: string, userId: string): string {
    return `${organizationId}:${userId}`
  }

  get(organizationId: string, userId: string): Role | undefined {
    const key = MembershipCache.key(organizationId, userId)
    const entry = this.entries.get(key)
    if (!entry) return undefined
    if (entry.expiresAt <= Date.now()) {
      this.entries.delete(key)
      return undefined
    }
    return entry.role
  }

  set(organizationId: string, userId: string, role: Role): void {
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear()
    this.entries.set(MembershipCache.key(organizationId, userId), { role, expiresAt: Date.now() + TTL_MS })
  }

  /** Call after a membership change commits. */
  async forget(organizationId: string, userId: string): Promise<void> {
    const key = MembershipCache.key(organizationId, userId)
    this.entries.delete(key)
    // Bounded: a hung Redis must not hold up the role change; a lost message is bounded by TTL_MS.
    if (this.redis?.isReady) await redisCall(this.redis.publish(CHANNEL, key)).catch(() => {})
  }

  /**
   * Listens for other instances' changes on a connection of its own (a subscribed connection can do nothing
   * else). Connects in the background, like the main client: Redis never holds up start-up.
   */
  listen(log: FastifyBaseLogger): void {
    if (!this.redis) return
    const subscriber = this.redis.duplicate()
    this.subscriber = subscriber
    subscriber.on('error', () => {})
    // On every (re)connection entries may have missed messages: start clean.
    subscriber.on('ready', () => this.entries.clear())
    this.listening = subscriber.connect().then(() =>
      subscriber.subscribe(CHANNEL, (key) => {
        this.entries.delete(key)
      }),
    )
    this.listening.catch((error: unknown) => {
      log.warn({ err: error }, 'membership invalidation channel unavailable; relying on the cache TTL')
    })
  }

  async close(): Promise<void> {
    const subscriber = this.subscriber
    if (subscriber) await closeRedis(subscriber)
  }
}
