import { createHash } from 'node:crypto'
import { and, eq, lte, sql } from 'drizzle-orm'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { queryRows } from '../../db/client.js'
import { idempotencyKeys } from '../../db/schema.js'
import { AppError } from '../../lib/errors.js'

const METHODS = new Set(['POST', 'PATCH', 'DELETE'])
/** 1..255 visible ASCII characters (spec §16). */
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/
/** Longer than the request timeout (30 s): a claim older than this belongs to a request that died. */
const LOCK_SECONDS = 60
const RETENTION_HOURS = 24
const CLEANUP_EVERY_MS = 10 * 60_000

const IDEMPOTENCY_KEY_HEADER = {
  type: 'string',
  minLength: 1,
  maxLength: 255,
  pattern: '^[\\x21-\\x7e]+$',
  description:
    'Makes a retry safe: the same key with the same request replays the first answer (Idempotent-Replayed: ' +
    'true) for 24 hours; with another request 422, while the first runs 409',
}

interface Claim {
  userId: string
  key: string
  fingerprint: string
  /** The serialized response, captured at onSend and stored at onResponse. */
  status?: number
  contentType?: string | undefined
  body?: string
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The raw JSON body as received (for the idempotency fingerprint: the same bytes, not the same value). */
    rawBody?: string
    idempotencyClaim?: Claim
  }
}

/**
 * `Idempotency-Key` on authenticated POST, PATCH and DELETE. The record lives in the database, so it holds
 * with several instances and without Redis: one `INSERT … ON CONFLICT` claims the key atomically (the only
 * extra round trip on the normal path); the response is stored after it has been sent. Of two parallel
 * identical requests exactly one claims the key and runs; the other gets 409 until the first is stored.
 */
export function registerIdempotency(app: FastifyInstance): void {
  // Documented (and validated) on every authenticated write: the route's header schema gains the header.
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method]
    if (
      !route.schema ||
      (route.config as { public?: boolean } | undefined)?.public ||
      !methods.some((m) => METHODS.has(m))
    )
      return
    const headers = (route.schema.headers ?? { type: 'object' }) as {
      properties?: Record<string, unknown>
    }
    route.schema = {
      ...route.schema,
      headers: {
        ...headers,
        properties: { ...headers.properties, 'idempotency-key': IDEMPOTENCY_KEY_HEADER },
      },
    }
  })

  // Keep the body's bytes: the fingerprint covers exactly what the client sent.
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    request.rawBody = body as string
    parseJson(request, body as string, done)
  })

  app.addHook('preHandler', async (request, reply) => {
    const header = request.headers['idempotency-key']
    if (header === undefined || !request.userId || !METHODS.has(request.method)) return
    if (typeof header !== 'string' || !KEY_PATTERN.test(header)) {
      throw new AppError('VALIDATION_ERROR', 'Idempotency-Key must be 1..255 visible ASCII characters', {
        errors: [{ field: 'headers.idempotency-key', message: 'must be 1..255 visible ASCII characters' }],
      })
    }
    const claim: Claim = { userId: request.userId, key: header, fingerprint: fingerprint(request) }
    if (await tryClaim(app, claim)) {
      request.idempotencyClaim = claim
      return
    }
    return replayOrRefuse(app, request, reply, claim)
  })

  app.addHook('onSend', async (request, reply, payload) => {
    const claim = request.idempotencyClaim
    if (!claim) return payload
    claim.status = reply.statusCode
    claim.contentType = reply.getHeader('content-type') as string | undefined
    claim.body = typeof payload === 'string' ? payload : payload == null ? '' : undefined
    return payload
  })

  app.addHook('onResponse', async (request) => {
    const claim = request.idempotencyClaim
    if (!claim) return
    const where = and(
      eq(idempotencyKeys.userId, claim.userId),
      eq(idempotencyKeys.key, claim.key),
      eq(idempotencyKeys.fingerprint, claim.fingerprint),
    )
    try {
      // Nothing is kept for a server error (the client may try again) or a body that was not text.
      if (claim.status === undefined || claim.status >= 500 || claim.body === undefined) {
        await app.db.db.delete(idempotencyKeys).where(where)
        return
      }
      await app.db.db
        .update(idempotencyKeys)
        .set({ status: claim.status, contentType: claim.contentType ?? null, body: claim.body })
        .where(where)
    } catch (error) {
      // The claim then expires by itself (LOCK_SECONDS); until then a retry is told to wait.
      request.log.error({ err: error }, 'could not store the idempotent response')
    }
  })

  let timer: NodeJS.Timeout | undefined
  app.addHook('onReady', async () => {
    const cleanup = () =>
      app.db.db
        .delete(idempotencyKeys)
        .where(lte(idempotencyKeys.expiresAt, sql`now()`))
        .catch((error: unknown) => app.log.warn({ err: error }, 'idempotency cleanup failed'))
    timer = setInterval(cleanup, CLEANUP_EVERY_MS)
    timer.unref()
    void cleanup()
  })
  app.addHook('onClose', async () => clearInterval(timer))
}

