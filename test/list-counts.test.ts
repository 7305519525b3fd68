import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { sql } from 'drizzle-orm'
import type { FastifyInstance } from 'fastify'
import { queryRows } from '../src/db/client.js'
import {
  API,
  as,
  auth,
  buildTestApp,
  createContact,
  createDeal,
  organizationWithRoles,
  register,
  type TestUser,
} from './helpers.js'

let app: FastifyInstance
before(async () => {
  app = await buildTestApp()
})
after(() => app.close())

/** The counters against count(*) for every list of the organization. */
async function assertCountersExact(organizationId: string, label: string) {
  const rows = await queryRows<{ list: string; counted: number; kept: number }>(
    app.db.db,
    sql`SELECT l.list, l.counted, coalesce((SELECT sum(total) FROM list_counts c
          WHERE c.organization_id = ${organizationId}::uuid AND c.list = l.list), 0)::int AS kept
        FROM (SELECT 'contacts' AS list, (SELECT count(*) FROM contacts WHERE organization_id = ${organizationId}::uuid)::int AS counted
              UNION ALL SELECT 'deals', (SELECT count(*) FROM deals WHERE organization_id = ${organizationId}::uuid)::int
              UNION ALL SELECT 'tasks', (SELECT count(*) FROM tasks WHERE organization_id = ${organizationId}::uuid)::int) l`,
  )
  for (const row of rows) assert.equal(row.kept, row.counted, `${label}: ${row.list}`)
}

/** Every list's `total`, unfiltered and filtered, against the rows the list really walks. */
async function assertTotalsExact(user: TestUser, organizationId: string, label: string) {
  const api = as(app, user, organizationId)
  for (const path of [
    '/contacts',
    '/contacts?search=a',
    '/deals',
    '/deals?status=won',
    '/deals?status=new&min_amount=5',
    '/tasks',
    '/tasks?only_open=true',
  ]) {
    const separator = path.includes('?') ? '&' : '?'
    const first = (await api.get(`${path}${separator}page_size=100`)).json()
    const counted = (await api.get(`${path}${separator}page_size=100&count=false`)).json()
    assert.equal(counted.total, null)
    assert.equal(counted.pages, null)
    assert.equal(first.total, first.items.length, `${label}: ${path}`)
    assert.equal(first.pages, Math.ceil(first.items.length / 100), `${label}: ${path}`)
    // A page past the end has no row to carry the total with it: the total is read alone, and still exact.
    const beyond = (await api.get(`${path}${separator}page_size=100&page=2`)).json()
    assert.deepEqual(beyond.items, [], `${label}: ${path} page 2`)
    assert.equal(beyond.total, first.total, `${label}: ${path} page 2`)
    if (first.items.length > 0) {
      const single = (await api.get(`${path}${separator}page_size=1`)).json()
      assert.equal(single.total, first.total, `${label}: ${path} page_size=1`)
    }
  }
}

describe('list totals', () => {
  it('stay exact after every kind of write, cascades and imports included', async () => {
    const { organizationId, owner, manager } = await organizationWithRoles(app)
    const other = await register(app)
    const api = as(app, owner, organizationId)
    const check = async (label: string) => {
      await assertCountersExact(organizationId, label)
      await assertCountersExact(other.organizationId, `${label} (other organization)`)
      await assertTotalsExact(owner, organizationId, label)
    }
    await check('empty')
    const contact = await createContact(app, owner, organizationId, { name: 'Ann' })
    await createContact(app, other, other.organizationId, { name: 'Theirs' })
    await check('contact created')
    const deal = await createDeal(app, owner, organizationId, { contact_id: contact.id, amount: 10 })
    await createDeal(app, manager, organizationId, { amount: 3 })
    await check('deals created')
    assert.equal((await api.patch(`/deals/${deal.id}`, { status: 'won' })).statusCode, 200)
    await check('deal won (a filtered count changes, the total does not)')
    assert.equal((await api.patch(`/deals/${deal.id}`, { amount: 4 })).statusCode, 200)
    await check('amount below a filter bound')
    const task = (await api.post('/tasks', { deal_id: deal.id, title: 'Call' })).json()
    await api.post('/tasks', { deal_id: deal.id, title: 'Mail' })
    await check('tasks created')
    assert.equal((await api.patch(`/tasks/${task.id}`, { is_done: true })).statusCode, 200)
    await check('task done')
    assert.equal((await api.delete(`/tasks/${task.id}`)).statusCode, 204)
    await check('task deleted')
    assert.equal((await api.delete(`/deals/${deal.id}`)).statusCode, 204)
    await check('deal deleted with its tasks (cascade)')
    assert.equal((await api.delete(`/contacts/${contact.id}`)).statusCode, 204)
    await check('contact deleted')
    const imported = await app.inject({
      method: 'POST',
      url: `${API}/contacts/import`,
      headers: { ...auth(owner, organizationId), 'content-type': 'text/csv' },
      payload: 'name,email\nAnna,anna@example.com\nBob,bob@example.com\n',
    })
    assert.equal(imported.json().created, 2)
    await check('contacts imported')
    // Concurrent writers land on different counter shards; the sums stay exact.
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        as(app, owner, organizationId).post('/contacts', { name: `Par ${i}` }),
      ),
    )
    await check('parallel creates')
  })

  it('go with their organization when it is deleted', async () => {
    const owner = await register(app)
    await createDeal(app, owner, owner.organizationId)
    const [before] = await queryRows<{ n: number }>(
      app.db.db,
      sql`SELECT count(*)::int AS n FROM list_counts WHERE organization_id = ${owner.organizationId}::uuid`,
    )
    assert.ok((before?.n ?? 0) >= 2)
    await app.db.db.transaction(async (tx) => {
      await tx.execute(sql`DELETE FROM activities WHERE organization_id = ${owner.organizationId}::uuid`)
      await tx.execute(sql`DELETE FROM tasks WHERE organization_id = ${owner.organizationId}::uuid`)
      await tx.execute(sql`DELETE FROM deals WHERE organization_id = ${owner.organizationId}::uuid`)
      await tx.execute(sql`DELETE FROM contacts WHERE organization_id = ${owner.organizationId}::uuid`)
      await tx.execute(sql`DELETE FROM organizations WHERE id = ${owner.organizationId}::uuid`)
    })
    const [afterwards] = await queryRows<{ n: number }>(
      app.db.db,
      sql`SELECT count(*)::int AS n FROM list_counts WHERE organization_id = ${owner.organizationId}::uuid`,
    )
    assert.equal(afterwards?.n, 0)
  })
})
