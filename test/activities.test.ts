import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { and, eq } from 'drizzle-orm'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { activities } from '../src/db/schema.js'
import { uuidv7 } from '../src/lib/uuid.js'
import {
  API,
  addMember,
  as,
  auth,
  buildTestApp,
  createDeal,
  expectProblem,
  organizationWithRoles,
  register,
  type TestUser,
} from './helpers.js'
import { NOT_AN_OBJECT, sendJson } from './json-bodies.js'
import { problemWithoutRequestId } from './record-helpers.js'

let app: FastifyInstance
before(async () => {
  app = await buildTestApp()
})
after(() => app.close())

const ACTIVITY_KEYS = ['author', 'author_id', 'created_at', 'deal_id', 'id', 'payload', 'type']

type Activity = {
  id: string
  deal_id: string
  author_id: string | null
  author: { id: string; name: string; email: string } | null
  type: string
  payload: Record<string, unknown>
  created_at: string
}

async function comment(user: TestUser, organizationId: string, dealId: string, text: string) {
  const response = await as(app, user, organizationId).post(`/deals/${dealId}/activities`, {
    type: 'comment',
    payload: { text },
  })
  assert.equal(response.statusCode, 201, response.body)
  return response.json() as Activity
}

async function feed(user: TestUser, organizationId: string, dealId: string, query = 'page_size=100') {
  const response = await as(app, user, organizationId).get(`/deals/${dealId}/activities?${query}`)
  assert.equal(response.statusCode, 200, response.body)
  return response.json() as {
    items: Activity[]
    total: number
    page: number
    page_size: number
    pages: number
  }
}

async function storedCount(organizationId: string, dealId: string) {
  const rows = await app.db.db
    .select({ id: activities.id })
    .from(activities)
    .where(and(eq(activities.organizationId, organizationId), eq(activities.dealId, dealId)))
  return rows.length
}

describe('POST /deals/{deal_id}/activities', () => {
  it('writes a comment by the caller and answers 201 with the feed item', async () => {
    const { organizationId, owner, member } = await organizationWithRoles(app)
    const deal = await createDeal(app, owner, organizationId)
    const response = await as(app, member, organizationId).post(`/deals/${deal.id}/activities`, {
      type: 'comment',
      payload: { text: 'Client asked for a discount' },
    })
    assert.equal(response.statusCode, 201, response.body)
    const item = response.json()
    assert.deepEqual(Object.keys(item).sort(), ACTIVITY_KEYS)
    assert.equal(item.deal_id, deal.id)
    assert.equal(item.author_id, member.id)
    assert.deepEqual(item.author, { id: member.id, name: member.name, email: member.email })
    assert.equal(item.type, 'comment')
    assert.deepEqual(item.payload, { text: 'Client asked for a discount' })
    assert.ok(!Number.isNaN(Date.parse(item.created_at)))
    assert.deepEqual((await feed(owner, organizationId, deal.id)).items, [item])
  })

  it('takes "comment" as the default type', async () => {
    const { organizationId, owner } = await organizationWithRoles(app)
    const deal = await createDeal(app, owner, organizationId)
    const response = await as(app, owner, organizationId).post(`/deals/${deal.id}/activities`, {
      payload: { text: 'no type given' },
    })
    assert.equal(response.statusCode, 201, response.body)
    assert.equal(response.json().type, 'comment')
  })

  it('accepts text of 1 and 10000 characters, counting characters rather than UTF-16 units', async () => {
    const { organizationId, owner } = await organizationWithRoles(app)
    const deal = await createDeal(app, owner, organizationId)
    for (const text of ['x', 'x'.repeat(10_000), '😀'.repeat(10_000), ' ']) {
      assert.equal((await comment(owner, organizationId, deal.id, text)).payload.text, text)
    }
    expectProblem(
      await as(app, owner, organizationId).post(`/deals/${deal.id}/activities`, {
        payload: { text: '😀'.repeat(10_001) },
      }),
      400,
      'VALIDATION_ERROR',
    )
  })

  it('lets every role comment on any deal, its own or not; a non-member gets 403', async () => {
    const org = await organizationWithRoles(app)
    const ownersDeal = await createDeal(app, org.owner, org.organizationId)
    const membersDeal = await createDeal(app, org.member, org.organizationId)
    for (const role of ['owner', 'admin', 'manager', 'member'] as const) {
      for (const deal of [ownersDeal, membersDeal]) {
        const item = await comment(org[role], org.organizationId, deal.id, `${role} was here`)
        assert.equal(item.author_id, org[role].id)
      }
    }
    expectProblem(
      await as(app, org.outsider, org.organizationId).post(`/deals/${ownersDeal.id}/activities`, {
        payload: { text: 'let me in' },
      }),
      403,
      'ORGANIZATION_ACCESS_DENIED',
    )
    assert.equal(await storedCount(org.organizationId, ownersDeal.id), 4)
    assert.equal(await storedCount(org.organizationId, membersDeal.id), 4)
  })

  it('answers 404 DEAL_NOT_FOUND for a deal that does not exist', async () => {
    const { organizationId, owner } = await organizationWithRoles(app)
    expectProblem(
      await as(app, owner, organizationId).post(`/deals/${randomUUID()}/activities`, {
        payload: { text: 'x' },
      }),
      404,
      'DEAL_NOT_FOUND',
    )
  })
})

