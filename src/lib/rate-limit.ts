import type { Redis } from './redis.js'

export interface RateLimitRule {
  /** Requests allowed per window. */
  limit: number
  windowMs: number
}

/** Named per action in one place; tests may build the app with other numbers. */
export const DEFAULT_RATE_LIMITS = {
  loginPerAddress: { limit: 30, windowMs: 60_000 },
  loginPerEmail: { limit: 10, windowMs: 60_000 },
  registerPerAddress: { limit: 20, windowMs: 60_000 },
  registerPerEmail: { limit: 10, windowMs: 60_000 },
} satisfies Record<string, RateLimitRule>

export type RateLimits = typeof DEFAULT_RATE_LIMITS

export interface RateLimitResult {
  allowed: boolean
  retryAfterSeconds: number
  /** Requests left in this window (0 once it is used up). */
  remaining: number
}

export interface RateLimiter {
  hit(key: string, rule: RateLimitRule): Promise<RateLimitResult>
}

function result(count: number, rule: RateLimitRule, msLeft: number): RateLimitResult {
  return {
    allowed: count <= rule.limit,
    retryAfterSeconds: Math.max(1, Math.ceil(msLeft / 1000)),
    remaining: Math.max(0, rule.limit - count),
  }
}

/** Fixed-window counters in process memory. */
export function memoryRateLimiter(): RateLimiter {
  const windows = new Map<string, { count: number; resetAt: number }>()
  let lastSweep = Date.now()
  return {
    async hit(key, rule) {
      const now = Date.now()
      if (now - lastSweep > 60_000) {
        for (const [k, w] of windows) if (w.resetAt <= now) windows.delete(k)
        lastSweep = now
      }
      let window = windows.get(key)
      if (!window || window.resetAt <= now) {
        window = { count: 0, resetAt: now + rule.windowMs }
        windows.set(key, window)
      }
      window.count += 1
      return result(window.count, rule, window.resetAt - now)
    },
  }
}

/** Fixed-window counters in Redis, shared by every instance; falls back to memory while Redis is away. */
export function redisRateLimiter(redis: Redis, fallback = memoryRateLimiter()): RateLimiter {
  return {
    async hit(key, rule) {
      if (!redis.isReady) return fallback.hit(key, rule)
      try {
        const redisKey = `ratelimit:${key}`
        const [count, ttl] = (await redis
          .multi()
          .incr(redisKey)
          .pExpire(redisKey, rule.windowMs, 'NX')
          .pTTL(redisKey)
          .exec()) as unknown as [number, number, number]
        return result(Number(count), rule, Number(ttl) > 0 ? Number(ttl) : rule.windowMs)
      } catch {
        return fallback.hit(key, rule)
      }
    },
  }
}
