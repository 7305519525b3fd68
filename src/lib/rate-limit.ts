import { type Redis, redisCall } from './redis.js'

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
  // Spec §15 asks for at least 5 per email per 15 minutes and 30 per address per minute.
  passwordResetPerEmail: { limit: 5, windowMs: 15 * 60_000 },
  passwordResetPerAddress: { limit: 30, windowMs: 60_000 },
  passwordResetConfirmPerAddress: { limit: 30, windowMs: 60_000 },
  // A stolen access token must not become a password oracle.
  passwordChangePerUser: { limit: 10, windowMs: 15 * 60_000 },
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

/**
 * Fixed-window counters in Redis, shared by every instance, and always also in process memory; the stricter
 * answer wins. So a Redis outage (down, or hung: every call is bounded by REDIS_TIMEOUT_MS) neither resets
 * nor splits an attacker's count on this instance: memory has counted every attempt it saw, before and during
 * the outage. Across N instances an outage can allow up to N times the limit until Redis is back.
 */
export function redisRateLimiter(redis: Redis, local = memoryRateLimiter()): RateLimiter {
  const shared = async (key: string, rule: RateLimitRule): Promise<RateLimitResult | undefined> => {
    if (!redis.isReady) return undefined
    const redisKey = `ratelimit:${key}`
    try {
      const [count, ttl] = (await redisCall(
        redis.multi().incr(redisKey).pExpire(redisKey, rule.windowMs, 'NX').pTTL(redisKey).exec(),
      )) as unknown as [number, number, number]
      return result(Number(count), rule, Number(ttl) > 0 ? Number(ttl) : rule.windowMs)
    } catch {
      return undefined
    }
  }
  return {
    async hit(key, rule) {
      const [mine, everyone] = await Promise.all([local.hit(key, rule), shared(key, rule)])
      if (!everyone || (mine.allowed && everyone.allowed)) return everyone ?? mine
      const denied = [mine, everyone].filter((answer) => !answer.allowed)
      return {
        allowed: false,
        retryAfterSeconds: Math.max(...denied.map((d) => d.retryAfterSeconds)),
        remaining: 0,
      }
    },
  }
}
