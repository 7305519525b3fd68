/** The outbox (spec §16): every change of the catalogue records its event in the change's transaction. */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { asc, eq } from 'drizzle-orm'
import type { FastifyInstance } from 'fastify'
import { events } from '../src/db/schema.js'
import { addMember, as, buildTestApp, createContact, createDeal, expectProblem, register } from './helpers.js'

let app: FastifyInstance
before(async () => {
  app = await buildTestApp()
})
after(() => app.close())

async function eventsOf(organizationId: string) {
  const rows = await app.db.db
    .select()
    .from(events)
    .where(eq(events.organizationId, organizationId))
    .orderBy(asc(events.createdAt), asc(events.id))
  return rows.map((row) => ({
    type: row.type,
    data: row.data as Record<string, unknown>,
    previous: row.previous,
  }))
}

/** The events recorded by `action`, past those already there (e.g. member.added of the registration). */
async function recorded(organizationId: string, action: () => Promise<unknown>) {
  const before = (await eventsOf(organizationId)).length
  await action()
  return (await eventsOf(organizationId)).slice(before)
}

describe('events of record writes', () => {
  it('contacts: created, updated with exactly the changed fields, deleted with the last state', async () => {
    const owner = await register(app)
    const client = as(app, owner, owner.organizationId)
    let contact: Record<string, unknown> = {}
    const [created] = await recorded(owner.organizationId, async () => {
      contact = (await client.post('/contacts', { name: 'Ada', email: 'ada@example.com' })).json()
    })
    assert.deepEqual(created, { type: 'contact.created', data: contact, previous: null })
    let patched: Record<string, unknown> = {}
    const [updated] = await recorded(owner.organizationId, async () => {
      patched = (
        await client.patch(`/contacts/${contact.id}`, { name: 'Ada L.', email: 'ada@example.com' })
      ).json()
    })
    assert.deepEqual(updated, {
      type: 'contact.updated',
      data: patched,
      previous: { name: 'Ada', updated_at: contact.updated_at },
    })
    const [deleted] = await recorded(owner.organizationId, () => client.delete(`/contacts/${contact.id}`))
    assert.deepEqual(deleted, { type: 'contact.deleted', data: patched, previous: null })
  })

  it('deals: the one-statement PATCH records deal.updated with the old status', async () => {
    const owner = await register(app)
    const client = as(app, owner, owner.organizationId)
    const deal = await createDeal(app, owner, owner.organizationId, { amount: 100 })
    const [updated] = await recorded(owner.organizationId, async () => {
      const response = await client.patch(`/deals/${deal.id}`, { status: 'won', title: deal.title })
      assert.equal(response.statusCode, 200)
      return response
    })
    const current = (await client.get(`/deals/${deal.id}`)).json()
    assert.equal(updated?.type, 'deal.updated')
    assert.deepEqual(updated?.data, current)
    // Winning also moves the derived and database-decided fields (spec §12): their old values are listed too.
    assert.deepEqual(updated?.previous, {
      status: 'new',
      updated_at: deal.updated_at,
      closed_at: deal.closed_at,
      probability: deal.probability,
      weighted_amount: deal.weighted_amount,
    })
    const [deleted] = await recorded(owner.organizationId, () => client.delete(`/deals/${deal.id}`))
    assert.deepEqual(deleted, { type: 'deal.deleted', data: current, previous: null })
  })

  it('tasks and comments', async () => {
    const owner = await register(app)
    const client = as(app, owner, owner.organizationId)
    const deal = await createDeal(app, owner, owner.organizationId)
    let task: Record<string, unknown> = {}
    const createdTask = await recorded(owner.organizationId, async () => {
      task = (await client.post('/tasks', { deal_id: deal.id, title: 'Call' })).json()
    })
    assert.deepEqual(createdTask, [{ type: 'task.created', data: task, previous: null }])
    const updatedTask = await recorded(owner.organizationId, () =>
      client.patch(`/tasks/${task.id}`, { is_done: true }),
    )
    assert.equal(updatedTask[0]?.type, 'task.updated')
    assert.deepEqual(updatedTask[0]?.previous, { is_done: false, updated_at: task.updated_at })
    const deletedTask = await recorded(owner.organizationId, () => client.delete(`/tasks/${task.id}`))
    assert.equal(deletedTask[0]?.type, 'task.deleted')
    let comment: Record<string, unknown> = {}
    const [commented] = await recorded(owner.organizationId, async () => {
      comment = (
        await client.post(`/deals/${deal.id}/activities`, { type: 'comment', payload: { text: 'Hi' } })
      ).json()
    })
    assert.deepEqual(commented, { type: 'comment.created', data: comment, previous: null })
  })

  it('members: added, updated, removed', async () => {
    const owner = await register(app)
    const other = await register(app)
    const added = await recorded(owner.organizationId, () =>
      addMember(app, owner, owner.organizationId, other, 'member'),
    )
    assert.equal(added.length, 1)
    assert.equal(added[0]?.type, 'member.added')
    assert.equal(added[0]?.data.user_id, other.id)
    assert.equal(added[0]?.data.email, other.email)
    assert.equal(added[0]?.data.role, 'member')
    const changed = await recorded(owner.organizationId, () =>
      as(app, owner).patch(`/organizations/${owner.organizationId}/members/${other.id}`, { role: 'manager' }),
    )
    assert.equal(changed[0]?.type, 'member.updated')
    assert.equal(changed[0]?.data.role, 'manager')
    assert.deepEqual(changed[0]?.previous, { role: 'member' })
    const removed = await recorded(owner.organizationId, () =>
      as(app, owner).delete(`/organizations/${owner.organizationId}/members/${other.id}`),
    )
    assert.equal(removed[0]?.type, 'member.removed')
    assert.equal(removed[0]?.data.role, 'manager')
  })

  it('no event for a refused, failed or empty write', async () => {
    const owner = await register(app)
    const client = as(app, owner, owner.organizationId)
    const deal = await createDeal(app, owner, owner.organizationId)
    const none = await recorded(owner.organizationId, async () => {
      expectProblem(
        await client.patch(`/deals/${deal.id}`, { status: 'won', amount: 0 }),
        400,
        'INVALID_DEAL_AMOUNT',
      )
      // The DELETE runs and fails on the foreign key: its transaction (with its event) rolls back.
      expectProblem(await client.delete(`/contacts/${deal.contact_id}`), 409, 'CONTACT_HAS_DEALS')
      const unchanged = await client.patch(`/deals/${deal.id}`, {})
      assert.equal(unchanged.statusCode, 200)
      expectProblem(
        await client.post('/deals', { title: 'x', contact_id: deal.id }),
        404,
        'CONTACT_NOT_FOUND',
      )
    })
    assert.deepEqual(none, [])
  })

  it('events stay in their organization', async () => {
    const [a, b] = await Promise.all([register(app), register(app)])
    await createContact(app, a, a.organizationId, { name: 'Only in A' })
    const inB = await eventsOf(b.organizationId)
    assert.ok(inB.every((event) => event.data.organization_id !== a.organizationId))
    assert.ok(!JSON.stringify(inB).includes('Only in A'))
  })
})
