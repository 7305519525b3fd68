import type { MembershipCache } from './auth/membership-cache.js'
import type { Actor } from './auth/policy.js'
import type { AccessTokenIssuer } from './auth/tokens.js'
import type { Config } from './config.js'
import type { Database } from './db/client.js'
import type { AnalyticsCache } from './features/analytics/cache.js'
import type { RateLimiter, RateLimits } from './lib/rate-limit.js'
import type { Redis } from './lib/redis.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
    db: Database
    redis: Redis | undefined
    tokens: AccessTokenIssuer
    membershipCache: MembershipCache
    rateLimiter: RateLimiter
    rateLimits: RateLimits
    analyticsCache: AnalyticsCache
  }
  interface FastifyRequest {
    /** Set by the authentication hook on every non-public route. */
    userId: string
    /** Who acts, set by the tenant and organization hooks; operations take it. */
    actor: Actor
  }
  interface FastifyContextConfig {
    /** Reachable without an access token (spec §1); the one authentication hook reads it. */
    public?: boolean
  }
}
