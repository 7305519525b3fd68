import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { and, asc, eq } from 'drizzle-orm'
import type { FastifyInstance } from 'fastify'
import { activities, type DealStatus, tasks } from '../src/db/schema.js'
import { uuidv7 } from '../src/lib/uuid.js'
import {
  API,
  as,
  buildTestApp,
  createContact,
  createDeal,
  expectProblem,
  organizationWithRoles,
  register,
} from './helpers.js'
import { NOT_AN_OBJECT, sendJson } from './json-bodies.js'
import {
  assertSameProblem,
  assertValidationError,
  missingId,
  otherUser,
  ownedRecordRoleSuite,
  WRITE_ROLES,
  writesAll,
} from './record-helpers.js'

let app: FastifyInstance
before(async () => {
  app = await buildTestApp()
})
after(() => app.close())

// v1.1 added expected_close_date, lost_reason, probability, weighted_amount, closed_at, stage_changed_at (§12).
const DEAL_KEYS = [
  'amount',
  'closed_at',
  'contact_id',
  'created_at',
  'currency',
  'expected_close_date',
  'id',
  'lost_reason',
  'organization_id',
  'owner_id',
  'probability',
  'stage',
  'stage_changed_at',
  'status',
  'title',
  'updated_at',
  'weighted_amount',
]

/** Activities of one deal straight from the table (the activities endpoint lives in another feature). */
async function activitiesOf(organizationId: string, dealId: string) {
  const rows = await app.db.db
    .select()
    .from(activities)
    .where(and(eq(activities.organizationId, organizationId), eq(activities.dealId, dealId)))
    .orderBy(asc(activities.createdAt), asc(activities.id))
  return rows.map((row) => ({ type: row.type, payload: row.payload, author_id: row.authorId }))
}

/** Activities written by one request share a timestamp, so their order is not defined: compare them sorted. */
function byType<T extends { type: string }>(items: T[]): T[] {
  return [...items].sort((a, b) => a.type.localeCompare(b.type))
}

describe('deals: create, read, update, delete', () => {
  it('creates a deal with defaults, owned by the caller', async () => {
    const org = await organizationWithRoles(app)
    const contact = await createContact(app, org.member, org.organizationId)
    const response = await as(app, org.member, org.organizationId).post('/deals', {
      contact_id: contact.id,
      title: 'First deal',
    })
    assert.equal(response.statusCode, 201)
    const deal = response.json()
    assert.deepEqual(Object.keys(deal).sort(), DEAL_KEYS)
    assert.equal(deal.organization_id, org.organizationId)
    assert.equal(deal.contact_id, contact.id)
    assert.equal(deal.owner_id, org.member.id)
    assert.equal(deal.amount, '0.00')
    assert.equal(deal.currency, 'USD')
    assert.equal(deal.status, 'new')
    assert.equal(deal.stage, 'qualification')
    const read = await as(app, org.admin, org.organizationId).get(`/deals/${deal.id}`)
    assert.equal(read.statusCode, 200)
    assert.deepEqual(read.json(), deal)
    assert.deepEqual(await activitiesOf(org.organizationId, deal.id), [])
  })

  it('keeps amounts exact as two-decimal strings and stores currencies upper-case', async () => {
    const org = await organizationWithRoles(app)
    const cases: [unknown, string][] = [
      [1250, '1250.00'],
      ['0.5', '0.50'],
      [19.99, '19.99'],
      ['0007.10', '7.10'],
      ['9999999999999.99', '9999999999999.99'],
      [0, '0.00'],
    ]
    for (const [amount, expected] of cases) {
      const deal = await createDeal(app, org.owner, org.organizationId, { amount, currency: 'eur' })
      assert.equal(deal.amount, expected, JSON.stringify(amount))
      assert.equal(deal.currency, 'EUR')
      const read = await as(app, org.owner, org.organizationId).get(`/deals/${deal.id}`)
      assert.equal(read.json().amount, expected)
    }
    const deal = await createDeal(app, org.owner, org.organizationId)
    const patched = await as(app, org.owner, org.organizationId).patch(`/deals/${deal.id}`, {
      amount: '7',
      currency: 'gbp',
    })
    assert.equal(patched.json().amount, '7.00')
    assert.equal(patched.json().currency, 'GBP')
  })

  it('updates every field, and moves the deal to another contact of the organization', async () => {
    const org = await organizationWithRoles(app)
    const api = as(app, org.owner, org.organizationId)
    const deal = await createDeal(app, org.owner, org.organizationId)
    const contact = await createContact(app, org.member, org.organizationId)
    const response = await api.patch(`/deals/${deal.id}`, {
      title: 'Renamed',
      amount: 300,
      currency: 'chf',
      status: 'in_progress',
      stage: 'proposal',
      contact_id: contact.id,
      owner_id: org.manager.id,
    })
    assert.equal(response.statusCode, 200)
    const updated = response.json()
    assert.deepEqual(
      { ...updated, created_at: undefined, updated_at: undefined },
      {
        ...deal,
        title: 'Renamed',
        amount: '300.00',
        currency: 'CHF',
        status: 'in_progress',
        stage: 'proposal',
        contact_id: contact.id,
        owner_id: org.manager.id,
        created_at: undefined,
        updated_at: undefined,
        // v1.1 (spec §12): the derived fields follow the new stage.
        probability: 30,
        weighted_amount: '90.00',
        stage_changed_at: updated.stage_changed_at,
      },
    )
    assert.ok(updated.stage_changed_at > deal.stage_changed_at)
    assert.equal(updated.created_at, deal.created_at)
    assert.ok(updated.updated_at >= deal.updated_at)
    assert.deepEqual((await api.get(`/deals/${deal.id}`)).json(), updated)
  })

  it('deletes a deal with its tasks and activities', async () => {
    const org = await organizationWithRoles(app)
    const api = as(app, org.owner, org.organizationId)
    const deal = await createDeal(app, org.owner, org.organizationId, { amount: 10 })
    const kept = await createDeal(app, org.owner, org.organizationId, { amount: 10 })
    for (const { id } of [deal, kept]) {
      assert.equal((await api.patch(`/deals/${id}`, { status: 'won', stage: 'closed' })).statusCode, 200)
      await app.db.db
        .insert(tasks)
        .values({ organizationId: org.organizationId, id: uuidv7(), dealId: id, title: 'T' })
    }
    const tasksOf = async (dealId: string) =>
      app.db.db
        .select()
        .from(tasks)
        .where(and(eq(tasks.organizationId, org.organizationId), eq(tasks.dealId, dealId)))
    assert.equal((await activitiesOf(org.organizationId, deal.id)).length, 2)
    assert.equal((await api.delete(`/deals/${deal.id}`)).statusCode, 204)
    expectProblem(await api.get(`/deals/${deal.id}`), 404, 'DEAL_NOT_FOUND')
    expectProblem(await api.delete(`/deals/${deal.id}`), 404, 'DEAL_NOT_FOUND')
    assert.deepEqual(await activitiesOf(org.organizationId, deal.id), [])
    assert.deepEqual(await tasksOf(deal.id), [])
    assert.equal((await activitiesOf(org.organizationId, kept.id)).length, 2)
    assert.equal((await tasksOf(kept.id)).length, 1)
  })
})

