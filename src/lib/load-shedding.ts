import underPressure from '@fastify/under-pressure'
import type { FastifyInstance } from 'fastify'
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
 * `/health` and `/ready` are never shed: an orchestrator must see the process alive.
 */
/** Environment overrides (0 turns a signal off): SHED_DB_WAITING, SHED_EVENT_LOOP_DELAY_MS. */
export const MAX_DB_WAITING = Number(process.env.SHED_DB_WAITING ?? 100)
export const MAX_EVENT_LOOP_DELAY_MS = Number(process.env.SHED_EVENT_LOOP_DELAY_MS ?? 0)
const EXEMPT = new Set(['/health', '/ready'])

const overloaded = () =>
  new AppError('SERVICE_UNAVAILABLE', 'The service is overloaded; retry shortly', {
    headers: { 'retry-after': '1' },
  })

export async function registerLoadShedding(app: FastifyInstance, database: Database): Promise<void> {
  await app.register(underPressure, {
    maxEventLoopDelay: MAX_EVENT_LOOP_DELAY_MS, // 0 turns this signal off
    pressureHandler: (request) => (EXEMPT.has(request.url) ? undefined : Promise.reject(overloaded())),
  })
  app.addHook('onRequest', async (request) => {
    if (MAX_DB_WAITING > 0 && (database.waiting?.() ?? 0) > MAX_DB_WAITING && !EXEMPT.has(request.url))
      throw overloaded()
  })
}