describe('GET /deals/{deal_id}/activities', () => {
  it('lists newest first, ties broken by id descending, and pages through them', async () => {
    const { organizationId, owner } = await organizationWithRoles(app)
    const deal = await createDeal(app, owner, organizationId)
    const otherDeal = await createDeal(app, owner, organizationId)
    // Creation times set in the database: three activities share one instant, as changes in one transaction do.
    const at = (second: number) => new Date(Date.UTC(2030, 0, 1, 0, 0, second))
    const seeded = [
      { second: 1, text: 'oldest' },
      { second: 5, text: 'tie 1' },
      { second: 5, text: 'tie 2' },
      { second: 5, text: 'tie 3' },
      { second: 9, text: 'newest' },
      { second: 3, text: 'middle' },
    ].map(({ second, text }) => ({
      organizationId,
      id: uuidv7(),
      dealId: deal.id,
      authorId: owner.id,
      type: 'comment' as const,
      payload: { text },
      createdAt: at(second),
    }))
    await app.db.db.insert(activities).values(seeded)
    await comment(owner, organizationId, otherDeal.id, 'elsewhere')

    const ties = seeded.filter((a) => a.createdAt.getTime() === at(5).getTime()).map((a) => a.id)
    const expected = [seeded[4]?.id, ...ties.sort().reverse(), seeded[5]?.id, seeded[0]?.id]
    const all = await feed(owner, organizationId, deal.id)
    assert.deepEqual(
      all.items.map((a) => a.id),
      expected,
    )
    assert.equal(all.total, 6)
    assert.equal(all.items[0]?.created_at, '2030-01-01T00:00:09.000Z')

    const paged: string[] = []
    for (const page of [1, 2, 3]) {
      const body = await feed(owner, organizationId, deal.id, `page=${page}&page_size=4`)
      assert.equal(body.total, 6)
      assert.equal(body.pages, 2)
      assert.equal(body.page, page)
      assert.equal(body.page_size, 4)
      paged.push(...body.items.map((a) => a.id))
      if (page === 3) assert.deepEqual(body.items, [])
    }
    assert.deepEqual(paged, expected)
    const defaults = await feed(owner, organizationId, deal.id, '')
    assert.equal(defaults.page, 1)
    assert.equal(defaults.page_size, 20)
  })

  it('shows the activities written by task changes, newest first', async () => {
    const { organizationId, owner } = await organizationWithRoles(app)
    const deal = await createDeal(app, owner, organizationId)
    const api = as(app, owner, organizationId)
    const task = (await api.post('/tasks', { deal_id: deal.id, title: 'Call' })).json()
    await api.patch(`/tasks/${task.id}`, { is_done: true })
    await comment(owner, organizationId, deal.id, 'done')
    const items = (await feed(owner, organizationId, deal.id)).items
    const byType = Object.fromEntries(items.map((a) => [a.type, a]))
    assert.deepEqual(byType.task_created?.payload, { task_id: task.id, task_title: 'Call' })
    assert.deepEqual(byType.task_completed?.payload, { task_id: task.id, task_title: 'Call' })
    assert.equal(items.length, 3)
    const sorted = [...items].sort((a, b) =>
      a.created_at === b.created_at ? b.id.localeCompare(a.id) : b.created_at.localeCompare(a.created_at),
    )
    assert.deepEqual(items, sorted)
  })

  it('gives author null when the author no longer exists', async () => {
    const { organizationId, owner } = await organizationWithRoles(app)
    const deal = await createDeal(app, owner, organizationId)
    await app.db.db.insert(activities).values({
      organizationId,
      id: uuidv7(),
      dealId: deal.id,
      authorId: null,
      type: 'status_changed',
      payload: { old_status: 'new', new_status: 'in_progress' },
    })
    const [item] = (await feed(owner, organizationId, deal.id)).items.filter(
      (a) => a.type === 'status_changed',
    )
    assert.equal(item?.author_id, null)
    assert.equal(item?.author, null)
    assert.deepEqual(item?.payload, { old_status: 'new', new_status: 'in_progress' })
  })

  it('is readable by every role; a non-member gets 403 ORGANIZATION_ACCESS_DENIED', async () => {
    const org = await organizationWithRoles(app)
    const deal = await createDeal(app, org.member, org.organizationId)
    const item = await comment(org.member, org.organizationId, deal.id, 'mine')
    for (const role of ['owner', 'admin', 'manager', 'member'] as const) {
      assert.deepEqual((await feed(org[role], org.organizationId, deal.id)).items, [item])
    }
    expectProblem(
      await as(app, org.outsider, org.organizationId).get(`/deals/${deal.id}/activities`),
      403,
      'ORGANIZATION_ACCESS_DENIED',
    )
    expectProblem(
      await app.inject({
        method: 'GET',
        url: `${API}/deals/${deal.id}/activities`,
        headers: { 'x-organization-id': org.organizationId },
      }),
      401,
      'UNAUTHORIZED',
    )
    expectProblem(
      await app.inject({
        method: 'GET',
        url: `${API}/deals/${deal.id}/activities`,
        headers: auth(org.owner),
      }),
      400,
      'ORGANIZATION_HEADER_REQUIRED',
    )
  })

  it('answers 404 DEAL_NOT_FOUND for a deal that does not exist', async () => {
    const { organizationId, owner } = await organizationWithRoles(app)
    expectProblem(
      await as(app, owner, organizationId).get(`/deals/${randomUUID()}/activities`),
      404,
      'DEAL_NOT_FOUND',
    )
  })
})