describe('deals: rules', () => {
  it('refuses won without a positive amount, also when zeroing a won deal', async () => {
    const org = await organizationWithRoles(app)
    const api = as(app, org.member, org.organizationId)
    const deal = await createDeal(app, org.member, org.organizationId)
    expectProblem(await api.patch(`/deals/${deal.id}`, { status: 'won' }), 400, 'INVALID_DEAL_AMOUNT')
    expectProblem(
      await api.patch(`/deals/${deal.id}`, { status: 'won', amount: '0.00' }),
      400,
      'INVALID_DEAL_AMOUNT',
    )
    assert.deepEqual((await api.get(`/deals/${deal.id}`)).json(), deal)
    const won = await api.patch(`/deals/${deal.id}`, { status: 'won', amount: '0.01' })
    assert.equal(won.statusCode, 200)
    assert.equal(won.json().status, 'won')
    for (const amount of [0, '0', '0.00']) {
      expectProblem(await api.patch(`/deals/${deal.id}`, { amount }), 400, 'INVALID_DEAL_AMOUNT')
    }
    assert.equal((await api.get(`/deals/${deal.id}`)).json().amount, '0.01')
    const lost = await api.patch(`/deals/${deal.id}`, { status: 'lost', amount: 0 })
    assert.equal(lost.statusCode, 200)
    assert.equal(lost.json().amount, '0.00')
  })

  it('moves forward skipping stages and records each actual status and stage change', async () => {
    const org = await organizationWithRoles(app)
    const api = as(app, org.member, org.organizationId)
    const deal = await createDeal(app, org.member, org.organizationId, { amount: 50 })
    assert.equal((await api.patch(`/deals/${deal.id}`, { stage: 'negotiation' })).statusCode, 200)
    assert.equal(
      (await api.patch(`/deals/${deal.id}`, { stage: 'negotiation', status: 'new', title: 'Same' }))
        .statusCode,
      200,
    )
    assert.equal(
      (
        await as(app, org.manager, org.organizationId).patch(`/deals/${deal.id}`, {
          status: 'won',
          stage: 'closed',
        })
      ).statusCode,
      200,
    )
    const history = await activitiesOf(org.organizationId, deal.id)
    assert.deepEqual(history[0], {
      type: 'stage_changed',
      payload: { old_stage: 'qualification', new_stage: 'negotiation' },
      author_id: org.member.id,
    })
    // The last two share one transaction (and timestamp): compared without their order.
    assert.deepEqual(
      byType(history.slice(1)),
      byType([
        {
          type: 'status_changed',
          payload: { old_status: 'new', new_status: 'won' },
          author_id: org.manager.id,
        },
        {
          type: 'stage_changed',
          payload: { old_stage: 'negotiation', new_stage: 'closed' },
          author_id: org.manager.id,
        },
      ]),
    )
  })

  for (const role of WRITE_ROLES) {
    const mayRollBack = role === 'owner' || role === 'admin'
    it(`${mayRollBack ? 'lets' : 'forbids'} a ${role} roll a stage back`, async () => {
      const org = await organizationWithRoles(app)
      const deal = await createDeal(app, org[role], org.organizationId)
      const api = as(app, org[role], org.organizationId)
      const forward = (await api.patch(`/deals/${deal.id}`, { stage: 'negotiation' })).json()
      const back = await api.patch(`/deals/${deal.id}`, { stage: 'proposal', status: 'in_progress' })
      const history = await activitiesOf(org.organizationId, deal.id)
      if (mayRollBack) {
        assert.equal(back.statusCode, 200)
        assert.equal(back.json().stage, 'proposal')
        assert.deepEqual(
          byType(history.slice(1)),
          byType([
            {
              type: 'status_changed',
              payload: { old_status: 'new', new_status: 'in_progress' },
              author_id: org[role].id,
            },
            {
              type: 'stage_changed',
              payload: { old_stage: 'negotiation', new_stage: 'proposal' },
              author_id: org[role].id,
            },
          ]),
        )
      } else {
        expectProblem(back, 403, 'STAGE_ROLLBACK_FORBIDDEN')
        assert.deepEqual((await api.get(`/deals/${deal.id}`)).json(), forward)
        assert.equal(history.length, 1)
      }
    })
  }

  it('writes nothing when a later check of the same change fails', async () => {
    const org = await organizationWithRoles(app)
    const api = as(app, org.owner, org.organizationId)
    const deal = await createDeal(app, org.owner, org.organizationId, { amount: 5 })
    expectProblem(
      await api.patch(`/deals/${deal.id}`, {
        status: 'in_progress',
        stage: 'closed',
        contact_id: missingId(),
      }),
      404,
      'CONTACT_NOT_FOUND',
    )
    expectProblem(
      await api.patch(`/deals/${deal.id}`, { status: 'won', stage: 'closed', owner_id: org.outsider.id }),
      400,
      'OWNER_NOT_MEMBER',
    )
    assert.deepEqual((await api.get(`/deals/${deal.id}`)).json(), deal)
    assert.deepEqual(await activitiesOf(org.organizationId, deal.id), [])
  })

  it('serializes 10 parallel status changes of one deal: the activities chain exactly', async () => {
    const org = await organizationWithRoles(app)
    const deal = await createDeal(app, org.owner, org.organizationId, { amount: 100 })
    const cycle: DealStatus[] = ['in_progress', 'won', 'lost', 'new']
    const targets = Array.from({ length: 10 }, (_, i) => cycle[i % cycle.length] as DealStatus)
    const writers = [org.owner, org.admin, org.manager]
    const responses = await Promise.all(
      targets.map((status, i) =>
        as(app, writers[i % writers.length] as typeof org.owner, org.organizationId).patch(
          `/deals/${deal.id}`,
          {
            status,
          },
        ),
      ),
    )
    for (const [i, response] of responses.entries()) {
      assert.equal(response.statusCode, 200, response.body)
      assert.equal(response.json().status, targets[i])
    }
    const final = (await as(app, org.owner, org.organizationId).get(`/deals/${deal.id}`)).json().status
    const changes = (await activitiesOf(org.organizationId, deal.id)).map((a) => {
      assert.equal(a.type, 'status_changed')
      return a.payload as { old_status: DealStatus; new_status: DealStatus }
    })
    assert.ok(changes.length >= 1 && changes.length <= 10)
    // Under serialization each change starts where the previous ended: the changes form one unbroken chain from
    // `new` to the final status that uses every recorded change exactly once. Timestamps cannot order them
    // (several may share a millisecond), so the chain is searched; a lost update leaves two changes starting
    // from the same value with no change between them, and no chain exists.
    const chain = chainOf('new', changes)
    assert.ok(chain, `no chain through ${JSON.stringify(changes)}`)
    assert.equal(chain.at(-1)?.new_status, final)
    for (const change of chain) assert.notEqual(change.old_status, change.new_status)
    // Each change comes from a distinct request: per status, never more arrivals than requests for it. A request
    // that changed nothing found its target already set, so that status must occur in the chain. (Exactly ten
    // changes happen only when no two requests with the same target run back to back, which parallel requests
    // cannot force: four statuses, ten requests.)
    for (const status of new Set(targets)) {
      const requested = targets.filter((target) => target === status).length
      const arrivals = chain.filter((change) => change.new_status === status).length
      assert.ok(arrivals <= requested, `${arrivals} changes to ${status} from ${requested} requests`)
      if (arrivals < requested) assert.ok(status === 'new' || arrivals > 0, `no-op ${status} never current`)
    }
    // And the feed itself, oldest first, is that chain: each activity's old value is the previous new value.
    const feed = (
      await as(app, org.member, org.organizationId).get(`/deals/${deal.id}/activities?page_size=100`)
    )
      .json()
      .items.reverse()
      .map((a: { payload: { old_status: string; new_status: string } }) => a.payload)
    assert.equal(feed.length, changes.length)
    feed.forEach((change: { old_status: string; new_status: string }, i: number) => {
      assert.equal(change.old_status, i === 0 ? 'new' : feed[i - 1].new_status, JSON.stringify(feed))
    })
  })

  it('serializes a concurrent "won" and "amount 0": one succeeds, the other is refused, never a 5xx', async () => {
    const org = await organizationWithRoles(app)
    const api = as(app, org.owner, org.organizationId)
    for (let round = 0; round < 4; round++) {
      const deal = await createDeal(app, org.owner, org.organizationId, { amount: 10 })
      const [won, zeroed] = await Promise.all([
        api.patch(`/deals/${deal.id}`, { status: 'won' }),
        api.patch(`/deals/${deal.id}`, { amount: 0 }),
      ])
      const codes = [won.statusCode, zeroed.statusCode].sort()
      assert.deepEqual(codes, [200, 400], `${won.body} ${zeroed.body}`)
      const after = (await api.get(`/deals/${deal.id}`)).json()
      assert.ok(after.status !== 'won' || after.amount !== '0.00')
    }
  })
})

