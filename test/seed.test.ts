import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { seedDemo, signInInstructions } from '../src/seed/demo.js'
import { API, buildTestApp } from './helpers.js'

describe('npm run seed (src/seed/demo.ts) on the test database', () => {
  let app: FastifyInstance
  before(async () => {
    app = await buildTestApp()
  })
  after(() => app.close())

  it('fills a demo organization through the API, prints a working sign-in, and writes nothing when re-run', async () => {
    const email = `owner-${randomUUID()}@seed.example.test`
    const seeded = await seedDemo(app, { email })
    assert.equal(seeded.created, true)

    // The printed credentials work.
    const login = await app.inject({
      method: 'POST',
      url: `${API}/auth/login`,
      payload: { email, password: seeded.password },
    })
    assert.equal(login.statusCode, 200, login.body)
    const headers = {
      authorization: `Bearer ${login.json().access_token}`,
      'x-organization-id': seeded.organizationId,
    }
    const get = async (url: string) => {
      const response = await app.inject({ method: 'GET', url: `${API}${url}`, headers })
      assert.equal(response.statusCode, 200, `${url}: ${response.body}`)
      return response.json()
    }
    const members = await get(`/organizations/${seeded.organizationId}/members`)
    assert.deepEqual(members.map((m: { role: string }) => m.role).sort(), [
      'admin',
      'manager',
      'member',
      'owner',
    ])
    assert.equal((await get('/contacts?page_size=100')).total, seeded.counts.contacts)
    const deals = (await get('/deals?page_size=100')).items as { id: string; status: string; stage: string }[]
    assert.equal(deals.length, seeded.counts.deals)
    assert.deepEqual(
      new Set(deals.map((deal) => deal.status)),
      new Set(['new', 'in_progress', 'won', 'lost']),
    )
    assert.deepEqual(
      new Set(deals.map((deal) => deal.stage)),
      new Set(['qualification', 'proposal', 'negotiation', 'closed']),
    )
    assert.equal((await get('/tasks?page_size=100')).total, seeded.counts.tasks)
    const summary = await get('/analytics/deals/summary')
    assert.ok(JSON.stringify(summary).includes('won'))
    // Stage and status changes went through the deal operations: the feed shows them, with the comments.
    const withComments = deals.find((deal) => deal.stage === 'negotiation' && deal.status === 'in_progress')
    const feed = await get(`/deals/${withComments?.id}/activities?page_size=100`)
    const types = new Set(feed.items.map((activity: { type: string }) => activity.type))
    for (const type of ['stage_changed', 'comment', 'task_created']) assert.ok(types.has(type), type)

    const again = await seedDemo(app, { email })
    assert.equal(again.created, false)
    assert.equal(again.organizationId, seeded.organizationId)
    assert.equal(
      (await get('/contacts?page_size=100')).total,
      seeded.counts.contacts,
      'nothing written twice',
    )
    const printed = signInInstructions(again, 'http://localhost:8000')
    assert.ok(
      printed.includes(email) && printed.includes(seeded.password) && printed.includes(seeded.organizationId),
    )
  })
})