describe('tenant isolation', () => {
  it('answers a foreign deal exactly like a missing one, on reading and commenting, and writes nothing', async () => {
    const home = await organizationWithRoles(app)
    const foreign = await register(app, { name: 'Foreign owner' })
    const foreignDeal = await createDeal(app, foreign, foreign.organizationId)
    const foreignComment = await comment(foreign, foreign.organizationId, foreignDeal.id, 'secret')
    // The home owner belongs to both organizations: only the X-Organization-Id header separates them.
    await addMember(app, foreign, foreign.organizationId, home.owner, 'manager')
    for (const user of [home.owner, home.member]) {
      const api = as(app, user, home.organizationId)
      const missing = randomUUID()
      const pairs: [LightMyRequestResponse, LightMyRequestResponse][] = [
        [await api.get(`/deals/${foreignDeal.id}/activities`), await api.get(`/deals/${missing}/activities`)],
        [
          await api.post(`/deals/${foreignDeal.id}/activities`, { payload: { text: 'planted' } }),
          await api.post(`/deals/${missing}/activities`, { payload: { text: 'planted' } }),
        ],
      ]
      for (const [foreignResponse, missingResponse] of pairs) {
        expectProblem(foreignResponse, 404, 'DEAL_NOT_FOUND')
        expectProblem(missingResponse, 404, 'DEAL_NOT_FOUND')
        assert.deepEqual(problemWithoutRequestId(foreignResponse), problemWithoutRequestId(missingResponse))
      }
    }
    assert.deepEqual((await feed(foreign, foreign.organizationId, foreignDeal.id)).items, [foreignComment])
    assert.deepEqual((await feed(home.owner, foreign.organizationId, foreignDeal.id)).items, [foreignComment])
  })
})

