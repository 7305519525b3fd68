import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { eq, sql } from 'drizzle-orm'
import type { FastifyInstance } from 'fastify'
import { deals } from '../src/db/schema.js'
import { analyticsCache } from '../src/features/analytics/cache.js'
import { bumpGeneration, readAnalyticsState } from '../src/features/analytics/generation.js'
import { conversionRate, dealFunnel, winRate } from '../src/features/analytics/metrics.js'
import {
  ago,
  byStage,
  cachedValue,
  EMPTY_FUNNEL,
  EMPTY_SUMMARY,
  funnel,
  funnelStages,
  seedDeals,
  summary,
  times,
} from './analytics-fixtures.js'
import {
  API,
  addMember,
  as,
  auth,
  buildTestApp,
  createContact,
  createDeal,
  expectProblem,
  organizationWithRoles,
  register,
} from './helpers.js'

let app: FastifyInstance
before(async () => {
  app = await buildTestApp()
})
after(() => app.close())

describe('analytics rules (pure)', () => {
  it('win rate is won / (won + lost) to 4 decimals, null without closed deals', () => {
    assert.equal(winRate(1, 1), 0.5)
    assert.equal(winRate(2, 1), 0.6667)
    assert.equal(winRate(1, 2), 0.3333)
    assert.equal(winRate(3, 0), 1)
    assert.equal(winRate(0, 5), 0)
    assert.equal(winRate(1, 15_999), 0.0001) // 0.0000625: a true half rounds up
    assert.equal(winRate(0, 0), null)
  })

  it('conversion rate is round(100 * to / from, 2), 0 from an empty stage', () => {
    assert.equal(conversionRate(13, 7), 53.85)
    assert.equal(conversionRate(3, 2), 66.67)
    assert.equal(conversionRate(32, 1), 3.13) // 3.125: a true half rounds up
    assert.equal(conversionRate(7, 7), 100)
    assert.equal(conversionRate(5, 0), 0)
    assert.equal(conversionRate(0, 0), 0)
  })

  it('counts a deal as having reached every stage up to its current one (skipped stages included)', () => {
    const result = dealFunnel([
      { stage: 'qualification', status: 'new', count: 3 },
      { stage: 'closed', status: 'won', count: 2 },
    ])
    assert.deepEqual(
      result.conversions.map((c) => [c.from_count, c.to_count, c.conversion_rate]),
      [
        [5, 2, 40],
        [2, 2, 100],
        [2, 2, 100],
      ],
    )
    assert.deepEqual(result.stage_totals, { qualification: 3, proposal: 0, negotiation: 0, closed: 2 })
  })
})

