import '../db/load-pg.js'
import type { PGlite } from '@electric-sql/pglite'
import type { FastifyBaseLogger } from 'fastify'
import pg from 'pg'
import type { Database } from '../db/client.js'
import type { MembershipCache } from './membership-cache.js'

/** Channel of the `users_notify_deleted` trigger (migration 0006): the payload is the deleted user's id. */
export const USER_DELETED_CHANNEL = 'mini_crm_user_deleted'
const MAX_RETRY_MS = 30_000

/**
 * Hears user deletions from the database itself, whoever deletes (the app, an operator's SQL, another
 * instance), and makes the membership cache forget them: the deleting transaction's NOTIFY arrives at commit,
 * so a deleted user's token is refused at once without a query on every request. On PostgreSQL a dedicated
 * connection LISTENs (reconnecting with backoff; the cache is off while it is down); PGlite delivers in
 * process. Returns the function that stops it.
 */
export function watchUserDeletions(
  database: Database,
  cache: MembershipCache,
  log: FastifyBaseLogger,
): () => Promise<void> {
  const client = (database.db as unknown as { $client: unknown }).$client
  if (client instanceof pg.Pool) return watchPostgres(client.options, cache, log)
  return watchPglite(client as PGlite, cache, log)
}

function watchPglite(client: PGlite, cache: MembershipCache, log: FastifyBaseLogger) {
  const subscribed = client
    .listen(USER_DELETED_CHANNEL, (userId) => cache.forgetUser(userId))
    .then((unsubscribe) => {
      cache.setWatched(true)
      return unsubscribe
    })
  subscribed.catch((error: unknown) => log.warn({ err: error }, 'user deletions not watched; cache off'))
  return async () => {
    cache.setWatched(false)
    const unsubscribe = await subscribed.catch(() => undefined)
    if (!client.closed) await unsubscribe?.().catch(() => {})
  }
}

function watchPostgres(options: pg.PoolConfig, cache: MembershipCache, log: FastifyBaseLogger) {
  let closed = false
  let current: pg.Client | undefined
  let retry: NodeJS.Timeout | undefined
  let delay = 500

  const connect = () => {
    const client = new pg.Client({ ...options, application_name: 'mini-crm-listen', keepAlive: true })
    current = client
    let lost = false
    const onLost = (error?: unknown) => {
      if (lost) return
      lost = true
      cache.setWatched(false)
      client.removeAllListeners('notification')
      client.end().catch(() => {})
      if (closed) return
      log.warn({ err: error }, `user deletion listener lost; membership cache off, retrying in ${delay} ms`)
      retry = setTimeout(connect, delay)
      retry.unref()
      delay = Math.min(delay * 2, MAX_RETRY_MS)
    }
    client.on('error', onLost)
    client.on('end', () => onLost())
    client.on('notification', (message) => {
      if (message.channel === USER_DELETED_CHANNEL && message.payload) cache.forgetUser(message.payload)
    })
    client
      .connect()
      .then(() => client.query(`LISTEN ${USER_DELETED_CHANNEL}`))
      .then(() => {
        if (lost || closed) return
        delay = 500
        cache.setWatched(true)
      })
      .catch(onLost)
  }
  connect()

  return async () => {
    closed = true
    clearTimeout(retry)
    cache.setWatched(false)
    await current?.end().catch(() => {})
  }
}