/** Orders `changes` into one chain starting at `start` (depth-first; at most ten changes). */
function chainOf<T extends { old_status: string; new_status: string }>(
  start: string,
  changes: T[],
): T[] | null {
  if (changes.length === 0) return []
  for (const [i, change] of changes.entries()) {
    if (change.old_status !== start) continue
    const rest = chainOf(change.new_status, [...changes.slice(0, i), ...changes.slice(i + 1)])
    if (rest) return [change, ...rest]
  }
  return null
}

describe('deals: list', () => {
  async function seed() {
    const org = await organizationWithRoles(app)
    const owner = as(app, org.owner, org.organizationId)
    const [c1, c2] = [
      await createContact(app, org.owner, org.organizationId),
      await createContact(app, org.owner, org.organizationId),
    ]
    const specs = [
      {
        key: 'alpha',
        by: org.member,
        title: 'Alpha deal',
        amount: 100,
        contact: c1,
        status: 'won',
        stage: 'closed',
      },
      {
        key: 'beta',
        by: org.owner,
        title: 'Beta 100%',
        amount: '99.99',
        contact: c2,
        status: 'won',
        stage: 'negotiation',
      },
      {
        key: 'gamma',
        by: org.manager,
        title: 'gamma_deal',
        amount: 250,
        contact: c1,
        status: 'in_progress',
        stage: 'proposal',
      },
      {
        key: 'delta',
        by: org.member,
        title: 'Delta',
        amount: 0,
        contact: c2,
        status: 'new',
        stage: 'qualification',
      },
      {
        key: 'epsilon',
        by: org.owner,
        title: 'Epsilon',
        amount: 5000,
        contact: c1,
        status: 'lost',
        stage: 'proposal',
      },
      {
        key: 'zeta',
        by: org.admin,
        title: 'zeta',
        amount: '100.00',
        contact: c2,
        status: 'won',
        stage: 'closed',
      },
    ] as const
    const deals: Record<string, { id: string }> = {}
    for (const { key, by, title, amount, contact, status, stage } of specs) {
      const deal = await createDeal(app, by, org.organizationId, { title, amount, contact_id: contact.id })
      if (status !== 'new') {
        const patched = await owner.patch(`/deals/${deal.id}`, { status, stage })
        assert.equal(patched.statusCode, 200, patched.body)
      }
      deals[key] = deal
    }
    const keyOf = new Map(Object.entries(deals).map(([key, deal]) => [deal.id, key]))
    const keys = async (query: string) => {
      const response = await as(app, org.member, org.organizationId).get(`/deals?${query}`)
      assert.equal(response.statusCode, 200, `${query}: ${response.body}`)
      return response.json().items.map((deal: { id: string }) => keyOf.get(deal.id))
    }
    return { org, c1, c2, deals, keys }
  }

  it('lists newest first by default and pages with total and pages', async () => {
    const { keys, org } = await seed()
    assert.deepEqual(await keys(''), ['zeta', 'epsilon', 'delta', 'gamma', 'beta', 'alpha'])
    assert.deepEqual(await keys('page=2&page_size=4'), ['beta', 'alpha'])
    assert.deepEqual(await keys('page=3&page_size=4'), [])
    const body = (await as(app, org.owner, org.organizationId).get('/deals?page=3&page_size=4')).json()
    assert.equal(body.total, 6)
    assert.equal(body.pages, 2)
  })

  it('filters by repeatable status and stage, owner and contact', async () => {
    const { keys, org, c1 } = await seed()
    assert.deepEqual(await keys('status=won'), ['zeta', 'beta', 'alpha'])
    assert.deepEqual(await keys('status=won&status=lost'), ['zeta', 'epsilon', 'beta', 'alpha'])
    assert.deepEqual(await keys('stage=proposal'), ['epsilon', 'gamma'])
    assert.deepEqual(await keys('stage=proposal&stage=qualification&status=lost'), ['epsilon'])
    assert.deepEqual(await keys(`owner_id=${org.member.id}`), ['delta', 'alpha'])
    assert.deepEqual(await keys(`contact_id=${c1.id}`), ['epsilon', 'gamma', 'alpha'])
    assert.deepEqual(await keys(`contact_id=${c1.id}&owner_id=${org.admin.id}`), [])
  })

  it('filters by an inclusive amount range', async () => {
    const { keys } = await seed()
    assert.deepEqual(await keys('min_amount=100'), ['zeta', 'epsilon', 'gamma', 'alpha'])
    assert.deepEqual(await keys('max_amount=100'), ['zeta', 'delta', 'beta', 'alpha'])
    assert.deepEqual(await keys('min_amount=100.00&max_amount=100'), ['zeta', 'alpha'])
    assert.deepEqual(await keys('min_amount=99.99&max_amount=99.99'), ['beta'])
    assert.deepEqual(await keys('min_amount=0&max_amount=0'), ['delta'])
    assert.deepEqual(await keys('min_amount=5000.01'), [])
    assert.deepEqual(await keys('min_amount=300&max_amount=200'), [])
  })

  it('searches titles case-insensitively with % and _ literal', async () => {
    const { keys } = await seed()
    assert.deepEqual(await keys('search=ALPHA'), ['alpha'])
    assert.deepEqual(await keys('search=ta'), ['zeta', 'delta', 'beta'])
    assert.deepEqual(await keys(`search=${encodeURIComponent('%')}`), ['beta'])
    assert.deepEqual(await keys(`search=${encodeURIComponent('0%')}`), ['beta'])
    // "a_d" as a pattern would also match "Alpha deal" ("a d"); literally only "gamma_deal" contains it.
    assert.deepEqual(await keys('search=a_d'), ['gamma'])
    assert.deepEqual(await keys('search=_'), ['gamma'])
  })

  it('sorts by amount, title, created_at and updated_at, ties broken by id', async () => {
    const { keys, deals, org } = await seed()
    const tied = [deals.alpha?.id, deals.zeta?.id].sort() // both 100.00
    const tiedAsc = tied.map((id) => (id === deals.alpha?.id ? 'alpha' : 'zeta'))
    assert.deepEqual(await keys('order_by=amount&order=asc'), [
      'delta',
      'beta',
      ...tiedAsc,
      'gamma',
      'epsilon',
    ])
    assert.deepEqual(await keys('order_by=amount&order=desc'), [
      'epsilon',
      'gamma',
      ...[...tiedAsc].reverse(),
      'beta',
      'delta',
    ])
    // The benchmarked query.
    const won = await as(app, org.owner, org.organizationId).get(
      '/deals?status=won&min_amount=100&order_by=amount&order=desc&page_size=20',
    )
    assert.equal(won.json().total, 2)
    assert.deepEqual(
      await keys('status=won&min_amount=100&order_by=amount&order=desc&page_size=20'),
      [...tiedAsc].reverse(),
    )
    assert.deepEqual(await keys('order_by=title&order=asc'), [
      'alpha',
      'beta',
      'delta',
      'epsilon',
      'gamma',
      'zeta',
    ])
    assert.deepEqual(await keys('order_by=created_at&order=asc'), [
      'alpha',
      'beta',
      'gamma',
      'delta',
      'epsilon',
      'zeta',
    ])
    await as(app, org.owner, org.organizationId).patch(`/deals/${deals.beta?.id}`, {
      title: 'Beta 100% (edited)',
    })
    const byUpdate = await keys('order_by=updated_at&order=desc')
    assert.equal(byUpdate[0], 'beta')
    assert.equal(byUpdate.length, 6)
  })
})