describe('analytics cache (in process)', () => {
  const counting = () => {
    let calls = 0
    return {
      get calls() {
        return calls
      },
      compute: async () => ({ value: { n: ++calls } }),
    }
  }

  it("serves a computed value until the organization's generation moves", async () => {
    const cache = analyticsCache(undefined, app.log)
    const c = counting()
    assert.deepEqual(await cachedValue(cache, 'org-a', '1', 'x', c.compute), { n: 1 })
    assert.deepEqual(await cachedValue(cache, 'org-a', '1', 'x', c.compute), { n: 1 })
    assert.deepEqual(await cachedValue(cache, 'org-b', '2', 'x', c.compute), { n: 2 })
    assert.deepEqual(await cachedValue(cache, 'org-a', '1', 'x', c.compute), { n: 1 })
    assert.deepEqual(await cachedValue(cache, 'org-a', '2', 'x', c.compute), { n: 3 })
    assert.equal(c.calls, 3)
  })

  it('never serves a value computed while a write was committing to readers after the write', async () => {
    const cache = analyticsCache(undefined, app.log)
    // Generation read (1), then a write commits (2) while the computation runs on an older snapshot: the value
    // stays under generation 1, which no reader after the write asks for.
    const stale = await cachedValue(cache, 'org', '1', 'x', async () => ({ value: 'before the write' }))
    assert.equal(stale, 'before the write')
    assert.equal(
      await cachedValue(cache, 'org', '2', 'x', async () => ({ value: 'after the write' })),
      'after the write',
    )
  })

  it('shares one computation between concurrent misses, and caches no failure', async () => {
    const cache = analyticsCache(undefined, app.log)
    const c = counting()
    const slow = async () => {
      await sleep(20)
      return c.compute()
    }
    const results = await Promise.all(
      Array.from({ length: 5 }, () => cachedValue(cache, 'org', '1', 'x', slow)),
    )
    assert.deepEqual(results, Array(5).fill({ n: 1 }))
    assert.equal(c.calls, 1)
    const failing = async (): Promise<{ value: string }> => {
      throw new Error('database down')
    }
    await assert.rejects(cachedValue(cache, 'org', '1', 'y', failing), /database down/)
    assert.equal(await cachedValue(cache, 'org', '1', 'y', async () => ({ value: 'recovered' })), 'recovered')
  })

  it('expires a value when it stops being valid, and never stores one already invalid', async () => {
    const cache = analyticsCache(undefined, app.log)
    const c = counting()
    const shortLived = async () => ({ ...(await c.compute()), validForMs: 40 })
    assert.deepEqual(await cachedValue(cache, 'org', '1', 'x', shortLived), { n: 1 })
    assert.deepEqual(await cachedValue(cache, 'org', '1', 'x', shortLived), { n: 1 })
    await sleep(60)
    assert.deepEqual(await cachedValue(cache, 'org', '1', 'x', shortLived), { n: 2 })
    const expired = async () => ({ ...(await c.compute()), validForMs: -5 })
    assert.deepEqual(await cachedValue(cache, 'org', '1', 'z', expired), { n: 3 })
    assert.deepEqual(await cachedValue(cache, 'org', '1', 'z', expired), { n: 4 })
  })
})

