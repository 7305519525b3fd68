import { Server as NetServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import { AppError } from './errors.js'

/**
 * Graceful shutdown without connection resets. On SIGTERM the service first drains: it stops accepting
 * connections but keeps serving requests that arrive on connections already open (a keep-alive client may
 * be sending one right now; closing its idle connection under it is a reset), answering each with
 * `connection: close` so the client moves on; `/ready` answers 503 so a load balancer stops routing here.
 * Once no connection is left, or after DRAIN_MS, the app closes as usual (in-flight requests finish).
 */
export const DRAIN_MS = 2_000

const draining = new WeakSet<FastifyInstance>()
const closing = new WeakSet<FastifyInstance>()

/** Hooks of the drain; register once in buildApp, before authentication (a closing app answers without
 * touching what it is closing). */
export function registerDrain(app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    // Closing (after the drain): in-flight requests finish, a new one is told to go elsewhere. Fastify's own
    // return503OnClosing answered with a body that was not problem+json and had no request id.
    if (closing.has(app)) {
      reply.header('connection', 'close').header('retry-after', '1')
      throw new AppError('SERVICE_UNAVAILABLE', 'The service is shutting down; retry shortly')
    }
    if (draining.has(app) && request.url === '/ready') {
      throw new AppError('SERVICE_UNAVAILABLE', 'Shutting down')
    }
  })
  // Also while closing (in-flight responses of app.close without a drain, e.g. in tests).
  app.addHook('preClose', async () => {
    draining.add(app)
    closing.add(app)
  })
  app.addHook('onSend', async (_request, reply) => {
    if (draining.has(app)) reply.header('connection', 'close')
  })
}

/** Drains (see above), then closes the app. */
export async function drainAndClose(app: FastifyInstance, maxMs = DRAIN_MS): Promise<void> {
  draining.add(app)
  const server = app.server
  if (server.listening) {
    // net.Server#close stops accepting only; http.Server#close would also drop idle keep-alive connections.
    NetServer.prototype.close.call(server)
    const deadline = Date.now() + maxMs
    while (Date.now() < deadline && (await connections(server)) > 0) await sleep(25)
  }
  await app.close()
}

function connections(server: NetServer): Promise<number> {
  return new Promise((resolve) => server.getConnections((error, count) => resolve(error ? 0 : count)))
}