describe('deals: roles', () => {
  for (const role of WRITE_ROLES) {
    const allowed = writesAll(role)
    describe(`as ${role}`, () => {
      it("creates a deal, on anyone's contact, and becomes its owner", async () => {
        const org = await organizationWithRoles(app)
        const contact = await createContact(app, otherUser(org, role), org.organizationId)
        const response = await as(app, org[role], org.organizationId).post('/deals', {
          contact_id: contact.id,
          title: 'Mine',
          owner_id: org[role].id,
        })
        assert.equal(response.statusCode, 201)
        assert.equal(response.json().owner_id, org[role].id)
      })

      it(`${allowed ? 'may' : 'may not'} create a deal for another member`, async () => {
        const org = await organizationWithRoles(app)
        const other = otherUser(org, role)
        const contact = await createContact(app, org[role], org.organizationId)
        const response = await as(app, org[role], org.organizationId).post('/deals', {
          contact_id: contact.id,
          title: 'For someone else',
          owner_id: other.id,
        })
        if (allowed) {
          assert.equal(response.statusCode, 201)
          assert.equal(response.json().owner_id, other.id)
        } else {
          expectProblem(response, 403, 'FORBIDDEN')
        }
        const list = await as(app, org.owner, org.organizationId).get(`/deals?contact_id=${contact.id}`)
        assert.equal(list.json().total, allowed ? 1 : 0)
      })

      it('updates and deletes its own deal', async () => {
        const org = await organizationWithRoles(app)
        const api = as(app, org[role], org.organizationId)
        const deal = await createDeal(app, org[role], org.organizationId)
        const updated = await api.patch(`/deals/${deal.id}`, {
          title: 'Renamed',
          amount: 20,
          status: 'won',
          stage: 'closed',
          owner_id: org[role].id,
        })
        assert.equal(updated.statusCode, 200)
        assert.equal(updated.json().status, 'won')
        assert.equal((await api.delete(`/deals/${deal.id}`)).statusCode, 204)
        expectProblem(await api.get(`/deals/${deal.id}`), 404, 'DEAL_NOT_FOUND')
      })

      ownedRecordRoleSuite(() => app, role, {
        name: 'deal',
        path: '/deals',
        create: createDeal,
        createBody: (existing, ownerId) => ({
          contact_id: existing.contact_id,
          title: 'X',
          owner_id: ownerId,
        }),
        othersRecord: {
          fields: { amount: 5 },
          // A rollback-free stage move, so only ownership decides.
          change: { title: 'Changed', status: 'won', stage: 'proposal' },
          changedField: 'title',
          // The update writes its stage and status activities only when it is allowed.
          check: async (org, deal, allowed) => {
            const history = await activitiesOf(org.organizationId, deal.id)
            if (allowed) assert.equal(history.length, 2)
            else assert.deepEqual(history, [])
          },
        },
      })
    })
  }

  it('lets every role read every deal', async () => {
    const org = await organizationWithRoles(app)
    const deals = []
    for (const role of WRITE_ROLES) deals.push(await createDeal(app, org[role], org.organizationId))
    for (const role of WRITE_ROLES) {
      const api = as(app, org[role], org.organizationId)
      const list = await api.get('/deals?order_by=created_at&order=asc')
      assert.equal(list.statusCode, 200)
      assert.deepEqual(list.json().items, deals)
      for (const deal of deals) assert.deepEqual((await api.get(`/deals/${deal.id}`)).json(), deal)
    }
    const outsider = as(app, org.outsider, org.organizationId)
    expectProblem(await outsider.get('/deals'), 403, 'ORGANIZATION_ACCESS_DENIED')
    expectProblem(await outsider.get(`/deals/${deals[0].id}`), 403, 'ORGANIZATION_ACCESS_DENIED')
  })

  it('checks in order: 404 deal, 403 ownership, 403 rollback, 400 amount, 404 contact', async () => {
    const org = await organizationWithRoles(app)
    const member = as(app, org.member, org.organizationId)
    const manager = as(app, org.manager, org.organizationId)
    const everything = { stage: 'qualification', status: 'won', amount: 0, contact_id: missingId() }
    expectProblem(await member.patch(`/deals/${missingId()}`, everything), 404, 'DEAL_NOT_FOUND')
    expectProblem(await member.delete(`/deals/${missingId()}`), 404, 'DEAL_NOT_FOUND')
    const theirs = await createDeal(app, org.owner, org.organizationId)
    await as(app, org.owner, org.organizationId).patch(`/deals/${theirs.id}`, { stage: 'closed' })
    expectProblem(await member.patch(`/deals/${theirs.id}`, everything), 403, 'FORBIDDEN')
    expectProblem(await manager.patch(`/deals/${theirs.id}`, everything), 403, 'STAGE_ROLLBACK_FORBIDDEN')
    const { stage: _stage, ...noRollback } = everything
    expectProblem(await manager.patch(`/deals/${theirs.id}`, noRollback), 400, 'INVALID_DEAL_AMOUNT')
    expectProblem(
      await manager.patch(`/deals/${theirs.id}`, { ...noRollback, amount: 1 }),
      404,
      'CONTACT_NOT_FOUND',
    )
  })
})

