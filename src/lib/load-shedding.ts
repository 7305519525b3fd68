import underPressure from '@fastify/under-pressure'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Database } from '../db/client.js'
import { AppError } from './errors.js'

/**
 * Load shedding: past capacity the service answers 503 SERVICE_UNAVAILABLE with Retry-After at once instead
 * of queueing every request for seconds (measured capacity: docs/decisions/faults.md). Two signals:
 * - statements waiting for a database connection (PostgreSQL pool) or turn (PGlite) above MAX_DB_WAITING,
 *   read on every request;
 * - opt-in (SHED_EVENT_LOOP_DELAY_MS, off by default): event-loop delay sampled by @fastify/under-pressure,
 *   for CPU-bound overload. Off because the embedded database runs every statement on the event loop (its
 *   start alone blocks it for seconds), so delay there is normal work, and a shared CI box trips it at rest.
 * `/health` and `/ready` are never shed: an orchestrator must see the process alive. Registered before
 * authentication, so a refusal costs next to nothing.
 */
/** Environment overrides (0 turns a signal off): SHED_DB_WAITING, SHED_EVENT_LOOP_DELAY_MS. 1,000 waiting
 * statements is ~0.2 s of queue at this service's measured read capacity (docs/decisions/faults.md). */
export const MAX_DB_WAITING = Number(process.env.SHED_DB_WAITING ?? 1000)
export const MAX_EVENT_LOOP_DELAY_MS = Number(process.env.SHED_EVENT_LOOP_DELAY_MS ?? 0)
const EXEMPT = new Set(['/health', '/ready'])

/** Refusals are counted and logged as one warning per interval: a line per refusal would cost more CPU than
 * the refusal itself, exactly when there is none to spare. */
const SUMMARY_EVERY_MS = 10_000
let refused = 0
let summarizedAt = 0

function overloaded(request: FastifyRequest): AppError {
  refused += 1
  const now = Date.now()
  if (now - summarizedAt >= SUMMARY_EVERY_MS) {
    request.log.warn({ refused }, 'overloaded: shedding load (503 with Retry-After)')
    summarizedAt = now
    refused = 0
  }
  return new AppError('SERVICE_UNAVAILABLE', 'The service is overloaded; retry shortly', {
    headers: { 'retry-after': '1' },
    logged: true,
  })
}

export async function registerLoadShedding(app: FastifyInstance, database: Database): Promise<void> {
  await app.register(underPressure, {
    maxEventLoopDelay: MAX_EVENT_LOOP_DELAY_MS, // 0 turns this signal off
    pressureHandler: (request) => (EXEMPT.has(request.url) ? undefined : Promise.reject(overloaded(request))),
  })
  app.addHook('onRequest', async (request) => {
    if (MAX_DB_WAITING > 0 && (database.waiting?.() ?? 0) > MAX_DB_WAITING && !EXEMPT.has(request.url))
      throw overloaded(request)
  })
}
