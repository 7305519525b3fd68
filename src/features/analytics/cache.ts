import type { FastifyBaseLogger } from 'fastify'
import type { Redis } from '../../lib/redis.js'
import { withTimeout } from '../../lib/timeout.js'

/**
 * Upper bound on any cached result's age. Writes invalidate at once (generations); this only bounds the
 * damage when a generation bump could not reach Redis (another instance may serve the old generation).
 */
export const CACHE_TTL_MS = 60_000
/** A slow Redis must not slow the dashboards: past this, compute without the cache. */
const REDIS_TIMEOUT_MS = 250
/** Generation counters of organizations without writes for this long are dropped (values are long gone). */
const GENERATION_TTL_MS = 30 * 24 * 60 * 60 * 1000
/** Bound of the in-process cache (entries and generations), evicted oldest first. */
const MEMORY_MAX_ENTRIES = 10_000

export interface Computed<T> {
  value: T
  /** How long the value stays right without any write (time-dependent results); default CACHE_TTL_MS. */
  validForMs?: number | undefined
}

export interface AnalyticsCache {
  /**
   * The cached value of `name` for the organization's current generation, or `compute()` (stored under the
   * generation read BEFORE computing, so a write that commits meanwhile can never hide behind it).
   * Any cache failure computes without the cache.
   */
  get<T>(organizationId: string, name: string, compute: () => Promise<Computed<T>>): Promise<T>
  /** Starts a new generation: every cached value of the organization is unreachable. Never throws. */
  invalidate(organizationId: string): Promise<void>
  /** Lookups since start: served from the cache, computed, or computed because the cache was unavailable. */
  stats(): CacheStats
}

export interface CacheStats {
  hits: number
  misses: number
  bypassed: number
}

/** Where generations and values live. `generation` answers undefined when caching is off for now. */
interface Store {
  generation(organizationId: string): Promise<string | undefined>
  read(key: string): Promise<string | undefined>
  write(key: string, value: string, ttlMs: number): Promise<void>
  bump(organizationId: string): Promise<void>
}

export function analyticsCache(redis: Redis | undefined, log: FastifyBaseLogger): AnalyticsCache {
  return generationalCache(redis ? redisStore(redis) : memoryStore(), log)
}

function generationalCache(store: Store, log: FastifyBaseLogger): AnalyticsCache {
  // Concurrent misses of one key share one computation (a dashboard refresh storm after a write).
  const inflight = new Map<string, Promise<unknown>>()
  let failing = false
  const stats: CacheStats = { hits: 0, misses: 0, bypassed: 0 }
  const failed = (error: unknown) => {
    if (!failing) log.warn({ err: error }, 'analytics cache unavailable; computing without it')
    failing = true
    return undefined
  }

  return {
    async get<T>(organizationId: string, name: string, compute: () => Promise<Computed<T>>) {
      const generation = await store.generation(organizationId).catch(failed)
      if (generation === undefined) {
        stats.bypassed++
        return (await compute()).value
      }
      const key = `analytics:v1:${organizationId}:${generation}:${name}`
      const hit = await store.read(key).catch(failed)
      if (hit !== undefined) {
        failing = false
        stats.hits++
        return JSON.parse(hit) as T
      }
      stats.misses++
      let pending = inflight.get(key) as Promise<T> | undefined
      if (!pending) {
        pending = (async () => {
          const { value, validForMs } = await compute()
          const ttlMs = Math.floor(Math.min(CACHE_TTL_MS, validForMs ?? CACHE_TTL_MS))
          if (ttlMs > 0) {
            await store.write(key, JSON.stringify(value), ttlMs).then(() => {
              failing = false
            }, failed)
          }
          return value
        })().finally(() => inflight.delete(key))
        inflight.set(key, pending)
      }
      return pending
    },
    async invalidate(organizationId) {
      await store.bump(organizationId).catch(failed)
    },
    stats: () => ({ ...stats }),
  }
}

/** One process: generations come from one counter, so an evicted organization never reuses a number. */
function memoryStore(): Store {
  let counter = 0
  const generations = new Map<string, number>()
  const values = new Map<string, { value: string; expiresAt: number }>()
  const remember = <V>(map: Map<string, V>, key: string, value: V) => {
    map.delete(key)
    map.set(key, value)
    if (map.size > MEMORY_MAX_ENTRIES) map.delete(map.keys().next().value as string)
  }
  return {
    async generation(organizationId) {
      let generation = generations.get(organizationId)
      if (generation === undefined) {
        generation = ++counter
        remember(generations, organizationId, generation)
      }
      return String(generation)
    },
    async read(key) {
      const entry = values.get(key)
      if (!entry) return undefined
      if (entry.expiresAt > Date.now()) return entry.value
      values.delete(key)
      return undefined
    },
    async write(key, value, ttlMs) {
      remember(values, key, { value, expiresAt: Date.now() + ttlMs })
    },
    async bump(organizationId) {
      remember(generations, organizationId, ++counter)
    },
  }
}

/**
 * Shared by every instance: `INCR analytics:gen:<org>` after each write. A bump that cannot reach Redis is
 * kept and retried (on reconnect, or before the next cache use); until it lands this instance computes that
 * organization's analytics without the cache, and other instances are bounded by CACHE_TTL_MS.
 */
function redisStore(redis: Redis): Store {
  // Client-side command timeouts only cover commands not yet written; a stalled server needs a race.
  const within = <T>(command: Promise<T>) => withTimeout(command, REDIS_TIMEOUT_MS)
  const generationKey = (organizationId: string) => `analytics:gen:${organizationId}`
  // Organization → number of bumps asked for; an entry leaves only once a bump sent after the last ask landed.
  const unsentBumps = new Map<string, number>()

  const sendBumps = async () => {
    if (!redis.isReady) throw new Error('redis is not connected')
    await Promise.all(
      [...unsentBumps].map(async ([organizationId, asked]) => {
        const key = generationKey(organizationId)
        await within(redis.multi().incr(key).pExpire(key, GENERATION_TTL_MS).exec())
        if (unsentBumps.get(organizationId) === asked) unsentBumps.delete(organizationId)
      }),
    )
  }
  redis.on('ready', () => {
    sendBumps().catch(() => {})
  })

  return {
    async generation(organizationId) {
      if (!redis.isReady) return undefined
      if (unsentBumps.size > 0) await sendBumps().catch(() => {})
      if (unsentBumps.has(organizationId)) return undefined
      return (await within(redis.get(generationKey(organizationId)))) ?? '0'
    },
    async read(key) {
      return (await within(redis.get(key))) ?? undefined
    },
    async write(key, value, ttlMs) {
      await within(redis.set(key, value, { expiration: { type: 'PX', value: ttlMs } }))
    },
    async bump(organizationId) {
      unsentBumps.set(organizationId, (unsentBumps.get(organizationId) ?? 0) + 1)
      await sendBumps()
    },
  }
}
