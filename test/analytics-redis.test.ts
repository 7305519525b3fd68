/**
 * Analytics with several instances of the service on one database: sharing one Redis (when REDIS_URL is set,
 * e.g. redis://127.0.0.1:6379), and with Redis unreachable, cut off, or stalled. Organizations are fresh per
 * test, so cache keys (analytics:v5:<org>:<generation>:...) never collide between runs.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net'
import { after, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { eq, sql } from 'drizzle-orm'
import type { FastifyInstance } from 'fastify'
import { type Database, openDatabase } from '../src/db/client.js'
import { deals } from '../src/db/schema.js'
import { analyticsCache, CACHE_TTL_MS } from '../src/features/analytics/cache.js'
import { bumpGeneration, readAnalyticsState } from '../src/features/analytics/generation.js'
import { uuidv7 } from '../src/lib/uuid.js'
import { byStage, cachedValue, funnel, seedDeals, summary } from './analytics-fixtures.js'
import { as, buildTestApp, createDeal, register, type TestUser } from './helpers.js'

const REDIS_URL = process.env.REDIS_URL
const UNREACHABLE_REDIS = 'redis://127.0.0.1:1'

const cleanups: (() => Promise<unknown>)[] = []
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
})

/** Instances of the app on one database (PostgreSQL: TEST_DATABASE_URL; PGlite: one shared in-memory database). */
async function instances(redisUrls: (string | undefined)[]): Promise<FastifyInstance[]> {
  const secretKey = randomBytes(32).toString('hex')
  let shared: Database | undefined
  if (!process.env.TEST_DATABASE_URL) {
    shared = await openDatabase({ pgliteDataDir: 'memory://' })
  }
  const apps: FastifyInstance[] = []
  for (const redisUrl of redisUrls) {
    apps.push(
      await buildTestApp({ config: { redisUrl, secretKey }, ...(shared ? { database: shared } : {}) }),
    )
  }
  cleanups.push(async () => {
    for (const app of apps) await app.close()
    await shared?.close()
  })
  return apps
}

async function until(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await sleep(20)
  }
}

const redisReady = (app: FastifyInstance) => app.redis?.isReady === true