describe('GET /analytics/deals/summary', () => {
  it('answers zeros, "0.00" and a null win rate for an organization without deals', async () => {
    const owner = await register(app)
    assert.deepEqual(await summary(app, owner, owner.organizationId), EMPTY_SUMMARY)
  })

  it('counts and sums every status exactly, whatever the stage', async () => {
    const owner = await register(app)
    await seedDeals(app, owner, owner.organizationId, [
      { status: 'new', amount: '0.10' },
      { status: 'new', amount: '0.20', stage: 'proposal' },
      { status: 'new', amount: '1000.00', stage: 'closed' },
      { status: 'in_progress', amount: '9999999999999.99', stage: 'negotiation' },
      { status: 'in_progress', amount: '9999999999999.99' },
      { status: 'won', amount: '0.01', stage: 'closed' },
      { status: 'won', amount: '0.02', stage: 'qualification' },
      { status: 'lost', amount: '0.00', stage: 'proposal' },
    ])
    assert.deepEqual(await summary(app, owner, owner.organizationId), {
      by_status: {
        new: { count: 3, total_amount: '1000.30' },
        in_progress: { count: 2, total_amount: '19999999999999.98' },
        won: { count: 2, total_amount: '0.03' },
        lost: { count: 1, total_amount: '0.00' },
      },
      average_won_amount: '0.02', // 0.015 rounds half away from zero
      win_rate: 0.6667,
      new_deals_last_n_days: { count: 8, days: 30 },
      // v1.1 (spec §13): every deal above is in USD; weighted = each open deal's round(amount × p / 100, 2)
      // at the default probabilities (0.01 + 0.06 + 900.00 + 5999999999999.99 + 1000000000000.00).
      currency: 'USD',
      currencies: [{ currency: 'USD', count: 8 }],
      pipeline: {
        open_count: 5,
        open_amount: '20000000001000.28',
        weighted_amount: '7000000000900.06',
        // The board's columns: open deals per stage (0.10 + 9999999999999.99 in qualification, and so on).
        by_stage: byStage({
          qualification: { count: 2, amount: '10000000000000.09', weighted_amount: '1000000000000.01' },
          proposal: { count: 1, amount: '0.20', weighted_amount: '0.06' },
          negotiation: { count: 1, amount: '9999999999999.99', weighted_amount: '5999999999999.99' },
          closed: { count: 1, amount: '1000.00', weighted_amount: '900.00' },
        }),
      },
    })
  })

  it('averages won deals to the cent and gives win rate 1 without lost deals', async () => {
    const owner = await register(app)
    await seedDeals(app, owner, owner.organizationId, [
      { status: 'won', amount: '100.00', stage: 'closed' },
      { status: 'won', amount: '200.00', stage: 'closed' },
      { status: 'won', amount: '100.01', stage: 'closed' },
      { status: 'new', amount: '5.00' },
    ])
    const body = await summary(app, owner, owner.organizationId)
    assert.deepEqual(body.by_status.won, { count: 3, total_amount: '400.01' })
    assert.equal(body.average_won_amount, '133.34')
    assert.equal(body.win_rate, 1)
  })

  it('gives win rate 0 when every closed deal is lost, and null while deals are only open', async () => {
    const owner = await register(app)
    await seedDeals(app, owner, owner.organizationId, [{ status: 'new' }, { status: 'in_progress' }])
    assert.equal((await summary(app, owner, owner.organizationId)).win_rate, null)
    await seedDeals(app, owner, owner.organizationId, times(3, { status: 'lost', stage: 'closed' }))
    const body = await summary(app, owner, owner.organizationId)
    assert.equal(body.win_rate, 0)
    assert.equal(body.average_won_amount, '0.00')
  })

  it('counts new deals created within the last `days` × 24 hours, at both ends of the range', async () => {
    const owner = await register(app)
    await seedDeals(app, owner, owner.organizationId, [
      { createdAt: ago('23 hours 59 minutes') },
      { createdAt: ago('1 day 1 minute') },
      { createdAt: ago('29 days 23 hours 59 minutes'), status: 'won', amount: '1.00' },
      { createdAt: ago('30 days 1 minute'), status: 'lost' },
      { createdAt: ago('364 days 23 hours 59 minutes') },
      { createdAt: ago('365 days 1 minute') },
      {},
    ])
    const recent = async (query: string) =>
      (await summary(app, owner, owner.organizationId, query)).new_deals_last_n_days
    assert.deepEqual(await recent('?days=1'), { count: 2, days: 1 })
    assert.deepEqual(await recent(''), { count: 4, days: 30 })
    assert.deepEqual(await recent('?days=30'), { count: 4, days: 30 })
    assert.deepEqual(await recent('?days=364'), { count: 5, days: 364 })
    assert.deepEqual(await recent('?days=365'), { count: 6, days: 365 })
    // Old deals still count everywhere else.
    const body = await summary(app, owner, owner.organizationId, '?days=1')
    assert.equal(body.by_status.new.count, 5)
    assert.equal(body.win_rate, 0.5)
  })

  it('lets a deal leave the window when it ages out, though nothing was written', async () => {
    const owner = await register(app)
    await seedDeals(app, owner, owner.organizationId, [
      { createdAt: ago('23 hours 59 minutes 58.5 seconds') },
    ])
    assert.equal((await summary(app, owner, owner.organizationId, '?days=1')).new_deals_last_n_days.count, 1)
    await sleep(1_600)
    assert.equal((await summary(app, owner, owner.organizationId, '?days=1')).new_deals_last_n_days.count, 0)
  })

  it('answers 400 VALIDATION_ERROR for days outside 1..365, not a whole number, or unknown parameters', async () => {
    const owner = await register(app)
    const client = as(app, owner, owner.organizationId)
    for (const query of ['days=0', 'days=366', 'days=abc', 'days=1.5', 'days=-1', 'days=', 'day=30']) {
      const problem = expectProblem(
        await client.get(`/analytics/deals/summary?${query}`),
        400,
        'VALIDATION_ERROR',
      )
      assert.ok(problem.errors.length > 0, query)
    }
    expectProblem(await client.get('/analytics/deals/funnel?days=30'), 400, 'VALIDATION_ERROR')
  })
})

