import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { and, asc, eq } from 'drizzle-orm'
import type { FastifyInstance } from 'fastify'
import { activities, events } from '../src/db/schema.js'
import {
  as,
  buildTestApp,
  createContact,
  createDeal,
  expectProblem,
  organizationWithRoles,
  register,
} from './helpers.js'
import { assertSameProblem, assertValidationError, missingId, WRITE_ROLES } from './record-helpers.js'

let app: FastifyInstance
before(async () => {
  app = await buildTestApp()
})
after(() => app.close())

type Deal = Record<string, unknown> & { id: string }

async function stageActivities(organizationId: string, dealId: string) {
  const rows = await app.db.db
    .select()
    .from(activities)
    .where(
      and(
        eq(activities.organizationId, organizationId),
        eq(activities.dealId, dealId),
        eq(activities.type, 'stage_changed'),
      ),
    )
    .orderBy(asc(activities.createdAt), asc(activities.id))
  return rows.map((row) => ({
    ...(row.payload as { old_stage: string; new_stage: string }),
    author: row.authorId,
  }))
}

describe('deals v1.1: the sales fields (spec §12)', () => {
  it('starts with derived defaults: probability of the stage, no close date, stage_changed_at = created_at', async () => {
    const org = await organizationWithRoles(app)
    const deal = await createDeal(app, org.member, org.organizationId, { amount: '1000.00' })
    assert.equal(deal.status, 'new')
    assert.equal(deal.stage, 'qualification')
    assert.equal(deal.probability, 10)
    assert.equal(deal.weighted_amount, '100.00')
    assert.equal(deal.expected_close_date, null)
    assert.equal(deal.lost_reason, null)
    assert.equal(deal.closed_at, null)
    assert.equal(deal.stage_changed_at, deal.created_at)
  })

  it('creates with status, stage, close date and lost reason, writing no activity; won needs an amount', async () => {
    const org = await organizationWithRoles(app)
    const api = as(app, org.member, org.organizationId)
    const contact = await createContact(app, org.member, org.organizationId)
    const base = { contact_id: contact.id, title: 'T' }
    expectProblem(await api.post('/deals', { ...base, status: 'won' }), 400, 'INVALID_DEAL_AMOUNT')
    expectProblem(await api.post('/deals', { ...base, status: 'won', amount: 0 }), 400, 'INVALID_DEAL_AMOUNT')
    for (const status of ['new', 'in_progress', 'won']) {
      expectProblem(
        await api.post('/deals', { ...base, status, amount: 5, lost_reason: 'Price' }),
        400,
        'INVALID_LOST_REASON',
      )
    }
    const won = (
      await api.post('/deals', {
        ...base,
        status: 'won',
        stage: 'closed',
        amount: 5,
        expected_close_date: '2020-02-29',
      })
    ).json()
    assert.equal(won.status, 'won')
    assert.equal(won.stage, 'closed')
    assert.equal(won.probability, 100)
    assert.equal(won.weighted_amount, '5.00')
    assert.equal(won.closed_at, won.created_at)
    assert.equal(won.expected_close_date, '2020-02-29')
    const lost = (
      await api.post('/deals', {
        ...base,
        status: 'lost',
        stage: 'proposal',
        lost_reason: 'Price',
        lost_reason_extra: undefined,
      })
    ).json()
    assert.equal(lost.lost_reason, 'Price')
    assert.equal(lost.probability, 0)
    assert.equal(lost.closed_at, lost.created_at)
    const nullReason = await api.post('/deals', { ...base, lost_reason: null })
    assert.equal(nullReason.statusCode, 201)
    for (const deal of [won, lost]) {
      assert.deepEqual(await stageActivities(org.organizationId, deal.id), [])
      const history = (await api.get(`/deals/${deal.id}/stage-history`)).json().items
      assert.deepEqual(history, [
        {
          stage: deal.stage,
          entered_at: deal.created_at,
          exited_at: null,
          duration_seconds: null,
          changed_by: org.member.id,
        },
      ])
    }
  })

  it('keeps lost_reason only while lost, clears it when the status leaves lost; closed_at follows the status', async () => {
    const org = await organizationWithRoles(app)
    const api = as(app, org.owner, org.organizationId)
    const deal = await createDeal(app, org.owner, org.organizationId, { amount: 10 })
    expectProblem(await api.patch(`/deals/${deal.id}`, { lost_reason: 'Price' }), 400, 'INVALID_LOST_REASON')
    expectProblem(
      await api.patch(`/deals/${deal.id}`, { status: 'won', lost_reason: 'Price' }),
      400,
      'INVALID_LOST_REASON',
    )
    assert.equal((await api.patch(`/deals/${deal.id}`, { lost_reason: null })).statusCode, 200)
    const lost = (
      await api.patch(`/deals/${deal.id}`, { status: 'lost', lost_reason: 'Went with a competitor' })
    ).json()
    assert.equal(lost.lost_reason, 'Went with a competitor')
    assert.ok(lost.closed_at >= deal.created_at)
    const reason = (await api.patch(`/deals/${deal.id}`, { lost_reason: 'Budget' })).json()
    assert.equal(reason.lost_reason, 'Budget')
    assert.equal(reason.closed_at, lost.closed_at, 'a reason alone does not move closed_at')
    const cleared = (await api.patch(`/deals/${deal.id}`, { lost_reason: null })).json()
    assert.equal(cleared.lost_reason, null)
    await api.patch(`/deals/${deal.id}`, { lost_reason: 'Again' })
    const won = (await api.patch(`/deals/${deal.id}`, { status: 'won' })).json()
    assert.equal(won.lost_reason, null)
    assert.ok(won.closed_at > lost.closed_at)
    const reopened = (await api.patch(`/deals/${deal.id}`, { status: 'in_progress' })).json()
    assert.equal(reopened.closed_at, null)
    assert.equal(reopened.lost_reason, null)
    // Changing the status away from lost while sending a reason is refused as a whole.
    await api.patch(`/deals/${deal.id}`, { status: 'lost', lost_reason: 'X' })
    expectProblem(
      await api.patch(`/deals/${deal.id}`, { status: 'new', lost_reason: 'Y' }),
      400,
      'INVALID_LOST_REASON',
    )
    assert.equal((await api.get(`/deals/${deal.id}`)).json().lost_reason, 'X')
  })

  it('rounds weighted amounts half up to cents in NUMERIC (no float error)', async () => {
    const org = await organizationWithRoles(app)
    const api = as(app, org.owner, org.organizationId)
    // amount → weighted at qualification 10 %, proposal 30 %, negotiation 60 %
    const cases: [string, string, string][] = [
      ['0.05', 'qualification', '0.01'], // 0.005
      ['0.15', 'qualification', '0.02'], // 0.015 (0.15 * 0.1 = 0.015000000000000001 as a float, but 1.15 …)
      ['1.15', 'proposal', '0.35'], // 0.345: a float gives 0.34499999999999997
      ['1.005', 'qualification', ''], // refused: three decimals
      ['9999999999999.99', 'negotiation', '5999999999999.99'], // 5999999999999.994
      ['0.01', 'qualification', '0.00'], // 0.001
      ['2.45', 'negotiation', '1.47'],
      ['8.25', 'proposal', '2.48'], // 2.475
    ]
    for (const [amount, stage, weighted] of cases) {
      const response = await api.post('/deals', {
        contact_id: (await createContact(app, org.owner, org.organizationId)).id,
        title: amount,
        amount,
        stage,
      })
      if (weighted === '') {
        assertValidationError(response, amount)
        continue
      }
      assert.equal(response.json().weighted_amount, weighted, `${amount} at ${stage}`)
    }
    await api.patch('/pipeline', { probabilities: { qualification: 33 } })
    const deal = await createDeal(app, org.owner, org.organizationId, { amount: '0.50' })
    assert.equal(deal.weighted_amount, '0.17') // 0.165
  })

  it('filters by expected close date (inclusive, undated never match) and orders by it, nulls last both ways', async () => {
    const org = await organizationWithRoles(app)
    const api = as(app, org.member, org.organizationId)
    const contact = await createContact(app, org.member, org.organizationId)
    const make = (date: string | null) =>
      createDeal(app, org.member, org.organizationId, { contact_id: contact.id, expected_close_date: date })
    const none = await make(null)
    const march = await make('2027-03-31')
    const jan = await make('2027-01-01')
    const feb = await make('2027-02-15')
    const none2 = await make(null)
    const ids = async (query: string) => (await api.get(`/deals${query}`)).json().items.map((d: Deal) => d.id)
    assert.deepEqual(await ids('?order_by=expected_close_date&order=asc'), [
      jan.id,
      feb.id,
      march.id,
      none.id,
      none2.id,
    ])
    assert.deepEqual(await ids('?order_by=expected_close_date&order=desc'), [
      march.id,
      feb.id,
      jan.id,
      none2.id,
      none.id,
    ])
    assert.deepEqual(
      await ids(
        '?expected_close_after=2027-01-01&expected_close_before=2027-02-15&order_by=expected_close_date&order=asc',
      ),
      [jan.id, feb.id],
    )
    assert.deepEqual(await ids('?expected_close_after=2027-02-16&order_by=expected_close_date&order=asc'), [
      march.id,
    ])
    assert.deepEqual(await ids('?expected_close_before=2026-12-31'), [])
    const page = (await api.get('/deals?expected_close_after=2000-01-01&page_size=2')).json()
    assert.equal(page.total, 3)
    const patched = (await api.patch(`/deals/${march.id}`, { expected_close_date: null })).json()
    assert.equal(patched.expected_close_date, null)
    assert.deepEqual(await ids('?expected_close_after=2027-03-01'), [])
  })

  it('adds the contact with expand=contact, on the list and on one deal', async () => {
    const org = await organizationWithRoles(app)
    const api = as(app, org.member, org.organizationId)
    const company = (await api.post('/companies', { name: 'Acme' })).json()
    const contact = await createContact(app, org.member, org.organizationId, {
      name: 'Ann',
      email: 'ann@example.com',
      company_id: company.id,
    })
    const other = await createContact(app, org.member, org.organizationId, { name: 'Bob' })
    const a = await createDeal(app, org.member, org.organizationId, {
      contact_id: contact.id,
      stage: 'proposal',
    })
    const b = await createDeal(app, org.member, org.organizationId, {
      contact_id: other.id,
      stage: 'proposal',
    })
    const list = (await api.get('/deals?stage=proposal&expand=contact&order=asc')).json()
    assert.deepEqual(list.items, [
      { ...a, contact: { id: contact.id, name: 'Ann', email: 'ann@example.com', company_id: company.id } },
      { ...b, contact: { id: other.id, name: 'Bob', email: null, company_id: null } },
    ])
    assert.equal(list.total, 2)
    const one = (await api.get(`/deals/${a.id}?expand=contact`)).json()
    assert.deepEqual(one, list.items[0])
    assert.deepEqual((await api.get(`/deals/${a.id}`)).json(), a)
    expectProblem(await api.get(`/deals/${missingId()}?expand=contact`), 404, 'DEAL_NOT_FOUND')
  })

  it('refuses bad input for every new field with 400, never 5xx', async () => {
    const org = await organizationWithRoles(app)
    const api = as(app, org.owner, org.organizationId)
    const deal = await createDeal(app, org.owner, org.organizationId)
    const base = { contact_id: deal.contact_id, title: 'x' }
    const bodies = [
      { expected_close_date: 'tomorrow' },
      { expected_close_date: '2027-02-30' },
      { expected_close_date: '0000-01-01' },
      { expected_close_date: 20270101 },
      { expected_close_date: '2027-01-01T00:00:00Z' },
      { lost_reason: '' },
      { lost_reason: 'x'.repeat(501) },
      { lost_reason: 5 },
      { status: 'closed' },
      { status: null },
      { stage: 'won' },
      { stage: null },
      { probability: 50 },
      { weighted_amount: '1.00' },
      { closed_at: null },
      { stage_changed_at: '2027-01-01T00:00:00.000Z' },
      { contact: {} },
    ]
    for (const body of bodies) {
      assertValidationError(
        await api.post('/deals', { ...base, ...body }),
        `create ${JSON.stringify(body).slice(0, 60)}`,
      )
      assertValidationError(
        await api.patch(`/deals/${deal.id}`, body),
        `patch ${JSON.stringify(body).slice(0, 60)}`,
      )
    }
    for (const query of [
      '?expected_close_before=2027-13-01',
      '?expected_close_after=x',
      '?expected_close_after=0000-01-01',
      '?order_by=probability',
      '?order_by=weighted_amount',
      '?expand=owner',
      '?expand=',
      '?company_id=1',
    ]) {
      assertValidationError(await api.get(`/deals${query}`), query)
    }
    assertValidationError(await api.get(`/deals/${deal.id}?expand=company`), 'one expand')
    assertValidationError(await api.get(`/deals/${deal.id}?x=1`), 'one unknown')
    const reason500 = await api.patch(`/deals/${deal.id}`, { status: 'lost', lost_reason: 'é'.repeat(500) })
    assert.equal(reason500.statusCode, 200)
    assert.deepEqual((await api.get(`/deals/${deal.id}`)).json(), reason500.json())
  })
})

