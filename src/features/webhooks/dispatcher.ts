import { sql } from 'drizzle-orm'
import type { FastifyBaseLogger } from 'fastify'
import { type Db, queryRows } from '../../db/client.js'
import { events, webhookDeliveries, webhooks } from '../../db/schema.js'
import { DELIVERY_TIMEOUT_MS, WebhookSender } from './sender.js'
import { signatureHeaders } from './signing.js'

export interface DispatcherOptions {
  retryDelaysSeconds: number[]
  allowPrivateUrls: boolean
  /** How often to look for work when nobody nudged (other instances' events, retries coming due). */
  pollIntervalMs?: number
  /**
   * The pause (ms) before a round that nudges start after a round that found nothing. Every committed write
   * nudges, hundreds a second under load, while most events are written already fanned out (no enabled
   * webhook): a round per nudge would run two empty statements per write. A round that found work is followed
   * at once; a nudge after a quiet time (the dispatcher waiting for its poll) starts a round at once.
   */
  nudgeIntervalMs?: number
  batchSize?: number
  timeoutMs?: number
}

/** A claim outlives the longest attempt; a delivery whose instance died is taken over after it. */
const LEASE_SECONDS = Math.ceil(DELIVERY_TIMEOUT_MS / 1000) * 3

interface Claimed {
  organization_id: string
  id: string
  webhook_id: string
  event_id: string
  attempt: number
  url: string
  secret: string
  previous_secret: string | null
  previous_valid: boolean | null
  type: string
  data: unknown
  previous: unknown
  created_at: string | Date
}

interface Outcome {
  organization_id: string
  id: string
  webhook_id: string
  attempt: number
  status: 'pending' | 'succeeded' | 'failed'
  response_status: number | null
  error: string | null
  duration_ms: number
  delay: number | null
}

/** A v7 UUID made in SQL from the statement's clock (rows made by one statement sort by time). */
const SQL_UUIDV7 = sql.raw(`encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) placing
    substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3) FROM 1 FOR 6),
    52, 1), 53, 1), 'hex')::uuid`)

/**
 * Delivers the outbox. Each round (1) fans new events out into one delivery per matching enabled webhook and
 * (2) claims due deliveries, makes their attempts and records the outcomes. Both steps claim rows with
 * `FOR UPDATE SKIP LOCKED` in single statements, so any number of instances share the work; a claimed
 * delivery carries a lease (`locked_until`), so each attempt is made by one instance, and one that died
 * mid-attempt is retried after the lease. Everything lives in the database: a restart resumes where it was.
 */
export class WebhookDispatcher {
  private readonly sender: WebhookSender
  private readonly pollIntervalMs: number
  private readonly nudgeIntervalMs: number
  private readonly batchSize: number
  private running: Promise<void> | undefined
  private stopping = false
  private wake: (() => void) | undefined
  private wakeOnNudge = true
  private nudged = false
  /** Attempts this instance made (tests and logs). */
  attempts = 0

  constructor(
    private readonly db: Db,
    private readonly log: FastifyBaseLogger,
    private readonly options: DispatcherOptions,
  ) {
    this.sender = new WebhookSender(options.allowPrivateUrls, options.timeoutMs)
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000
    this.nudgeIntervalMs = options.nudgeIntervalMs ?? 20
    this.batchSize = options.batchSize ?? 200
  }

  start(): void {
    this.running ??= this.loop()
  }

  /** New work may exist (a write committed): look now instead of at the next poll. */
  nudge(): void {
    this.nudged = true
    if (this.wakeOnNudge) this.wake?.()
  }

  /** Graceful: no new claims; attempts under way finish (bounded by their timeout) and are recorded. */
  async stop(): Promise<void> {
    this.stopping = true
    this.wake?.()
    await this.running
    this.sender.close()
  }