describe('GET /analytics/deals/funnel', () => {
  it('answers every stage and status with zeros, and 0 conversions, for an organization without deals', async () => {
    const owner = await register(app)
    assert.deepEqual(await funnel(app, owner, owner.organizationId), EMPTY_FUNNEL)
  })

  it('counts deals by current stage and status, and conversions over the stages they reached', async () => {
    const owner = await register(app)
    await seedDeals(app, owner, owner.organizationId, [
      ...times(4, { stage: 'qualification', status: 'new' }),
      ...times(3, { stage: 'qualification', status: 'in_progress' }),
      ...times(1, { stage: 'qualification', status: 'won', amount: '10.00' }),
      ...times(5, { stage: 'qualification', status: 'lost' }),
      ...times(2, { stage: 'proposal', status: 'new' }),
      ...times(1, { stage: 'proposal', status: 'in_progress' }),
      ...times(3, { stage: 'proposal', status: 'lost' }),
      ...times(2, { stage: 'negotiation', status: 'in_progress' }),
      ...times(1, { stage: 'negotiation', status: 'won', amount: '10.00' }),
      ...times(1, { stage: 'negotiation', status: 'lost' }),
      ...times(3, { stage: 'closed', status: 'won', amount: '10.00' }),
      ...times(2, { stage: 'closed', status: 'lost' }),
    ])
    assert.deepEqual(await funnel(app, owner, owner.organizationId), {
      stages: {
        qualification: { new: 4, in_progress: 3, won: 1, lost: 5 },
        proposal: { new: 2, in_progress: 1, won: 0, lost: 3 },
        negotiation: { new: 0, in_progress: 2, won: 1, lost: 1 },
        closed: { new: 0, in_progress: 0, won: 3, lost: 2 },
      },
      stage_totals: { qualification: 13, proposal: 6, negotiation: 4, closed: 5 },
      conversions: [
        {
          from_stage: 'qualification',
          to_stage: 'proposal',
          from_count: 28,
          to_count: 15,
          conversion_rate: 53.57,
        },
        { from_stage: 'proposal', to_stage: 'negotiation', from_count: 15, to_count: 9, conversion_rate: 60 },
        { from_stage: 'negotiation', to_stage: 'closed', from_count: 9, to_count: 5, conversion_rate: 55.56 },
      ],
    })
  })

  it('reproduces the example of the spec (13 → 7 is 53.85)', async () => {
    const owner = await register(app)
    await seedDeals(app, owner, owner.organizationId, [
      ...times(3, { stage: 'qualification', status: 'new' }),
      ...times(1, { stage: 'qualification', status: 'in_progress' }),
      ...times(2, { stage: 'qualification', status: 'lost' }),
      ...times(4, { stage: 'proposal', status: 'in_progress' }),
      ...times(2, { stage: 'negotiation', status: 'new' }),
      ...times(1, { stage: 'closed', status: 'won', amount: '1.00' }),
    ])
    const body = await funnel(app, owner, owner.organizationId)
    assert.deepEqual(body.stage_totals, { qualification: 6, proposal: 4, negotiation: 2, closed: 1 })
    assert.deepEqual(body.conversions[0], {
      from_stage: 'qualification',
      to_stage: 'proposal',
      from_count: 13,
      to_count: 7,
      conversion_rate: 53.85,
    })
    assert.deepEqual(
      body.conversions.map((c: { conversion_rate: number }) => c.conversion_rate),
      [53.85, 42.86, 33.33],
    )
  })

  it('gives 0 (never a division by zero) after a stage nobody reached', async () => {
    const owner = await register(app)
    await seedDeals(app, owner, owner.organizationId, times(4, { stage: 'qualification', status: 'lost' }))
    assert.deepEqual(
      (await funnel(app, owner, owner.organizationId)).conversions.map(
        (c: { from_count: number; to_count: number; conversion_rate: number }) => [
          c.from_count,
          c.to_count,
          c.conversion_rate,
        ],
      ),
      [
        [4, 0, 0],
        [0, 0, 0],
        [0, 0, 0],
      ],
    )
  })
})