describe('bad input is 400 VALIDATION_ERROR, never 5xx', () => {
  it('POST /deals/{deal_id}/activities', async () => {
    const { organizationId, owner } = await organizationWithRoles(app)
    const deal = await createDeal(app, owner, organizationId)
    const api = as(app, owner, organizationId)
    const bodies: unknown[] = [
      {},
      { type: 'comment' },
      { type: 'comment', payload: null },
      { type: 'comment', payload: 'text' },
      { type: 'comment', payload: {} },
      { type: 'comment', payload: { text: null } },
      { type: 'comment', payload: { text: 5 } },
      { type: 'comment', payload: { text: '' } },
      { type: 'comment', payload: { text: 'x'.repeat(10_001) } },
      { type: 'comment', payload: { text: 'x', extra: 1 } },
      ...['status_changed', 'stage_changed', 'task_created', 'task_completed', 'note', '', null, 1].map(
        (type) => ({ type, payload: { text: 'x' } }),
      ),
      { payload: { text: 'x' }, author_id: owner.id },
      { payload: { text: 'x' }, deal_id: deal.id },
      { payload: { text: 'x' }, created_at: new Date().toISOString() },
    ]
    for (const body of bodies) {
      expectProblem(await api.post(`/deals/${deal.id}/activities`, body), 400, 'VALIDATION_ERROR')
    }
    expectProblem(
      await api.post('/deals/not-a-uuid/activities', { payload: { text: 'x' } }),
      400,
      'VALIDATION_ERROR',
    )
    for (const text of NOT_AN_OBJECT) {
      expectProblem(
        await sendJson(app, owner, organizationId, 'POST', `${API}/deals/${deal.id}/activities`, text),
        400,
        'VALIDATION_ERROR',
      )
    }
    assert.equal(await storedCount(organizationId, deal.id), 0)
  })

  it('GET /deals/{deal_id}/activities', async () => {
    const { organizationId, owner } = await organizationWithRoles(app)
    const deal = await createDeal(app, owner, organizationId)
    const api = as(app, owner, organizationId)
    expectProblem(await api.get('/deals/not-a-uuid/activities'), 400, 'VALIDATION_ERROR')
    for (const query of [
      'page=0',
      'page=-1',
      'page=x',
      'page_size=0',
      'page_size=101',
      'type=comment',
      'x=1',
    ]) {
      expectProblem(await api.get(`/deals/${deal.id}/activities?${query}`), 400, 'VALIDATION_ERROR')
    }
    // Offset paging stops at 10,000 rows (page × page_size); further pages are read by cursor.
    for (const query of ['page=1000000', 'page=501', 'page=101&page_size=100']) {
      expectProblem(await api.get(`/deals/${deal.id}/activities?${query}`), 400, 'VALIDATION_ERROR')
    }
    for (const query of ['page=500', 'page=100&page_size=100', 'page_size=1', 'page_size=100']) {
      assert.equal((await api.get(`/deals/${deal.id}/activities?${query}`)).statusCode, 200, query)
    }
  })
})
