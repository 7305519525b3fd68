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
 *
 * A deleted user must lose access at once (issue 8 §2), and users are deleted outside the app too (SQL). The
 * database tells us: a trigger on `users` NOTIFYs in the deleting transaction, and `watchUserDeletions`
 * (auth/user-deletions.ts) calls `forgetUser`. The cache answers only while that watch is live; without it
 * every lookup goes to the database, which is correct, only slower.
 */
export class MembershipCache {
  private readonly entries = new Map<string, { role: Role; expiresAt: number }>()
  private subscriber: Redis | undefined
  private watched = false
  /**
   * Bumped by every invalidation. A lookup that started before one must not store what it read, which may
   * predate the change (read, then the user is deleted and forgotten, then the stale role is stored).
   */
  generation = 0
  private readonly listeners: ((organizationId: string, userId: string) => void)[] = []
  /** Resolves once this instance hears other instances' changes (never, without Redis). */
  listening: Promise<void> = new Promise(() => {})

  constructor(private readonly redis: Redis | undefined) {}

  private static key(organizationId: string, userId: string): string {
    return `${organizationId}:${userId}`
  }

  get(organizationId: string, userId: string): Role | undefined {
    if (!this.watched) return undefined
    const key = MembershipCache.key(organizationId, userId)
    const entry = this.entries.get(key)
    if (!entry) return undefined
    if (entry.expiresAt <= Date.now()) {
      this.entries.delete(key)
      return undefined
    }
    return entry.role
  }

  /** Stores a role read from the database, unless an invalidation happened since `generation` was taken. */
  set(organizationId: string, userId: string, role: Role, generation = this.generation): void {
    if (!this.watched || generation !== this.generation) return
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear()
    this.entries.set(MembershipCache.key(organizationId, userId), { role, expiresAt: Date.now() + TTL_MS })
  }

  /** Also tell `listener` about every forgotten membership, local or heard from another instance. */
  onForget(listener: (organizationId: string, userId: string) => void): void {
    this.listeners.push(listener)
  }

  private forgetLocally(key: string): void {
    this.generation++
    this.entries.delete(key)
    const [organizationId = '', userId = ''] = key.split(':')
    for (const listener of this.listeners) listener(organizationId, userId)
  }

  /** Call after a membership change commits. */
  async forget(organizationId: string, userId: string): Promise<void> {
    const key = MembershipCache.key(organizationId, userId)
    this.forgetLocally(key)
    // Bounded: a hung Redis must not hold up the role change; a lost message is bounded by TTL_MS.
    if (this.redis?.isReady) await redisCall(this.redis.publish(CHANNEL, key)).catch(() => {})
  }

  /** Forgets every membership of a user (the database said it was deleted). */
  forgetUser(userId: string): void {
    this.generation++
    const suffix = `:${userId}`
    for (const key of this.entries.keys()) if (key.endsWith(suffix)) this.entries.delete(key)
  }

  /** Whether deletions are being heard; while not, nothing is served from the cache and it starts empty. */
  setWatched(watched: boolean): void {
    this.generation++
    this.entries.clear()
    this.watched = watched
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
    subscriber.on('ready', () => {
      this.generation++
      this.entries.clear()
    })
    this.listening = subscriber
      .connect()
      .then(() => subscriber.subscribe(CHANNEL, (key) => this.forgetLocally(key)))
    this.listening.catch((error: unknown) => {
      log.warn({ err: error }, 'membership invalidation channel unavailable; relying on the cache TTL')
    })
  }

  async close(): Promise<void> {
    const subscriber = this.subscriber
    if (subscriber) await closeRedis(subscriber)
  }
}