describe('pipeline (spec §12)', () => {
  it('answers the default probabilities in pipeline order to every member, 403 to others', async () => {
    const org = await organizationWithRoles(app)
    const expected = {
      stages: [
        { stage: 'qualification', position: 1, probability: 10 },
        { stage: 'proposal', position: 2, probability: 30 },
        { stage: 'negotiation', position: 3, probability: 60 },
        { stage: 'closed', position: 4, probability: 90 },
      ],
    }
    for (const role of WRITE_ROLES)
      assert.deepEqual((await as(app, org[role], org.organizationId).get('/pipeline')).json(), expected)
    expectProblem(
      await as(app, org.outsider, org.organizationId).get('/pipeline'),
      403,
      'ORGANIZATION_ACCESS_DENIED',
    )
  })

  for (const role of WRITE_ROLES) {
    const allowed = role === 'owner' || role === 'admin'
    it(`${allowed ? 'lets' : 'refuses'} ${role} set probabilities; a change applies at once to deals and analytics`, async () => {
      const org = await organizationWithRoles(app)
      const deal = await createDeal(app, org.member, org.organizationId, {
        amount: '200.00',
        stage: 'proposal',
      })
      await as(app, org.owner, org.organizationId).get('/analytics/deals/summary') // cached before the change
      const response = await as(app, org[role], org.organizationId).patch('/pipeline', {
        probabilities: { proposal: 45, closed: 100 },
      })
      const read = (await as(app, org.member, org.organizationId).get(`/deals/${deal.id}`)).json()
      const summary = (await as(app, org.member, org.organizationId).get('/analytics/deals/summary')).json()
      if (allowed) {
        assert.equal(response.statusCode, 200)
        assert.deepEqual(
          response.json().stages.map((s: { probability: number }) => s.probability),
          [10, 45, 60, 100],
        )
        assert.equal(read.probability, 45)
        assert.equal(read.weighted_amount, '90.00')
        assert.equal(summary.pipeline.weighted_amount, '90.00')
      } else {
        expectProblem(response, 403, 'FORBIDDEN')
        assert.equal(read.probability, 30)
        assert.equal(summary.pipeline.weighted_amount, '60.00')
      }
    })
  }

  it('keeps each organization’s probabilities to itself', async () => {
    const a = await register(app)
    const b = await register(app)
    await as(app, a, a.organizationId).patch('/pipeline', { probabilities: { qualification: 0 } })
    assert.equal((await as(app, b, b.organizationId).get('/pipeline')).json().stages[0].probability, 10)
    const deal = await createDeal(app, b, b.organizationId, { amount: 10 })
    assert.equal(deal.probability, 10)
  })

  it('reads the organization’s own probability on every path: create, read, lists, PATCH and its event', async () => {
    const a = await register(app)
    const b = await register(app)
    await as(app, a, a.organizationId).patch('/pipeline', { probabilities: { proposal: 1, negotiation: 2 } })
    await as(app, b, b.organizationId).patch('/pipeline', {
      probabilities: { proposal: 55, negotiation: 70 },
    })
    const api = as(app, b, b.organizationId)
    const created = await createDeal(app, b, b.organizationId, { amount: '10.00', stage: 'proposal' })
    assert.deepEqual([created.probability, created.weighted_amount], [55, '5.50'])
    const read = (await api.get(`/deals/${created.id}`)).json()
    assert.deepEqual([read.probability, read.weighted_amount], [55, '5.50'])
    for (const query of ['', '?expand=contact', '?stage=proposal&order_by=amount']) {
      const [listed] = (await api.get(`/deals${query}`)).json().items
      assert.deepEqual([listed.probability, listed.weighted_amount], [55, '5.50'], query)
    }
    const patched = await api.patch(`/deals/${created.id}`, { stage: 'negotiation' })
    assert.deepEqual([patched.json().probability, patched.json().weighted_amount], [70, '7.00'])
    const [event] = await app.db.db
      .select({ data: events.data })
      .from(events)
      .where(and(eq(events.organizationId, b.organizationId), eq(events.type, 'deal.updated')))
    assert.deepEqual(event?.data, patched.json())
    const won = (await api.patch(`/deals/${created.id}`, { status: 'won' })).json()
    assert.deepEqual([won.probability, won.weighted_amount], [100, '10.00'])
  })

  it('refuses bad bodies with 400 and changes nothing', async () => {
    const org = await organizationWithRoles(app)
    const api = as(app, org.owner, org.organizationId)
    const bodies = [
      {},
      { probabilities: null },
      { probabilities: [] },
      { probabilities: { qualification: 101 } },
      { probabilities: { qualification: -1 } },
      { probabilities: { qualification: 1.5 } },
      { probabilities: { qualification: '50' } },
      { probabilities: { qualification: null } },
      { probabilities: { won: 50 } },
      { probabilities: { qualification: 50 }, stages: [] },
    ]
    for (const body of bodies) assertValidationError(await api.patch('/pipeline', body), JSON.stringify(body))
    assert.equal((await api.get('/pipeline')).json().stages[0].probability, 10)
    assert.equal((await api.patch('/pipeline', { probabilities: {} })).statusCode, 200)
  })
})