/** Method, path with query, organization and the body's bytes: "the same request". */
function fingerprint(request: FastifyRequest): string {
  const organization = request.headers['x-organization-id'] ?? ''
  return createHash('sha256')
    .update(`${request.method}\n${request.url}\n${String(organization).toLowerCase()}\n`)
    .update(request.rawBody ?? '')
    .digest('base64url')
}

/** One statement: a new key, or one whose record expired or whose request died, becomes ours. */
async function tryClaim(app: FastifyInstance, claim: Claim): Promise<boolean> {
  const rows = await queryRows<{ claimed: boolean }>(
    app.db.db,
    sql`INSERT INTO ${idempotencyKeys} (user_id, key, fingerprint, locked_until, expires_at)
    VALUES (${claim.userId}, ${claim.key}, ${claim.fingerprint},
      now() + make_interval(secs => ${LOCK_SECONDS}), now() + make_interval(hours => ${RETENTION_HOURS}))
    ON CONFLICT (user_id, key) DO UPDATE SET
      fingerprint = EXCLUDED.fingerprint, status = NULL, content_type = NULL, body = NULL,
      locked_until = EXCLUDED.locked_until, created_at = now(), expires_at = EXCLUDED.expires_at
    WHERE ${idempotencyKeys.expiresAt} <= now()
      OR (${idempotencyKeys.status} IS NULL AND ${idempotencyKeys.lockedUntil} <= now())
    RETURNING true AS claimed`,
  )
  return rows.length > 0
}

async function replayOrRefuse(
  app: FastifyInstance,
  request: FastifyRequest,
  reply: FastifyReply,
  claim: Claim,
): Promise<FastifyReply | undefined> {
  const [existing] = await app.db.db
    .select()
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.userId, claim.userId), eq(idempotencyKeys.key, claim.key)))
  if (!existing) {
    // Released in between (the first request failed with a 5xx): this request may run after all.
    if (await tryClaim(app, claim)) {
      request.idempotencyClaim = claim
      return undefined
    }
    throw inUse()
  }
  if (existing.fingerprint !== claim.fingerprint) {
    throw new AppError(
      'IDEMPOTENCY_KEY_REUSED',
      'This Idempotency-Key was used with another request (method, path or body); use a new key',
    )
  }
  if (existing.status === null) throw inUse()
  let body = existing.body ?? ''
  if (existing.contentType?.startsWith('application/problem+json')) {
    // A problem body names the request it answers: this one.
    body = JSON.stringify({ ...JSON.parse(body), request_id: request.id })
  }
  reply.code(existing.status).header('idempotent-replayed', 'true')
  if (existing.contentType) reply.type(existing.contentType)
  return reply.send(existing.status === 204 ? null : body)
}

function inUse(): AppError {
  return new AppError('IDEMPOTENCY_KEY_IN_USE', 'A request with this Idempotency-Key is still running', {
    headers: { 'retry-after': '1' },
  })
}
