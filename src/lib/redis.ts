import type { FastifyBaseLogger } from 'fastify'
import { createClient } from 'redis'

export type Redis = ReturnType<typeof connectRedis>

/**
 * Connects in the background: Redis is an accelerator here, never a dependency, so start-up does not wait for
 * it and commands fail fast (no offline queue) while it is away; callers fall back to working without it.
 */
export function connectRedis(url: string, log: FastifyBaseLogger) {
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: { connectTimeout: 2_000, reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, 5_000) },
  })
  let reported = false
  client.on('error', (error: Error) => {
    if (!reported) log.warn({ err: error }, 'redis unavailable; continuing without it')
    reported = true
  })
  client.on('ready', () => {
    reported = false
    log.info('redis connected')
  })
  client.connect().catch(() => {})
  return client
}