describe('stage history (spec §12)', () => {
  it('records one stay per stage, chained, with who moved the deal, agreeing with the activities', async () => {
    const org = await organizationWithRoles(app)
    const deal = await createDeal(app, org.manager, org.organizationId)
    const moves: [keyof typeof org & ('owner' | 'admin' | 'manager'), string][] = [
      ['manager', 'proposal'],
      ['admin', 'closed'],
      ['owner', 'qualification'],
      ['manager', 'negotiation'],
    ]
    for (const [role, stage] of moves) {
      const response = await as(app, org[role], org.organizationId).patch(`/deals/${deal.id}`, {
        stage,
        title: `to ${stage}`,
      })
      assert.equal(response.statusCode, 200)
    }
    await as(app, org.owner, org.organizationId).patch(`/deals/${deal.id}`, {
      title: 'no stage change',
      stage: 'negotiation',
    })
    const current = (await as(app, org.member, org.organizationId).get(`/deals/${deal.id}`)).json()
    const items = (
      await as(app, org.member, org.organizationId).get(`/deals/${deal.id}/stage-history`)
    ).json().items
    assert.deepEqual(
      items.map((i: { stage: string }) => i.stage),
      ['qualification', 'proposal', 'closed', 'qualification', 'negotiation'],
    )
    assert.deepEqual(
      items.map((i: { changed_by: string }) => i.changed_by),
      [org.manager.id, org.manager.id, org.admin.id, org.owner.id, org.manager.id],
    )
    assert.equal(items[0].entered_at, deal.created_at)
    for (let i = 0; i + 1 < items.length; i++) {
      assert.equal(items[i].exited_at, items[i + 1].entered_at)
      assert.equal(
        items[i].duration_seconds,
        Math.floor((Date.parse(items[i].exited_at) - Date.parse(items[i].entered_at)) / 1000),
      )
    }
    const last = items.at(-1)
    assert.equal(last.exited_at, null)
    assert.equal(last.duration_seconds, null)
    assert.equal(last.entered_at, current.stage_changed_at)
    const changes = await stageActivities(org.organizationId, deal.id)
    assert.deepEqual(
      changes.map((c) => c.new_stage),
      items.slice(1).map((i: { stage: string }) => i.stage),
    )
    assert.deepEqual(
      changes.map((c) => c.old_stage),
      items.slice(0, -1).map((i: { stage: string }) => i.stage),
    )
    assert.deepEqual(
      changes.map((c) => c.author),
      items.slice(1).map((i: { changed_by: string }) => i.changed_by),
    )
  })

  it('chains exactly under parallel stage changes of one deal', async () => {
    const org = await organizationWithRoles(app)
    const deal = await createDeal(app, org.owner, org.organizationId)
    const stages = ['proposal', 'negotiation', 'closed', 'qualification']
    const responses = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        as(app, i % 2 ? org.owner : org.admin, org.organizationId).patch(`/deals/${deal.id}`, {
          stage: stages[i % 4],
        }),
      ),
    )
    for (const response of responses) assert.equal(response.statusCode, 200, response.body)
    const items = (await as(app, org.owner, org.organizationId).get(`/deals/${deal.id}/stage-history`)).json()
      .items
    const changes = await stageActivities(org.organizationId, deal.id)
    assert.equal(items.length, changes.length + 1)
    assert.equal(items[0].stage, 'qualification')
    for (let i = 0; i + 1 < items.length; i++) {
      assert.equal(items[i].exited_at, items[i + 1].entered_at, 'no gap, no overlap')
      assert.ok(items[i].entered_at <= items[i].exited_at)
      assert.notEqual(items[i].stage, items[i + 1].stage)
      assert.equal(changes[i]?.old_stage, items[i].stage)
      assert.equal(changes[i]?.new_stage, items[i + 1].stage)
    }
    const current = (await as(app, org.owner, org.organizationId).get(`/deals/${deal.id}`)).json()
    assert.equal(items.at(-1).stage, current.stage)
    assert.equal(items.at(-1).exited_at, null)
  })

  it('answers a foreign deal like a missing one, and any member reads it', async () => {
    const org = await organizationWithRoles(app)
    const stranger = await register(app)
    const foreign = await createDeal(app, stranger, stranger.organizationId)
    const deal = await createDeal(app, org.member, org.organizationId)
    for (const role of WRITE_ROLES) {
      const api = as(app, org[role], org.organizationId)
      assert.equal((await api.get(`/deals/${deal.id}/stage-history`)).json().items.length, 1)
      const foreignResponse = await api.get(`/deals/${foreign.id}/stage-history`)
      expectProblem(foreignResponse, 404, 'DEAL_NOT_FOUND')
      assertSameProblem(foreignResponse, await api.get(`/deals/${missingId()}/stage-history`))
    }
    expectProblem(
      await as(app, org.outsider, org.organizationId).get(`/deals/${deal.id}/stage-history`),
      403,
      'ORGANIZATION_ACCESS_DENIED',
    )
    assertValidationError(
      await as(app, org.owner, org.organizationId).get('/deals/nope/stage-history'),
      'path',
    )
    assertValidationError(
      await as(app, org.owner, org.organizationId).get(`/deals/${deal.id}/stage-history?page=1`),
      'query',
    )
    // The history goes with its deal.
    assert.equal((await as(app, org.owner, org.organizationId).delete(`/deals/${deal.id}`)).statusCode, 204)
    expectProblem(
      await as(app, org.owner, org.organizationId).get(`/deals/${deal.id}/stage-history`),
      404,
      'DEAL_NOT_FOUND',
    )
  })
})
