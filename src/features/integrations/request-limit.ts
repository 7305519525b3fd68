import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { AppError } from '../../lib/errors.js'

const WINDOW_MS = 60_000

/**
 * Spec §16 rate limit of authenticated traffic: one fixed one-minute window per user and organization (an API
 * key counts as its user; requests without an organization count under the user alone), shared through Redis
 * when it is set. Runs at preParsing, after every onRequest hook: the caller is authenticated and, on tenant
 * and organization routes, known to be a member, so made-up organization ids cannot buy extra counters.
 */
export function registerRequestRateLimit(app: FastifyInstance, limit: number): void {
  if (limit <= 0) return
  const rule = { limit, windowMs: WINDOW_MS }
  const policy = `"default";q=${limit};w=${WINDOW_MS / 1000}`
  app.addHook('preParsing', async (request: FastifyRequest, reply: FastifyReply) => {
    if (!request.userId) return // public route
    const organizationId = request.actor?.organizationId ?? '-'
    const result = await app.rateLimiter.hit(`api:${request.userId}:${organizationId}`, rule)
    reply.header('ratelimit-policy', policy)
    reply.header('ratelimit', `"default";r=${result.remaining};t=${result.retryAfterSeconds}`)
    if (!result.allowed) {
      throw new AppError('RATE_LIMITED', `More than ${limit} requests in a minute; retry later`, {
        headers: { 'retry-after': String(result.retryAfterSeconds) },
      })
    }
  })
}
