import { createRequire } from 'node:module'
import type * as RedisModule from '@redis/client'
import type { FastifyBaseLogger } from 'fastify'
import { withTimeout } from './timeout.js'

/**
 * Bound of every Redis call on a request's path. node-redis times out only commands not yet written; a hung
 * server (accepting, never answering) holds written ones forever, so each call races this timer. One second:
 * generous for a loaded host (a timed-out rate-limit call loses the shared count for that hit).
 */
export const REDIS_TIMEOUT_MS = 1_000

/** `command`, failing after REDIS_TIMEOUT_MS; callers fall back to working without Redis. */
export function redisCall<T>(command: Promise<T>, ms = REDIS_TIMEOUT_MS): Promise<T> {
  return withTimeout(command, ms)
}

/** Closes a client without waiting on a hung server: replies owed are given up after a second. */
export async function closeRedis(client: Redis): Promise<void> {
  if (!client.isOpen) {
    client.destroy()
    return
  }
  await redisCall(client.close(), 1_000).catch(() => client.destroy())
}

export type Redis = ReturnType<typeof connectRedis>

/**
 * Connects in the background: Redis is an accelerator here, never a dependency, so start-up does not wait for
 * it and commands fail fast (no offline queue) while it is away; callers fall back to working without it.
 */
export function connectRedis(url: string, log: FastifyBaseLogger) {
  // Loaded only when REDIS_URL is set: the client library adds ~14 MB of resident memory to every process. The
  // client alone, not the `redis` bundle, whose search/JSON/bloom/time-series modules this service never uses.
  const { createClient } = createRequire(import.meta.url)('@redis/client') as typeof RedisModule
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
