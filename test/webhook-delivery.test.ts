/**
 * The webhook dispatcher against real HTTP receivers (node:http on ephemeral ports of 127.0.0.1, so these
 * instances allow private URLs, except where the SSRF rule at delivery is the point). Only this file runs
 * dispatchers: on PostgreSQL they share the test database with the other files.
 */
import assert from 'node:assert/strict'
import { afterEach, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { and, eq } from 'drizzle-orm'
import type { FastifyInstance } from 'fastify'
import { events, webhookDeliveries, webhooks } from '../src/db/schema.js'
import { recordEvent } from '../src/features/events/record.js'
import { as, register, type TestUser } from './helpers.js'
import {
  type InstanceOptions,
  type Instances,
  instances,
  type Receiver,
  receiver,
  until,
  verifySignature,
} from './integration-helpers.js'

const FAST: InstanceOptions = {
  config: { webhookAllowPrivateUrls: true, webhookRetryDelays: [0.2, 0.2, 0.2] },
  dispatcher: { pollIntervalMs: 50 },
}

const open: { close(): Promise<void> }[] = []
afterEach(async () => {
  while (open.length > 0) await open.pop()?.close()
})

async function cluster(count: number, options: InstanceOptions = FAST): Promise<Instances> {
  const made = await instances(count, options)
  open.push(made)
  return made
}

async function listening(script: number[] = [], fallback = 204): Promise<Receiver> {
  const made = await receiver(script, fallback)
  open.push(made)
  return made
}

async function subscribe(app: FastifyInstance, owner: TestUser, url: string, events: string[] = ['*']) {
  const response = await as(app, owner, owner.organizationId).post('/webhooks', { url, events })
  assert.equal(response.statusCode, 201, response.body)
  return response.json() as { id: string; secret: string }
}

/** An event recorded as a write would record it: in a transaction of its own. */
function emit(
  app: FastifyInstance,
  organizationId: string,
  type: 'contact.created',
  data: Record<string, unknown>,
) {
  return app.db.db.transaction((tx) => recordEvent(tx, { organizationId, type, data }))
}

async function deliveries(app: FastifyInstance, owner: TestUser, webhookId: string) {
  const response = await as(app, owner, owner.organizationId).get(
    `/webhooks/${webhookId}/deliveries?page_size=100`,
  )
  assert.equal(response.statusCode, 200, response.body)
  return response.json().items as {
    id: string
    event_id: string
    attempt: number
    status: string
    response_status: number | null
    error: string | null
    duration_ms: number | null
    next_attempt_at: string | null
  }[]
}

describe('webhook delivery', () => {
  it('pings with a Standard Webhooks signature and logs the delivery', async () => {
    const { apps } = await cluster(1)
    const app = apps[0] as FastifyInstance
    const sink = await listening()
    const owner = await register(app)
    const hook = await subscribe(app, owner, sink.url, ['deal.deleted'])
    const pinged = await as(app, owner, owner.organizationId).post(`/webhooks/${hook.id}/ping`)
    assert.equal(pinged.statusCode, 202)
    await until(() => sink.received.length === 1, 'the ping arrives')
    const [request] = sink.received
    assert.ok(request)
    assert.equal(request.method, 'POST')
    assert.equal(request.headers['content-type'], 'application/json')
    assert.ok(verifySignature(hook.secret, request.headers, request.body), 'signature verifies')
    assert.ok(!verifySignature(hook.secret, request.headers, `${request.body} `), 'a changed body does not')
    const body = JSON.parse(request.body)
    assert.equal(body.type, 'webhook.ping')
    assert.equal(body.id, request.headers['webhook-id'])
    assert.equal(body.organization_id, owner.organizationId)
    assert.deepEqual(body.data, { webhook_id: hook.id })
    await until(async () => (await deliveries(app, owner, hook.id))[0]?.status === 'succeeded', 'logged')
    const [logged] = await deliveries(app, owner, hook.id)
    assert.equal(logged?.attempt, 1)
    assert.equal(logged?.response_status, 204)
    assert.equal(logged?.error, null)
    assert.equal(logged?.next_attempt_at, null)
    assert.equal(typeof logged?.duration_ms, 'number')
  })

  it('retries on the schedule until the receiver succeeds; attempts are ordered and keep the event id', async () => {
    const { apps } = await cluster(1)
    const app = apps[0] as FastifyInstance
    const sink = await listening([500, 503])
    const owner = await register(app)
    const hook = await subscribe(app, owner, sink.url)
    const eventId = await emit(app, owner.organizationId, 'contact.created', { id: 'c1', name: 'Ada' })
    await until(() => sink.received.length === 3, 'three attempts')
    assert.deepEqual(
      sink.received.map((r) => r.headers['webhook-id']),
      [eventId, eventId, eventId],
    )
    for (let i = 1; i < 3; i++) {
      const gap = (sink.received[i] as { at: number }).at - (sink.received[i - 1] as { at: number }).at
      assert.ok(gap >= 180, `attempt ${i + 1} waited for the retry delay (${gap} ms)`)
    }
    for (const r of sink.received) assert.ok(verifySignature(hook.secret, r.headers, r.body))
    await until(async () => (await deliveries(app, owner, hook.id))[0]?.status === 'succeeded', 'succeeded')
    const [logged] = await deliveries(app, owner, hook.id)
    assert.equal(logged?.attempt, 3)
    await sleep(400)
    assert.equal(sink.received.length, 3, 'nothing after the success')
  })

  it('fails after the last retry; a manual retry makes one more attempt', async () => {
    const { apps } = await cluster(1)
    const app = apps[0] as FastifyInstance
    const sink = await listening([], 500)
    const owner = await register(app)
    const hook = await subscribe(app, owner, sink.url)
    await emit(app, owner.organizationId, 'contact.created', { id: 'c1' })
    await until(async () => (await deliveries(app, owner, hook.id))[0]?.status === 'failed', 'failed')
    const [failed] = await deliveries(app, owner, hook.id)
    assert.equal(failed?.attempt, 4, 'the first attempt and three retries')
    assert.equal(failed?.response_status, 500)
    assert.equal(failed?.next_attempt_at, null)
    assert.equal(sink.received.length, 4)
    sink.fallback = 200
    const retried = await as(app, owner, owner.organizationId).post(
      `/webhooks/${hook.id}/deliveries/${failed?.id}/retry`,
    )
    assert.equal(retried.statusCode, 202)
    await until(async () => (await deliveries(app, owner, hook.id))[0]?.status === 'succeeded', 'retried')
    assert.equal((await deliveries(app, owner, hook.id))[0]?.attempt, 5)
    const failedOnly = await as(app, owner, owner.organizationId).get(
      `/webhooks/${hook.id}/deliveries?status=failed`,
    )
    assert.equal(failedOnly.json().total, 0)
  })

  it('410 Gone disables the webhook and fails its pending deliveries', async () => {
    const { apps } = await cluster(1)
    const app = apps[0] as FastifyInstance
    const sink = await listening([410])
    const owner = await register(app)
    const hook = await subscribe(app, owner, sink.url)
    await emit(app, owner.organizationId, 'contact.created', { id: 'c1' })
    await until(
      async () =>
        (await as(app, owner, owner.organizationId).get(`/webhooks/${hook.id}`)).json().enabled === false,
      'disabled',
    )
    const [gone] = await deliveries(app, owner, hook.id)
    assert.equal(gone?.status, 'failed')
    assert.equal(gone?.response_status, 410)
    await emit(app, owner.organizationId, 'contact.created', { id: 'c2' })
    await sleep(300)
    assert.equal(sink.received.length, 1, 'a disabled webhook gets nothing more')
    assert.equal((await deliveries(app, owner, hook.id)).length, 1)
  })

  it('signs with both secrets for a day after a rotation', async () => {
    const { apps } = await cluster(1)
    const app = apps[0] as FastifyInstance
    const sink = await listening()
    const owner = await register(app)
    const hook = await subscribe(app, owner, sink.url)
    const rotated = (
      await as(app, owner, owner.organizationId).post(`/webhooks/${hook.id}/rotate-secret`)
    ).json()
    await as(app, owner, owner.organizationId).post(`/webhooks/${hook.id}/ping`)
    await until(() => sink.received.length === 1, 'delivered')
    const [request] = sink.received
    assert.ok(request)
    assert.equal(String(request.headers['webhook-signature']).split(' ').length, 2)
    assert.ok(verifySignature(rotated.secret, request.headers, request.body), 'the new secret verifies')
    assert.ok(verifySignature(hook.secret, request.headers, request.body), 'the old one too, for now')
    // Once the overlap is over, only the new secret signs.
    await app.db.db
      .update(webhooks)
      .set({ previousSecretExpiresAt: new Date(Date.now() - 1000) })
      .where(and(eq(webhooks.organizationId, owner.organizationId), eq(webhooks.id, hook.id)))
    await as(app, owner, owner.organizationId).post(`/webhooks/${hook.id}/ping`)
    await until(() => sink.received.length === 2, 'delivered again')
    const second = sink.received[1] as (typeof sink.received)[number]
    assert.ok(verifySignature(rotated.secret, second.headers, second.body))
    assert.ok(!verifySignature(hook.secret, second.headers, second.body))
  })

  it('delivers only matching events of its own organization, in order', async () => {
    const { apps } = await cluster(1)
    const app = apps[0] as FastifyInstance
    const everything = await listening()
    const contactsOnly = await listening()
    const [owner, stranger] = await Promise.all([register(app), register(app)])
    await subscribe(app, owner, everything.url, ['*'])
    await subscribe(app, owner, contactsOnly.url, ['contact.created'])
    const strangersSink = await listening()
    await subscribe(app, stranger, strangersSink.url, ['*'])
    const ids: string[] = []
    for (let i = 0; i < 8; i++)
      ids.push(await emit(app, owner.organizationId, 'contact.created', { id: `c${i}` }))
    const dealEvent = await app.db.db.transaction((tx) =>
      recordEvent(tx, { organizationId: owner.organizationId, type: 'deal.deleted', data: { id: 'd1' } }),
    )
    await until(() => everything.received.length === 9 && contactsOnly.received.length === 8, 'delivered')
    assert.deepEqual(
      everything.received.map((r) => r.headers['webhook-id']),
      [...ids, dealEvent],
    )
    assert.deepEqual(
      contactsOnly.received.map((r) => r.headers['webhook-id']),
      ids,
    )
    await sleep(200)
    assert.equal(strangersSink.received.length, 0, 'no event of another organization')
  })

  it('never follows a redirect and gives up on a receiver slower than the timeout', async () => {
    const { apps } = await cluster(1, { ...FAST, dispatcher: { pollIntervalMs: 50, timeoutMs: 300 } })
    const app = apps[0] as FastifyInstance
    const redirecting = await listening([], 302)
    const slow = await listening()
    slow.delayMs = 1_000
    const owner = await register(app)
    const a = await subscribe(app, owner, redirecting.url)
    const b = await subscribe(app, owner, slow.url)
    await emit(app, owner.organizationId, 'contact.created', { id: 'c1' })
    await until(
      async () => (await deliveries(app, owner, a.id))[0]?.response_status === 302,
      'redirect logged',
    )
    await until(
      async () => (await deliveries(app, owner, b.id))[0]?.error?.includes('timed out') === true,
      'timeout logged',
    )
    assert.equal((await deliveries(app, owner, a.id))[0]?.status, 'pending', 'a 3xx is a failed attempt')
  })

  it('refuses at delivery a name that resolves to a loopback address', async () => {
    // Created while private URLs were allowed (or before the name moved to 127.0.0.1): delivery checks again.
    const { apps, add } = await cluster(1, { ...FAST, dispatcher: false })
    const app = apps[0] as FastifyInstance
    const sink = await listening()
    const owner = await register(app)
    const hook = await subscribe(app, owner, `http://localhost:${sink.port}/hook`)
    await emit(app, owner.organizationId, 'contact.created', { id: 'c1' })
    await add({ config: { webhookAllowPrivateUrls: false }, dispatcher: { pollIntervalMs: 50 } })
    await until(async () => Boolean((await deliveries(app, owner, hook.id))[0]?.error), 'attempt recorded')
    const [attempt] = await deliveries(app, owner, hook.id)
    assert.match(String(attempt?.error), /not a public address/)
    assert.equal(attempt?.response_status, null)
    assert.equal(sink.received.length, 0)
  })
})

describe('webhook delivery of API writes', () => {
  it('a write through the API reaches the receiver with the API body; a refused write sends nothing', async () => {
    const { apps } = await cluster(1)
    const app = apps[0] as FastifyInstance
    const sink = await listening()
    const owner = await register(app)
    const hook = await subscribe(app, owner, sink.url, ['contact.*', 'deal.updated'])
    const client = as(app, owner, owner.organizationId)
    const contact = (await client.post('/contacts', { name: 'Grace' })).json()
    const patched = (await client.patch(`/contacts/${contact.id}`, { name: 'Grace H.' })).json()
    const deal = (
      await client.post('/deals', { title: 'Compiler', contact_id: contact.id, amount: 5 })
    ).json()
    assert.equal((await client.patch(`/deals/${deal.id}`, { status: 'won', amount: 0 })).statusCode, 400)
    const won = (await client.patch(`/deals/${deal.id}`, { status: 'won' })).json()
    await until(() => sink.received.length === 3, 'three events')
    const bodies = sink.received.map((r) => JSON.parse(r.body))
    assert.deepEqual(
      bodies.map((b) => b.type),
      ['contact.created', 'contact.updated', 'deal.updated'],
    )
    assert.deepEqual(bodies[0].data, contact)
    assert.deepEqual(bodies[1].data, patched)
    assert.deepEqual(bodies[1].previous, { name: 'Grace', updated_at: contact.updated_at })
    assert.deepEqual(bodies[2].data, won)
    // Winning also moves the derived and database-decided fields (spec §12): their old values are listed too.
    assert.deepEqual(bodies[2].previous, {
      status: 'new',
      updated_at: deal.updated_at,
      closed_at: deal.closed_at,
      probability: deal.probability,
      weighted_amount: deal.weighted_amount,
    })
    for (const r of sink.received) assert.ok(verifySignature(hook.secret, r.headers, r.body))
    await sleep(300)
    assert.equal(sink.received.length, 3)
  })

  it('events of an organization with no enabled webhook are written fanned out; the writes after one reach it', async () => {
    const { apps } = await cluster(1)
    const app = apps[0] as FastifyInstance
    const sink = await listening()
    const owner = await register(app)
    const client = as(app, owner, owner.organizationId)
    const written = () =>
      app.db.db
        .select({ type: events.type, createdAt: events.createdAt, dispatchedAt: events.dispatchedAt })
        .from(events)
        .where(eq(events.organizationId, owner.organizationId))
    // Each way an event is written: a transaction (deal.created), one statement (contact create, deal PATCH).
    const contact = (await client.post('/contacts', { name: 'Before' })).json()
    const deal = (await client.post('/deals', { title: 'D', contact_id: contact.id })).json()
    assert.equal((await client.patch(`/deals/${deal.id}`, { status: 'in_progress' })).statusCode, 200)
    const hook = await subscribe(app, owner, sink.url)
    assert.equal((await client.patch(`/webhooks/${hook.id}`, { enabled: false })).statusCode, 200)
    assert.equal((await client.post('/contacts', { name: 'While disabled' })).statusCode, 201)
    const unreceivable = await written()
    assert.deepEqual(unreceivable.map((row) => row.type).sort(), [
      'contact.created',
      'contact.created',
      'deal.created',
      'deal.updated',
      'member.added',
    ])
    // Written fanned out (at the write's own time), not marked later by the dispatcher.
    for (const row of unreceivable)
      assert.equal(row.dispatchedAt?.getTime(), row.createdAt.getTime(), row.type)

    assert.equal((await client.patch(`/webhooks/${hook.id}`, { enabled: true })).statusCode, 200)
    const after = (await client.post('/contacts', { name: 'After' })).json()
    await until(() => sink.received.length === 1, 'the event written after the webhook was enabled')
    await sleep(300)
    assert.deepEqual(
      sink.received.map((r) => JSON.parse(r.body).data.name),
      [after.name],
    )
  })
})

describe('webhook delivery across instances and restarts', () => {
  it('resumes pending deliveries after a restart', async () => {
    const { apps, add } = await cluster(1, { ...FAST, dispatcher: false })
    const first = apps[0] as FastifyInstance
    const sink = await listening()
    const owner = await register(first)
    await subscribe(first, owner, sink.url)
    const ids = [
      await emit(first, owner.organizationId, 'contact.created', { id: 'c1' }),
      await emit(first, owner.organizationId, 'contact.created', { id: 'c2' }),
    ]
    await first.close() // stopped before it could deliver anything
    await add({ dispatcher: { pollIntervalMs: 50 } })
    await until(() => sink.received.length === 2, 'the new instance delivers')
    assert.deepEqual(
      sink.received.map((r) => r.headers['webhook-id']),
      ids,
    )
  })

  it('a retry scheduled before a restart happens after it', async () => {
    const { apps, add } = await cluster(1)
    const first = apps[0] as FastifyInstance
    const sink = await listening([500])
    const owner = await register(first)
    const hook = await subscribe(first, owner, sink.url)
    await emit(first, owner.organizationId, 'contact.created', { id: 'c1' })
    await until(() => sink.received.length === 1, 'first attempt')
    await first.close()
    const second = await add()
    await until(() => sink.received.length === 2, 'the retry, by the new instance')
    await until(
      async () => (await deliveries(second, owner, hook.id))[0]?.status === 'succeeded',
      'succeeded',
    )
  })

  it('two instances share the work and make each attempt once', async () => {
    const { apps } = await cluster(2)
    const [a, b] = apps as [FastifyInstance, FastifyInstance]
    const sink = await listening()
    sink.delayMs = 5
    const owner = await register(a)
    const hook = await subscribe(a, owner, sink.url)
    const ids = new Set<string>()
    await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        ids.add(await emit(i % 2 ? a : b, owner.organizationId, 'contact.created', { id: `c${i}` }))
      }),
    )
    await until(() => sink.received.length >= 40, 'all delivered')
    await sleep(300)
    const received = sink.received.map((r) => String(r.headers['webhook-id']))
    assert.equal(received.length, 40, 'no attempt twice')
    assert.deepEqual(new Set(received), ids)
    const attempts = (a.webhookDispatcher?.attempts ?? 0) + (b.webhookDispatcher?.attempts ?? 0)
    assert.equal(attempts, 40)
    const logged = await a.db.db
      .select()
      .from(webhookDeliveries)
      .where(
        and(
          eq(webhookDeliveries.organizationId, owner.organizationId),
          eq(webhookDeliveries.webhookId, hook.id),
        ),
      )
    assert.equal(logged.length, 40)
    assert.ok(logged.every((d) => d.attempt === 1 && d.status === 'succeeded'))
  })

  it('a graceful stop finishes the attempt under way and records it', async () => {
    const { apps, add } = await cluster(1)
    const app = apps[0] as FastifyInstance
    const reader = await add({ dispatcher: false })
    const sink = await listening()
    sink.delayMs = 500
    const owner = await register(app)
    const hook = await subscribe(app, owner, sink.url)
    await emit(app, owner.organizationId, 'contact.created', { id: 'c1' })
    await until(() => sink.received.length === 1, 'attempt started')
    await app.close()
    const [logged] = await deliveries(reader, owner, hook.id)
    assert.equal(logged?.status, 'succeeded')
    assert.equal(logged?.attempt, 1)
  })
})
