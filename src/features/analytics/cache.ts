import type { FastifyBaseLogger } from 'fastify'
import { setBounded } from '../../lib/bounded-map.js'
import type { Redis } from '../../lib/redis.js'
import { withTimeout } from '../../lib/timeout.js'

/**
 * Upper bound on any cached result's age. Freshness does not depend on it: every key carries the organization's
 * analytics generation, read from the database (see generation.ts), so a write makes old entries unreachable on
 * every instance. This only lets unreachable entries go.
 */
export const CACHE_TTL_MS = 60_000
/** A slow Redis must not slow the dashboards: past this, compute without the cache. */
const REDIS_TIMEOUT_MS = 250
/** Bound of the in-process cache, evicted oldest first. */
const MEMORY_MAX_ENTRIES = 10_000

export interface Computed<T> {
  value: T
  /**
   * How long the value stays right without any write (time-dependent results), as of when `compute` started
   * (the cache takes off the time computing took); default CACHE_TTL_MS.
   */
  validForMs?: number | undefined
}

export interface AnalyticsCache {
  /**
   * The JSON text of `name` for the organization at `generation`, or of `compute()`'s value, stored under it. The
   * text is what a route sends as it is: a hit is never parsed and serialized again. The caller reads the
   * generation BEFORE computing, so a write that commits meanwhile moves readers to a new key and can never hide
   * behind this one. Any cache failure computes without the cache.
   */
  getJson<T>(
    organizationId: string,
    generation: string,
    name: string,
    compute: () => Promise<Computed<T>>,
  ): Promise<string>
  /** Lookups since start: served from the cache, computed, or computed because the cache was unavailable. */
  stats(): CacheStats
}

export interface CacheStats {
  hits: number
  misses: number
  bypassed: number
}

/** Where values live: Redis (shared by every instance) or this process. */
interface Store {
  read(key: string): Promise<string | undefined>
  write(key: string, value: string, ttlMs: number): Promise<void>
}

export function analyticsCache(redis: Redis | undefined, log: FastifyBaseLogger): AnalyticsCache {
  // Redis shares entries between instances; the process keeps its own copy (an entry never changes under its
  // key), so a repeated read on one instance costs no Redis round trip.
  const store = redis ? tieredStore(memoryStore(), redisStore(redis)) : memoryStore()
  // Concurrent misses of one key share one computation (a dashboard refresh storm after a write).
  const inflight = new Map<string, Promise<string>>()
  let failing = false
  const stats: CacheStats = { hits: 0, misses: 0, bypassed: 0 }
  const failed = (error: unknown) => {
    if (!failing) log.warn({ err: error }, 'analytics cache unavailable; computing without it')
    failing = true
    return undefined
  }

  async function getJson<T>(
    organizationId: string,
    generation: string,
    name: string,
    compute: () => Promise<Computed<T>>,
  ): Promise<string> {
    // v5: the generation counts deal writes in list_counts (migration 0009); a v4 instance of a rolling deploy
    // counts them apart, so its numbers must never name the same entry.
    const key = `analytics:v5:${organizationId}:${generation}:${name}`
    let unavailable = false
    const hit = await store.read(key).catch((error) => {
      unavailable = true
      return failed(error)
    })
    if (hit !== undefined) {
      failing = false
      stats.hits++
      return hit
    }
    if (unavailable) stats.bypassed++
    else stats.misses++
    let pending = inflight.get(key)
    if (!pending) {
      pending = (async () => {
        const started = performance.now()
        const { value, validForMs } = await compute()
        const json = JSON.stringify(value)
        const left = validForMs === undefined ? CACHE_TTL_MS : validForMs - (performance.now() - started)
        const ttlMs = Math.floor(Math.min(CACHE_TTL_MS, left))
        if (ttlMs > 0) {
          await store.write(key, json, ttlMs).then(() => {
            failing = false
          }, failed)
        }
        return json
      })().finally(() => inflight.delete(key))
      inflight.set(key, pending)
    }
    return pending
  }

  return {
    getJson,
    stats: () => ({ ...stats }),
  }
}

function memoryStore(): Store {
  const values = new Map<string, { value: string; expiresAt: number }>()
  return {
    async read(key) {
      const entry = values.get(key)
      if (!entry) return undefined
      if (entry.expiresAt > Date.now()) return entry.value
      values.delete(key)
      return undefined
    },
    async write(key, value, ttlMs) {
      values.delete(key)
      setBounded(values, key, { value, expiresAt: Date.now() + ttlMs }, MEMORY_MAX_ENTRIES)
    },
  }
}

/**
 * This process's entries first, then the shared ones. A shared entry carries its expiry time, so the copy kept
 * here lapses when the shared one does (a summary that changes as time passes is never kept past that).
 */
function tieredStore(local: Store, shared: Store): Store {
  return {
    async read(key) {
      const kept = await local.read(key)
      if (kept !== undefined) return kept
      const found = await shared.read(key)
      if (found === undefined) return undefined
      // `<expires at, ms> <json>`, as `write` stores it.
      const separator = found.indexOf(' ')
      const ttlMs = Number(found.slice(0, separator)) - Date.now()
      if (separator < 0 || !(ttlMs > 0)) return undefined
      const value = found.slice(separator + 1)
      await local.write(key, value, ttlMs)
      return value
    },
    async write(key, value, ttlMs) {
      await local.write(key, value, ttlMs)
      await shared.write(key, `${Date.now() + ttlMs} ${value}`, ttlMs)
    },
  }
}

function redisStore(redis: Redis): Store {
  // Client-side command timeouts only cover commands not yet written; a stalled server needs a race.
  const within = <T>(command: Promise<T>) => withTimeout(command, REDIS_TIMEOUT_MS)
  return {
    async read(key) {
      if (!redis.isReady) throw new Error('redis is not connected')
      return (await within(redis.get(key))) ?? undefined
    },
    async write(key, value, ttlMs) {
      if (!redis.isReady) throw new Error('redis is not connected')
      await within(redis.set(key, value, { expiration: { type: 'PX', value: ttlMs } }))
    },
  }
}