describe('analytics across organizations and roles', () => {
  it("never counts another organization's deals", async () => {
    const owner = await register(app)
    const other = await register(app)
    await addMember(app, other, other.organizationId, owner, 'member')
    await seedDeals(app, other, other.organizationId, [
      { status: 'won', stage: 'closed', amount: '500.00' },
      { status: 'lost', stage: 'negotiation', amount: '7.00' },
      { status: 'new', stage: 'proposal', amount: '3.00' },
      { status: 'in_progress', stage: 'qualification', amount: '2.00' },
    ])
    await seedDeals(app, owner, owner.organizationId, [{ status: 'in_progress', amount: '1.00' }])
    const mine = await summary(app, owner, owner.organizationId)
    assert.deepEqual(mine.by_status, {
      ...EMPTY_SUMMARY.by_status,
      in_progress: { count: 1, total_amount: '1.00' },
    })
    assert.equal(mine.win_rate, null)
    assert.equal(mine.new_deals_last_n_days.count, 1)
    const myFunnel = await funnel(app, owner, owner.organizationId)
    assert.deepEqual(myFunnel.stage_totals, { qualification: 1, proposal: 0, negotiation: 0, closed: 0 })
    // The same user sees the other organization's numbers only with its header.
    const theirs = await summary(app, owner, other.organizationId)
    assert.equal(theirs.by_status.won.total_amount, '500.00')
    assert.equal(theirs.win_rate, 0.5)
    assert.deepEqual((await funnel(app, owner, other.organizationId)).stage_totals, {
      qualification: 1,
      proposal: 1,
      negotiation: 1,
      closed: 1,
    })
  })

  it('lets every role read both, and applies the tenant header rules (401 → 400 → 403)', async () => {
    const { organizationId, owner, admin, manager, member, outsider } = await organizationWithRoles(app)
    await seedDeals(app, owner, organizationId, [{ status: 'won', stage: 'closed', amount: '9.99' }])
    for (const path of ['/analytics/deals/summary', '/analytics/deals/funnel']) {
      const bodies = []
      for (const user of [owner, admin, manager, member]) {
        const response = await as(app, user, organizationId).get(path)
        assert.equal(response.statusCode, 200, `${user.name}: ${response.body}`)
        bodies.push(response.json())
      }
      for (const body of bodies) assert.deepEqual(body, bodies[0])
      expectProblem(await as(app, outsider, organizationId).get(path), 403, 'ORGANIZATION_ACCESS_DENIED')
      expectProblem(
        await as(app, outsider, '0190a000-0000-7000-8000-000000000000').get(path),
        403,
        'ORGANIZATION_ACCESS_DENIED',
      )
      expectProblem(await as(app, owner).get(path), 400, 'ORGANIZATION_HEADER_REQUIRED')
      expectProblem(
        await app.inject({
          method: 'GET',
          url: `${API}${path}`,
          headers: { ...auth(owner), 'x-organization-id': 'nope' },
        }),
        400,
        'ORGANIZATION_HEADER_REQUIRED',
      )
      expectProblem(
        await app.inject({
          method: 'GET',
          url: `${API}${path}`,
          headers: { 'x-organization-id': organizationId },
        }),
        401,
        'UNAUTHORIZED',
      )
    }
  })
})