/** A TCP hop in front of Redis that can drop every connection (Redis down) or hold replies back (Redis slow). */
async function redisProxy(target: string) {
  const upstreamUrl = new URL(target)
  const pairs = new Set<{ client: Socket; upstream: Socket }>()
  let stalled = false
  const server: Server = createServer((client) => {
    const upstream = tcpConnect(Number(upstreamUrl.port || 6379), upstreamUrl.hostname)
    const pair = { client, upstream }
    pairs.add(pair)
    client.pipe(upstream)
    if (!stalled) upstream.pipe(client)
    const close = () => {
      pairs.delete(pair)
      client.destroy()
      upstream.destroy()
    }
    for (const socket of [client, upstream]) {
      socket.on('error', close)
      socket.on('close', close)
    }
  })
  const listen = (port: number) =>
    new Promise<number>((resolve) =>
      server.listen(port, '127.0.0.1', () => resolve(server.address() as never)),
    )
  await listen(0)
  const port = (server.address() as { port: number }).port
  const url = new URL(target)
  url.hostname = '127.0.0.1'
  url.port = String(port)
  return {
    url: url.toString(),
    /** Redis goes away: connections drop and new ones are refused. */
    async cut() {
      const closed = new Promise((resolve) => server.close(resolve))
      for (const { client, upstream } of pairs) {
        client.destroy()
        upstream.destroy()
      }
      await closed
    },
    async restore() {
      await listen(port)
    },
    /** Redis stops answering (replies are held back, in order, until `resume`). */
    stall() {
      stalled = true
      for (const { client, upstream } of pairs) upstream.unpipe(client)
    },
    resume() {
      stalled = false
      for (const { client, upstream } of pairs) upstream.pipe(client)
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  }
}

async function expectWonTotal(
  app: FastifyInstance,
  user: TestUser,
  orgId: string,
  count: number,
  total: string,
) {
  assert.deepEqual((await summary(app, user, orgId)).by_status.won, { count, total_amount: total })
}

describe('two instances sharing one database and one Redis', {
  skip: !REDIS_URL && 'REDIS_URL is not set',
}, () => {
  it('share cached results, and a write through one is seen at once through the other', async () => {
    const [a, b] = (await instances([REDIS_URL, REDIS_URL])) as [FastifyInstance, FastifyInstance]
    await until(() => redisReady(a) && redisReady(b), 'both instances reach Redis')
    const owner = await register(a)
    const orgId = owner.organizationId
    const deal = await createDeal(a, owner, orgId, { amount: '10.00' })
    assert.equal((await summary(a, owner, orgId)).by_status.new.total_amount, '10.00')
    assert.equal((await funnel(a, owner, orgId)).stages.qualification.new, 1)

    // B answers from the entries A cached in Redis: a change of the aggregates that is not a deal write (no bump)
    // is not visible through B...
    await b.db.db.execute(
      sql`UPDATE deal_totals SET amount = amount + 1 WHERE organization_id = ${orgId} AND status = 'new'`,
    )
    assert.equal((await summary(b, owner, orgId)).by_status.new.total_amount, '10.00')
    assert.equal((await funnel(b, owner, orgId)).stages.qualification.new, 1)
    // ...until the generation moves (by hand here), for B too.
    await bumpGeneration(a.db.db, orgId)
    assert.equal((await summary(b, owner, orgId)).by_status.new.total_amount, '11.00')
    // A deal write moves it by itself, even one made with SQL outside the API (the deals triggers count it).
    await b.db.db
      .update(deals)
      .set({ amount: '11.00', stage: 'proposal' })
      .where(eq(deals.organizationId, orgId))
    assert.equal((await summary(a, owner, orgId)).by_status.new.total_amount, '12.00')
    assert.equal((await funnel(a, owner, orgId)).stages.proposal.new, 1)
    // Take the 1 back out of one of the aggregate rows (the checks below compare with the deals).
    await a.db.db.execute(
      sql`UPDATE deal_totals SET amount = amount - 1 WHERE ctid = (SELECT ctid FROM deal_totals
          WHERE organization_id = ${orgId} AND status = 'new' AND stage = 'qualification' LIMIT 1)`,
    )
    await bumpGeneration(a.db.db, orgId)
    assert.equal((await summary(b, owner, orgId)).by_status.new.total_amount, '11.00')

    // Writes through the API, alternating instances; each read goes through the other one.
    const patch = async (app: FastifyInstance, body: Record<string, unknown>) => {
      const response = await as(app, owner, orgId).patch(`/deals/${deal.id}`, body)
      assert.equal(response.statusCode, 200, response.body)
    }
    await patch(a, { status: 'won', amount: '12.34', stage: 'closed' })
    await expectWonTotal(b, owner, orgId, 1, '12.34')
    assert.equal((await funnel(b, owner, orgId)).stages.closed.won, 1)
    await patch(b, { amount: '56.78' })
    await expectWonTotal(a, owner, orgId, 1, '56.78')
    await createDeal(b, owner, orgId, { amount: '1.00' })
    assert.equal((await summary(a, owner, orgId)).by_status.new.count, 1)
    assert.equal((await funnel(a, owner, orgId)).stage_totals.qualification, 1)
    const deleted = await as(a, owner, orgId).delete(`/deals/${deal.id}`)
    assert.equal(deleted.statusCode, 204)
    await expectWonTotal(b, owner, orgId, 0, '0.00')
    assert.equal((await summary(b, owner, orgId)).win_rate, null)
    assert.equal((await funnel(b, owner, orgId)).stage_totals.closed, 0)

    // Entries live in Redis under the organization's generation, with a bounded lifetime.
    const redis = a.redis as NonNullable<FastifyInstance['redis']>
    const generation = (await readAnalyticsState(a.db.db, orgId)).generation
    assert.ok(Number(generation) >= 5, `generation ${generation}`)
    const keys = await redis.keys(`analytics:v5:${orgId}:${generation}:*`)
    assert.deepEqual(keys.sort(), [
      `analytics:v5:${orgId}:${generation}:funnel`,
      `analytics:v5:${orgId}:${generation}:summary:30:USD`,
    ])
    for (const key of keys) {
      const ttl = await redis.pTTL(key)
      assert.ok(ttl > 0 && ttl <= CACHE_TTL_MS, `${key} ttl ${ttl}`)
    }
  })

  it('never keeps, in Redis, a value computed while a write was committing', async () => {
    const [app] = (await instances([REDIS_URL])) as [FastifyInstance]
    await until(() => redisReady(app), 'Redis is reachable')
    const cache = analyticsCache(app.redis, app.log)
    const orgId = uuidv7()
    // Generation 1 read, then a write commits (2) while computing: the old value stays under 1 only.
    const stale = await cachedValue(cache, orgId, '1', 'x', async () => ({ value: 'before the write' }))
    assert.equal(stale, 'before the write')
    const fresh = await cachedValue(cache, orgId, '2', 'x', async () => ({ value: 'after the write' }))
    assert.equal(fresh, 'after the write')
    assert.equal(
      await cachedValue(cache, orgId, '2', 'x', async () => ({ value: 'not computed' })),
      'after the write',
    )
  })

  it('keeps what it read from Redis in the process, until the shared entry expires', async () => {
    const proxy = await redisProxy(REDIS_URL as string)
    cleanups.push(proxy.close)
    const [a, b] = (await instances([REDIS_URL, proxy.url])) as [FastifyInstance, FastifyInstance]
    await until(() => redisReady(a) && redisReady(b), 'both instances reach Redis')
    const cacheA = analyticsCache(a.redis, a.log)
    const cacheB = analyticsCache(b.redis, b.log)
    const orgId = uuidv7()
    const compute = (value: string, validForMs?: number) => async () => ({ value, validForMs })
    assert.equal(await cachedValue(cacheA, orgId, '1', 'lasting', compute('from A')), 'from A')
    assert.equal(
      await cachedValue(cacheA, orgId, '1', 'brief', compute('brief from A', 1_500)),
      'brief from A',
    )
    // B reads both from Redis once...
    assert.equal(await cachedValue(cacheB, orgId, '1', 'lasting', compute('from B')), 'from A')
    assert.equal(await cachedValue(cacheB, orgId, '1', 'brief', compute('brief from B')), 'brief from A')
    assert.deepEqual(cacheB.stats(), { hits: 2, misses: 0, bypassed: 0 })
    // ...then from its own copies, even while Redis does not answer.
    proxy.stall()
    assert.equal(await cachedValue(cacheB, orgId, '1', 'lasting', compute('from B')), 'from A')
    assert.equal(await cachedValue(cacheB, orgId, '1', 'brief', compute('brief from B')), 'brief from A')
    assert.deepEqual(cacheB.stats(), { hits: 4, misses: 0, bypassed: 0 })
    proxy.resume()
    // The copy of the brief entry lapses with the shared one (its value changes as time passes).
    await sleep(1_600)
    assert.equal(await cachedValue(cacheB, orgId, '1', 'brief', compute('brief from B')), 'brief from B')
    assert.equal(await cachedValue(cacheB, orgId, '1', 'lasting', compute('from B')), 'from A')
  })

  it('is fresh on every instance at once although the writer cannot reach Redis', async () => {
    const proxy = await redisProxy(REDIS_URL as string)
    cleanups.push(proxy.close)
    const [a, b] = (await instances([proxy.url, REDIS_URL])) as [FastifyInstance, FastifyInstance]
    await until(() => redisReady(a) && redisReady(b), 'both instances reach Redis')
    const owner = await register(a)
    const orgId = owner.organizationId
    const deal = await createDeal(a, owner, orgId, { amount: '5.00' })
    await expectWonTotal(b, owner, orgId, 0, '0.00') // cached in Redis by B

    await proxy.cut()
    await until(() => !redisReady(a), 'A loses Redis')
    const won = await as(a, owner, orgId).patch(`/deals/${deal.id}`, { status: 'won' })
    assert.equal(won.statusCode, 200, won.body)
    // A computes without the cache meanwhile, so it is right at once; so is B, whose cached entry sits under
    // the old generation (the write moved it in the database, with nothing to send to Redis).
    await expectWonTotal(a, owner, orgId, 1, '5.00')
    assert.equal((await funnel(a, owner, orgId)).stages.qualification.won, 1)
    await expectWonTotal(b, owner, orgId, 1, '5.00')

    await proxy.restore()
    await until(() => redisReady(a), 'A reaches Redis again')
    await expectWonTotal(a, owner, orgId, 1, '5.00')
    await expectWonTotal(b, owner, orgId, 1, '5.00')
  })

  it('answers correctly, without the cache, while Redis does not answer', { timeout: 90_000 }, async () => {
    const proxy = await redisProxy(REDIS_URL as string)
    cleanups.push(proxy.close)
    const [a, b] = (await instances([proxy.url, REDIS_URL])) as [FastifyInstance, FastifyInstance]
    await until(() => redisReady(a) && redisReady(b), 'both instances reach Redis')
    const owner = await register(a)
    const orgId = owner.organizationId
    const deal = await createDeal(a, owner, orgId, { amount: '7.00' })
    await expectWonTotal(a, owner, orgId, 0, '0.00')

    proxy.stall()
    const won = await as(a, owner, orgId).patch(`/deals/${deal.id}`, { status: 'won' })
    assert.equal(won.statusCode, 200, won.body)
    await expectWonTotal(a, owner, orgId, 1, '7.00')
    assert.equal((await funnel(a, owner, orgId)).stages.qualification.won, 1)
    proxy.resume()
    await expectWonTotal(a, owner, orgId, 1, '7.00')
    await expectWonTotal(b, owner, orgId, 1, '7.00')
  })
})

describe('Redis unreachable', () => {
  it('never breaks the endpoints: two instances compute exact, fresh numbers without the cache', async () => {
    const [a, b] = (await instances([UNREACHABLE_REDIS, UNREACHABLE_REDIS])) as [
      FastifyInstance,
      FastifyInstance,
    ]
    const owner = await register(a)
    const orgId = owner.organizationId
    await seedDeals(a, owner, orgId, [
      { status: 'won', stage: 'closed', amount: '100.00' },
      { status: 'lost', stage: 'negotiation', amount: '50.00' },
    ])
    const expected = {
      by_status: {
        new: { count: 0, total_amount: '0.00' },
        in_progress: { count: 0, total_amount: '0.00' },
        won: { count: 1, total_amount: '100.00' },
        lost: { count: 1, total_amount: '50.00' },
      },
      average_won_amount: '100.00',
      win_rate: 0.5,
      new_deals_last_n_days: { count: 2, days: 7 },
      // v1.1 (spec §13): the summary's currency, the currencies in use and the open pipeline.
      currency: 'USD',
      currencies: [{ currency: 'USD', count: 2 }],
      pipeline: { open_count: 0, open_amount: '0.00', weighted_amount: '0.00', by_stage: byStage() },
    }
    assert.deepEqual(await summary(a, owner, orgId, '?days=7'), expected)
    assert.deepEqual(await summary(b, owner, orgId, '?days=7'), expected)
    const deal = await createDeal(b, owner, orgId, { amount: '1.00' })
    assert.equal((await summary(a, owner, orgId)).by_status.new.count, 1)
    const patched = await as(a, owner, orgId).patch(`/deals/${deal.id}`, { status: 'won', stage: 'proposal' })
    assert.equal(patched.statusCode, 200, patched.body)
    await expectWonTotal(b, owner, orgId, 2, '101.00')
    assert.equal((await funnel(b, owner, orgId)).stages.proposal.won, 1)
    assert.equal((await summary(b, owner, orgId)).average_won_amount, '50.50')
  })
})