  private async loop(): Promise<void> {
    let failures = 0
    while (!this.stopping) {
      let busy = false
      try {
        this.nudged = false
        const fanned = await this.fanOut()
        const attempted = this.stopping ? 0 : await this.deliverDue()
        busy = fanned > 0 || attempted > 0
        failures = 0
      } catch (error) {
        failures += 1
        if (failures === 1 || failures % 60 === 0)
          this.log.warn({ err: error }, 'webhook dispatcher round failed')
      }
      const ended = Date.now()
      if (busy || this.stopping) continue
      if (!this.nudged || failures > 0) {
        await this.sleep(
          failures > 0 ? Math.min(this.pollIntervalMs * 2 ** failures, 10_000) : this.pollIntervalMs,
        )
      }
      // Woken by a nudge (or nudged during the round): not sooner than nudgeIntervalMs after the empty round.
      const rest = ended + this.nudgeIntervalMs - Date.now()
      if (this.nudged && rest > 0 && !this.stopping) await this.sleep(rest, false)
    }
  }

  /** Until `ms` pass, `stop()` is called or, when `onNudge`, a nudge comes. */
  private sleep(ms: number, onNudge = true): Promise<void> {
    this.wakeOnNudge = onNudge
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      function done() {
        clearTimeout(timer)
        resolve()
      }
      this.wake = () => {
        this.wake = undefined
        done()
      }
    })
  }

  /** One statement: claim undispatched events, mark them, queue a delivery per matching enabled webhook. */
  async fanOut(): Promise<number> {
    const [row] = await queryRows<{ events: number }>(
      this.db,
      sql`WITH claimed AS (
        SELECT organization_id, id, type, created_at FROM ${events}
        WHERE dispatched_at IS NULL
        ORDER BY created_at, id
        LIMIT ${this.batchSize}
        FOR UPDATE SKIP LOCKED
      ), marked AS (
        UPDATE ${events} e SET dispatched_at = now()
        FROM claimed c WHERE e.organization_id = c.organization_id AND e.id = c.id
      ), queued AS (
        INSERT INTO ${webhookDeliveries} (organization_id, id, webhook_id, event_id, event_type, next_attempt_at)
        SELECT c.organization_id, ${SQL_UUIDV7}, w.id, c.id, c.type, c.created_at
        FROM claimed c
        -- Only webhooks that existed when the event happened: the outcome does not depend on dispatch lag.
        JOIN ${webhooks} w ON w.organization_id = c.organization_id AND w.enabled AND w.created_at <= c.created_at
        WHERE '*' = ANY (w.events) OR c.type = ANY (w.events) OR split_part(c.type, '.', 1) || '.*' = ANY (w.events)
        ORDER BY c.created_at, c.id
        ON CONFLICT DO NOTHING
      )
      SELECT count(*)::int AS events FROM claimed`,
    )
    return row?.events ?? 0
  }

  /** Claims due deliveries (of enabled webhooks) under a lease, attempts them, records the outcomes. */
  async deliverDue(): Promise<number> {
    const claimed = await queryRows<Claimed>(
      this.db,
      sql`WITH due AS (
        SELECT d.organization_id, d.id
        FROM ${webhookDeliveries} d
        JOIN ${webhooks} w ON w.organization_id = d.organization_id AND w.id = d.webhook_id AND w.enabled
        WHERE d.status = 'pending' AND d.next_attempt_at <= now()
          AND (d.locked_until IS NULL OR d.locked_until <= now())
        ORDER BY d.next_attempt_at, d.event_id
        LIMIT ${this.batchSize}
        FOR UPDATE OF d SKIP LOCKED
      )
      UPDATE ${webhookDeliveries} d
      SET attempt = d.attempt + 1, locked_until = now() + make_interval(secs => ${LEASE_SECONDS})
      FROM due, ${webhooks} w, ${events} e
      WHERE d.organization_id = due.organization_id AND d.id = due.id
        AND w.organization_id = d.organization_id AND w.id = d.webhook_id
        AND e.organization_id = d.organization_id AND e.id = d.event_id
      RETURNING d.organization_id, d.id, d.webhook_id, d.event_id, d.attempt, w.url, w.secret,
        w.previous_secret, w.previous_secret_expires_at > now() AS previous_valid,
        e.type, e.data, e.previous, e.created_at, d.next_attempt_at`,
    )
    if (claimed.length === 0) return 0
    // In event order per webhook (one at a time), webhooks side by side.
    const byWebhook = new Map<string, Claimed[]>()
    claimed.sort((a, b) => (a.event_id < b.event_id ? -1 : a.event_id > b.event_id ? 1 : 0))
    for (const delivery of claimed) {
      const queue = byWebhook.get(delivery.webhook_id) ?? []
      queue.push(delivery)
      byWebhook.set(delivery.webhook_id, queue)
    }
    const outcomes: Outcome[] = []
    await Promise.all(
      [...byWebhook.values()].map(async (queue) => {
        for (const delivery of queue) outcomes.push(await this.attempt(delivery))
      }),
    )
    await this.record(outcomes)
    return claimed.length
  }

  private async attempt(delivery: Claimed): Promise<Outcome> {
    const payload: Record<string, unknown> = {
      id: delivery.event_id,
      type: delivery.type,
      timestamp: new Date(delivery.created_at).toISOString(),
      organization_id: delivery.organization_id,
      data: delivery.data,
    }
    if (delivery.previous != null) payload.previous = delivery.previous
    const body = JSON.stringify(payload)
    const secrets = [delivery.secret]
    if (delivery.previous_secret && delivery.previous_valid) secrets.push(delivery.previous_secret)
    const headers = signatureHeaders(secrets, delivery.event_id, Math.floor(Date.now() / 1000), body)
    this.attempts += 1
    const result = await this.sender.send(delivery.url, headers, body)
    const delays = this.options.retryDelaysSeconds
    const retryDelay = delays[delivery.attempt - 1]
    const status = result.ok
      ? 'succeeded'
      : retryDelay === undefined || result.responseStatus === 410
        ? 'failed'
        : 'pending'
    return {
      organization_id: delivery.organization_id,
      id: delivery.id,
      webhook_id: delivery.webhook_id,
      attempt: delivery.attempt,
      status,
      response_status: result.responseStatus,
      error: result.error,
      duration_ms: result.durationMs,
      delay: status === 'pending' ? (retryDelay as number) : null,
    }
  }

  /** One statement for the batch; an outcome whose lease was taken over meanwhile (attempt moved on) is dropped. */
  private async record(outcomes: Outcome[]): Promise<void> {
    await this.db.execute(sql`UPDATE ${webhookDeliveries} d SET
        status = r.status, response_status = r.response_status, error = left(r.error, 1000),
        duration_ms = r.duration_ms, locked_until = NULL,
        next_attempt_at = CASE WHEN r.status = 'pending' THEN now() + make_interval(secs => r.delay) END
      FROM jsonb_to_recordset(${JSON.stringify(outcomes)}::jsonb) AS r(organization_id uuid, id uuid,
        attempt int, status text, response_status int, error text, duration_ms int, delay float8)
      WHERE d.organization_id = r.organization_id AND d.id = r.id AND d.attempt = r.attempt`)
    // 410 Gone: the receiver asks to stop. Disable the webhook and fail what it still had pending.
    for (const gone of outcomes.filter((outcome) => outcome.response_status === 410)) {
      await this.db.transaction(async (tx) => {
        await tx.execute(sql`UPDATE ${webhooks} SET enabled = false, updated_at = now()
          WHERE organization_id = ${gone.organization_id} AND id = ${gone.webhook_id}`)
        await tx.execute(sql`UPDATE ${webhookDeliveries} SET status = 'failed', next_attempt_at = NULL
          WHERE organization_id = ${gone.organization_id} AND webhook_id = ${gone.webhook_id}
            AND status = 'pending'`)
      })
      this.log.info({ webhookId: gone.webhook_id }, 'webhook answered 410 Gone: disabled')
    }
  }
}
