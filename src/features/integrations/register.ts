import type { FastifyInstance } from 'fastify'
import { ApiKeyCache } from '../api-keys/keys.js'
import { ApiKey, CreatedApiKey } from '../api-keys/schemas.js'
import { WebhookDispatcher } from '../webhooks/dispatcher.js'
import { CreatedWebhook, Delivery, Webhook, WebhookSecret } from '../webhooks/schemas.js'
import { registerIdempotency } from './idempotency.js'
import { registerRequestRateLimit } from './request-limit.js'

export interface IntegrationOptions {
  /** Run the webhook dispatcher in this instance (default true; tests turn it on where they need it). */
  dispatcher?: boolean | { pollIntervalMs?: number; timeoutMs?: number }
}

const WRITE_METHODS = new Set(['POST', 'PATCH', 'DELETE'])

/**
 * Spec §16 as one registration step of buildApp: the API key cache, the request rate limit, idempotent
 * writes and the webhook dispatcher. Call after the authentication hook.
 */
export function registerIntegrations(app: FastifyInstance, options: IntegrationOptions = {}): void {
  // Named components, added at the root: a child context adding schemas would get Fastify's default
  // validator (which drops unknown fields) instead of ours (which refuses them).
  for (const schema of [ApiKey, CreatedApiKey, Webhook, CreatedWebhook, WebhookSecret, Delivery]) {
    app.addSchema(schema)
  }
  const apiKeys = new ApiKeyCache(app.db.db, app.redis)
  app.decorate('apiKeys', apiKeys)
  apiKeys.listen(app.log)
  app.membershipCache.onForget((organizationId, userId) => apiKeys.forgetMember(organizationId, userId))
  app.addHook('onClose', () => apiKeys.close())
  app.decorateRequest('apiKey', undefined)

  registerRequestRateLimit(app, app.config.rateLimitPerMinute)
  registerIdempotency(app)

  const enabled = options.dispatcher ?? true
  if (!enabled) {
    app.decorate('webhookDispatcher', undefined)
    return
  }
  const dispatcher = new WebhookDispatcher(app.db.db, app.log.child({ component: 'webhooks' }), {
    retryDelaysSeconds: app.config.webhookRetryDelays,
    allowPrivateUrls: app.config.webhookAllowPrivateUrls,
    ...(typeof enabled === 'object' ? enabled : {}),
  })
  app.decorate('webhookDispatcher', dispatcher)
  app.addHook('onReady', async () => dispatcher.start())
  // Before the database closes; events of requests still finishing stay in the outbox for the next start.
  app.addHook('preClose', () => dispatcher.stop())
  // A write that committed may have recorded events: deliver them now rather than at the next poll.
  app.addHook('onResponse', async (request, reply) => {
    if (WRITE_METHODS.has(request.method) && reply.statusCode < 400) dispatcher.nudge()
  })
}