describe('analytics freshness', () => {
  it('moves the generation inside the write transaction: with every committed deal write, never a rolled-back one', async () => {
    const owner = await register(app)
    const orgId = owner.organizationId
    const generation = async () => (await readAnalyticsState(app.db.db, orgId)).generation
    assert.equal(await generation(), '0')
    const deal = await createDeal(app, owner, orgId, { amount: '10.00' })
    assert.equal(await generation(), '1')
    // A rolled-back transaction takes its bump with it: the generation is state written with the change.
    await assert.rejects(
      app.db.db.transaction(async (tx) => {
        await bumpGeneration(tx, orgId)
        await tx.update(deals).set({ amount: '99.00' }).where(eq(deals.organizationId, orgId))
        throw new Error('crash before commit')
      }),
      /crash before commit/,
    )
    assert.equal(await generation(), '1')
    // A refused change (rolled back by its guard or rules) does not move it either.
    const refused = await as(app, owner, orgId).patch(`/deals/${deal.id}`, { status: 'won', amount: '0' })
    assert.equal(refused.statusCode, 400, refused.body)
    assert.equal(await generation(), '1')
    const patched = await as(app, owner, orgId).patch(`/deals/${deal.id}`, { status: 'won' })
    assert.equal(patched.statusCode, 200, patched.body)
    assert.equal(await generation(), '2')
    // A PATCH that changes nothing writes nothing.
    assert.equal((await as(app, owner, orgId).patch(`/deals/${deal.id}`, {})).statusCode, 200)
    assert.equal(await generation(), '2')
    assert.equal((await as(app, owner, orgId).delete(`/deals/${deal.id}`)).statusCode, 204)
    assert.equal(await generation(), '3')
    // Writes of other resources leave deal analytics alone.
    const task = await as(app, owner, orgId).post('/contacts', { name: 'Not a deal' })
    assert.equal(task.statusCode, 201, task.body)
    assert.equal(await generation(), '3')
  })

  it('parallel deal writes each move the generation once', async () => {
    const owner = await register(app)
    const orgId = owner.organizationId
    const created = await Promise.all(
      Array.from({ length: 12 }, () => createDeal(app, owner, orgId, { amount: '1.00' })),
    )
    await Promise.all(
      created.map((deal) => as(app, owner, orgId).patch(`/deals/${deal.id}`, { status: 'in_progress' })),
    )
    assert.equal((await readAnalyticsState(app.db.db, orgId)).generation, '24')
    assert.equal((await summary(app, owner, orgId)).by_status.in_progress.count, 12)
  })

  it('serves from the cache until the generation moves', async () => {
    const owner = await register(app)
    await seedDeals(app, owner, owner.organizationId, [{ status: 'new', amount: '10.00' }])
    assert.equal((await summary(app, owner, owner.organizationId)).by_status.new.total_amount, '10.00')
    assert.equal((await funnel(app, owner, owner.organizationId)).stages.qualification.new, 1)
    // A change of the aggregate rows behind the service's back (not a deal write, no bump) is not seen: the
    // numbers come from the cache...
    await app.db.db.execute(
      sql`UPDATE deal_totals SET amount = amount + 5 WHERE organization_id = ${owner.organizationId} AND status = 'new'`,
    )
    assert.equal((await summary(app, owner, owner.organizationId)).by_status.new.total_amount, '10.00')
    // ...until the generation moves.
    await bumpGeneration(app.db.db, owner.organizationId)
    assert.equal((await summary(app, owner, owner.organizationId)).by_status.new.total_amount, '15.00')
    // A deal write moves it by itself, even one made with SQL outside the API (the deals triggers count it).
    await app.db.db
      .update(deals)
      .set({ amount: '20.00', stage: 'proposal' })
      .where(eq(deals.organizationId, owner.organizationId))
    assert.equal((await summary(app, owner, owner.organizationId)).by_status.new.total_amount, '25.00')
    assert.equal((await funnel(app, owner, owner.organizationId)).stages.proposal.new, 1)
  })

  it('reflects each create, update (amount, status, stage, rollback) and delete at once', async () => {
    const { organizationId, owner, manager } = await organizationWithRoles(app)
    const orgId = organizationId
    const expectNumbers = async (
      byStatus: Record<string, [number, string]>,
      stages: Parameters<typeof funnelStages>[0],
      extra: { win_rate: number | null; average_won_amount: string; recent: number },
    ) => {
      const s = await summary(app, manager, orgId)
      assert.deepEqual(
        s.by_status,
        Object.fromEntries(
          Object.entries({ ...zeroStatuses(), ...byStatus }).map(([k, [count, total]]) => [
            k,
            { count, total_amount: total },
          ]),
        ),
      )
      assert.equal(s.win_rate, extra.win_rate)
      assert.equal(s.average_won_amount, extra.average_won_amount)
      assert.equal(s.new_deals_last_n_days.count, extra.recent)
      assert.deepEqual((await funnel(app, manager, orgId)).stages, funnelStages(stages))
    }
    const none = { win_rate: null, average_won_amount: '0.00' }
    await expectNumbers({}, {}, { ...none, recent: 0 })

    const contact = await createContact(app, owner, orgId)
    const deal = await createDeal(app, manager, orgId, { contact_id: contact.id, amount: '100.50' })
    await expectNumbers({ new: [1, '100.50'] }, { qualification: { new: 1 } }, { ...none, recent: 1 })

    const other = await createDeal(app, owner, orgId, { contact_id: contact.id, amount: 40 })
    await expectNumbers({ new: [2, '140.50'] }, { qualification: { new: 2 } }, { ...none, recent: 2 })

    const client = as(app, manager, orgId)
    const patch = async (id: string, body: Record<string, unknown>, by = client) => {
      const response = await by.patch(`/deals/${id}`, body)
      assert.equal(response.statusCode, 200, response.body)
    }
    await patch(deal.id, { amount: '200.25' })
    await expectNumbers({ new: [2, '240.25'] }, { qualification: { new: 2 } }, { ...none, recent: 2 })

    await patch(deal.id, { status: 'in_progress' })
    await expectNumbers(
      { new: [1, '40.00'], in_progress: [1, '200.25'] },
      { qualification: { new: 1, in_progress: 1 } },
      { ...none, recent: 2 },
    )

    await patch(deal.id, { stage: 'negotiation' }) // skips proposal
    await expectNumbers(
      { new: [1, '40.00'], in_progress: [1, '200.25'] },
      { qualification: { new: 1 }, negotiation: { in_progress: 1 } },
      { ...none, recent: 2 },
    )

    await patch(deal.id, { stage: 'proposal' }, as(app, owner, orgId)) // rollback (owner)
    await expectNumbers(
      { new: [1, '40.00'], in_progress: [1, '200.25'] },
      { qualification: { new: 1 }, proposal: { in_progress: 1 } },
      { ...none, recent: 2 },
    )

    await patch(deal.id, { status: 'won', stage: 'closed' })
    await expectNumbers(
      { new: [1, '40.00'], won: [1, '200.25'] },
      { qualification: { new: 1 }, closed: { won: 1 } },
      { win_rate: 1, average_won_amount: '200.25', recent: 2 },
    )

    await patch(other.id, { status: 'lost' })
    await expectNumbers(
      { lost: [1, '40.00'], won: [1, '200.25'] },
      { qualification: { lost: 1 }, closed: { won: 1 } },
      { win_rate: 0.5, average_won_amount: '200.25', recent: 2 },
    )

    const deleted = await client.delete(`/deals/${deal.id}`)
    assert.equal(deleted.statusCode, 204)
    await expectNumbers(
      { lost: [1, '40.00'] },
      { qualification: { lost: 1 } },
      { win_rate: 0, average_won_amount: '0.00', recent: 1 },
    )
  })

  it('shows a write made in parallel with dashboard reads in every read that follows it', async () => {
    const owner = await register(app)
    const orgId = owner.organizationId
    const deal = await createDeal(app, owner, orgId, { amount: '1.00' })
    const client = as(app, owner, orgId)
    const reads = () =>
      Array.from({ length: 6 }, (_, i) => client.get(`/analytics/deals/${i % 2 ? 'summary' : 'funnel'}`))
    const results = await Promise.all([
      ...reads(),
      client.patch(`/deals/${deal.id}`, { stage: 'closed', status: 'won' }),
      ...reads(),
    ])
    for (const response of results) assert.ok(response.statusCode === 200, response.body)
    assert.deepEqual((await summary(app, owner, orgId)).by_status.won, { count: 1, total_amount: '1.00' })
    assert.equal((await funnel(app, owner, orgId)).stages.closed.won, 1)
  })
})

function zeroStatuses(): Record<string, [number, string]> {
  return { new: [0, '0.00'], in_progress: [0, '0.00'], won: [0, '0.00'], lost: [0, '0.00'] }
}