describe('deals: tenant isolation', () => {
  async function twoOrganizations() {
    const org = await organizationWithRoles(app)
    const stranger = await register(app, { name: 'Stranger' })
    const foreignContact = await createContact(app, stranger, stranger.organizationId)
    const foreign = await createDeal(app, stranger, stranger.organizationId, {
      contact_id: foreignContact.id,
      title: 'Foreign zqx',
      amount: 10,
    })
    return { org, stranger, foreign, foreignContact }
  }

  for (const role of WRITE_ROLES) {
    it(`answers foreign deal and contact ids like missing ones and changes nothing (as ${role})`, async () => {
      const { org, stranger, foreign, foreignContact } = await twoOrganizations()
      const api = as(app, org[role], org.organizationId)
      const own = await createDeal(app, org[role], org.organizationId)
      const missing = missingId()
      const pairs = [
        [await api.get(`/deals/${foreign.id}`), await api.get(`/deals/${missing}`), 'DEAL_NOT_FOUND'],
        [
          await api.patch(`/deals/${foreign.id}`, { status: 'won', stage: 'closed' }),
          await api.patch(`/deals/${missing}`, { status: 'won', stage: 'closed' }),
          'DEAL_NOT_FOUND',
        ],
        [await api.delete(`/deals/${foreign.id}`), await api.delete(`/deals/${missing}`), 'DEAL_NOT_FOUND'],
        [
          await api.post('/deals', { contact_id: foreignContact.id, title: 'X' }),
          await api.post('/deals', { contact_id: missing, title: 'X' }),
          'CONTACT_NOT_FOUND',
        ],
        [
          await api.patch(`/deals/${own.id}`, { contact_id: foreignContact.id }),
          await api.patch(`/deals/${own.id}`, { contact_id: missing }),
          'CONTACT_NOT_FOUND',
        ],
      ] as const
      for (const [foreignResponse, missingResponse, code] of pairs) {
        expectProblem(foreignResponse, 404, code)
        assertSameProblem(foreignResponse, missingResponse)
      }
      const strangerApi = as(app, stranger, stranger.organizationId)
      assert.deepEqual((await strangerApi.get(`/deals/${foreign.id}`)).json(), foreign)
      assert.deepEqual(await activitiesOf(stranger.organizationId, foreign.id), [])
      assert.equal((await strangerApi.get('/deals')).json().total, 1)
      assert.deepEqual((await api.get(`/deals/${own.id}`)).json(), own)
      assert.equal((await api.get('/deals')).json().total, 1)
    })
  }

  it('refuses a user of another organization as owner_id, like an unknown user', async () => {
    const { org, stranger } = await twoOrganizations()
    const api = as(app, org.owner, org.organizationId)
    const deal = await createDeal(app, org.owner, org.organizationId)
    const created = await api.post('/deals', {
      contact_id: deal.contact_id,
      title: 'X',
      owner_id: stranger.id,
    })
    expectProblem(created, 400, 'OWNER_NOT_MEMBER')
    assertSameProblem(
      created,
      await api.post('/deals', { contact_id: deal.contact_id, title: 'X', owner_id: missingId() }),
    )
    assertSameProblem(
      await api.patch(`/deals/${deal.id}`, { owner_id: stranger.id }),
      await api.patch(`/deals/${deal.id}`, { owner_id: missingId() }),
    )
    assert.deepEqual((await api.get(`/deals/${deal.id}`)).json(), deal)
  })

  it('never lists foreign deals', async () => {
    const { org, stranger, foreignContact } = await twoOrganizations()
    const own = await createDeal(app, org.owner, org.organizationId, { title: 'Own zqx' })
    const api = as(app, org.owner, org.organizationId)
    const searched = (await api.get('/deals?search=zqx')).json()
    assert.deepEqual(
      searched.items.map((d: { id: string }) => d.id),
      [own.id],
    )
    assert.equal(searched.total, 1)
    for (const query of [`owner_id=${stranger.id}`, `contact_id=${foreignContact.id}`, 'min_amount=10']) {
      const response = (await api.get(`/deals?${query}`)).json()
      assert.deepEqual([response.items, response.total], [[], 0], query)
    }
  })
})

