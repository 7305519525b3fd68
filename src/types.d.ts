import type { MembershipCache } from './auth/membership-cache.js'
import type { Actor } from './auth/policy.js'
import type { SessionRevocations } from './auth/revocations.js'
import type { AccessTokenIssuer } from './auth/tokens.js'
import type { Config } from './config.js'
import type { Database } from './db/client.js'
import type { AnalyticsCache } from './features/analytics/cache.js'
import type { ApiKeyCache, ApiKeyIdentity } from './features/api-keys/keys.js'
import type { WebhookDispatcher } from './features/webhooks/dispatcher.js'
import type { Background } from './lib/background.js'
import type { Clock } from './lib/clock.js'
import type { Mailer } from './lib/mailer.js'
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
    revocations: SessionRevocations
    mailer: Mailer
    clock: Clock
    background: Background
    apiKeys: ApiKeyCache
    /** Undefined where this instance does not dispatch. */
    webhookDispatcher: WebhookDispatcher | undefined
  }
  interface FastifyRequest {
    /** Set by the authentication hook on every non-public route. */
    userId: string
    /** The session (`sid`) of the caller's access token. */
    sessionId: string
    /** Who acts, set by the tenant and organization hooks; operations take it. */
    actor: Actor
    /** Set when the caller authenticated with an API key (spec §16). */
    apiKey: ApiKeyIdentity | undefined
  }
  interface FastifyContextConfig {
    /** Reachable without an access token (spec §1); the one authentication hook reads it. */
    public?: boolean
  }
}
