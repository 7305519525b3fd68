import type { Membership } from './auth/access.js'
import type { MembershipCache } from './auth/membership-cache.js'
import type { AccessTokenIssuer } from './auth/tokens.js'
import type { Config } from './config.js'
import type { Database } from './db/client.js'
import type { AnalyticsCache } from './features/analytics/cache.js'
import type { ApiKeyCache, ApiKeyIdentity } from './features/api-keys/keys.js'
import type { WebhookDispatcher } from './features/webhooks/dispatcher.js'
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
    apiKeys: ApiKeyCache
    /** Undefined where this instance does not dispatch. */
    webhookDispatcher: WebhookDispatcher | undefined
  }
  interface FastifyRequest {
    /** Set by the authentication hook on every non-public route. */
    userId: string
    /** Set by the tenant and organization hooks. */
    membership: Membership
    /** Set when the caller authenticated with an API key (spec §16). */
    apiKey: ApiKeyIdentity | undefined
  }
}