describe('deals: bad input is 400 VALIDATION_ERROR', () => {
  it('rejects bad list queries', async () => {
    const org = await organizationWithRoles(app)
    const api = as(app, org.owner, org.organizationId)
    const queries = [
      'page=0',
      'page=x',
      'page_size=0',
      'page_size=101',
      'page_size=-5',
      'status=closed',
      'status=won&status=bogus',
      'status=',
      'stage=won',
      'owner_id=x',
      'contact_id=123',
      'min_amount=1.234',
      'min_amount=10000000000000',
      'min_amount=-1',
      'min_amount=abc',
      'min_amount=1e3',
      'max_amount=0.001',
      'max_amount=',
      'min_amount=1&min_amount=2',
      'order_by=status',
      'order_by=amount desc',
      'order=random',
      `search=${'x'.repeat(256)}`,
      'foo=bar',
    ]
    for (const query of queries) assertValidationError(await api.get(`/deals?${query}`), query)
  })

  it('rejects malformed ids in paths', async () => {
    const org = await organizationWithRoles(app)
    const api = as(app, org.owner, org.organizationId)
    for (const id of ['not-a-uuid', '1', `${missingId()}0`]) {
      assertValidationError(await api.get(`/deals/${id}`), `GET ${id}`)
      assertValidationError(await api.patch(`/deals/${id}`, { title: 'X' }), `PATCH ${id}`)
      assertValidationError(await api.delete(`/deals/${id}`), `DELETE ${id}`)
    }
  })

  it('rejects bad create bodies and creates nothing', async () => {
    const org = await organizationWithRoles(app)
    const api = as(app, org.owner, org.organizationId)
    const contact = await createContact(app, org.owner, org.organizationId)
    const ok = { contact_id: contact.id, title: 'Deal' }
    const bodies: unknown[] = [
      {},
      { title: 'No contact' },
      { ...ok, contact_id: 'x' },
      { ...ok, contact_id: null },
      { ...ok, title: '' },
      { ...ok, title: null },
      { ...ok, title: 'x'.repeat(256) },
      { ...ok, amount: 1.234 },
      { ...ok, amount: '1.234' },
      { ...ok, amount: 1e13 },
      { ...ok, amount: '10000000000000' },
      { ...ok, amount: '10000000000000.00' },
      { ...ok, amount: -1 },
      { ...ok, amount: '-0.01' },
      { ...ok, amount: null },
      { ...ok, amount: true },
      { ...ok, amount: '' },
      { ...ok, amount: '1e3' },
      { ...ok, currency: 'US' },
      { ...ok, currency: 'USDX' },
      { ...ok, currency: 'U5D' },
      { ...ok, currency: null },
      { ...ok, owner_id: null },
      { ...ok, owner_id: 'x' },
      // v1.1 (spec §12, "Create (changed)"): status and stage are accepted on create, but not bad values.
      { ...ok, status: 'closed' },
      { ...ok, stage: 'won' },
      { ...ok, organization_id: missingId() },
      { ...ok, id: missingId() },
      [],
    ]
    for (const body of bodies) assertValidationError(await api.post('/deals', body), JSON.stringify(body))
    assert.equal((await api.get('/deals')).json().total, 0)
  })

  it('rejects bad update bodies and leaves the deal unchanged', async () => {
    const org = await organizationWithRoles(app)
    const api = as(app, org.owner, org.organizationId)
    const deal = await createDeal(app, org.owner, org.organizationId, { amount: 5 })
    const bodies: unknown[] = [
      { title: null },
      { title: '' },
      { amount: null },
      { amount: '5.001' },
      { amount: 5.001 },
      { amount: 1e13 },
      { amount: '9999999999999.999' },
      { currency: null },
      { currency: 'eu' },
      { status: null },
      { status: 'closed' },
      { status: 'WON' },
      { stage: null },
      { stage: 'won' },
      { contact_id: null },
      { contact_id: 'x' },
      { owner_id: null },
      { owner_id: 'x' },
      { organization_id: missingId() },
      { created_at: '2020-01-01T00:00:00.000Z' },
      { title: 'Ok', extra: 1 },
      [],
    ]
    for (const body of bodies) {
      assertValidationError(await api.patch(`/deals/${deal.id}`, body), JSON.stringify(body))
    }
    assert.deepEqual((await api.get(`/deals/${deal.id}`)).json(), deal)
    assert.deepEqual(await activitiesOf(org.organizationId, deal.id), [])
  })

  it('rejects malformed JSON', async () => {
    const org = await organizationWithRoles(app)
    const deal = await createDeal(app, org.owner, org.organizationId)
    for (const [method, url] of [
      ['POST', '/deals'],
      ['PATCH', `/deals/${deal.id}`],
    ] as const) {
      for (const payload of [...NOT_AN_OBJECT, '"won"']) {
        const response = await sendJson(app, org.owner, org.organizationId, method, `${API}${url}`, payload)
        assertValidationError(response, `${method} ${payload}`)
      }
    }
  })
})
