import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { and, eq, sql } from 'drizzle-orm'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { activities, tasks } from '../src/db/schema.js'
import { addDays, todayUtc } from '../src/lib/dates.js'
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

// The server decides "today" with the same UTC clock; a run that straddles midnight UTC could see one day shift.
const today = todayUtc()
const yesterday = addDays(today, -1)
const inDays = (days: number) => addDays(today, days)

const TASK_KEYS = [
  'created_at',
  'deal_id',
  'description',
  'due_date',
  'id',
  'is_done',
  'organization_id',
  'title',
  'updated_at',
]

type Task = {
  id: string
  deal_id: string
  title: string
  description: string | null
  due_date: string | null
  is_done: boolean
  created_at: string
  updated_at: string
}
type Activity = { id: string; type: string; author_id: string | null; payload: Record<string, unknown> }

async function createTask(user: TestUser, organizationId: string, fields: Record<string, unknown>) {
  const response = await as(app, user, organizationId).post('/tasks', { title: 'Task', ...fields })
  assert.equal(response.statusCode, 201, response.body)
  return response.json() as Task
}

async function getTask(user: TestUser, organizationId: string, id: string) {
  const response = await as(app, user, organizationId).get(`/tasks/${id}`)
  assert.equal(response.statusCode, 200, response.body)
  return response.json() as Task
}

/** Every activity of a deal, read straight from the database (also works once the deal is gone). */
async function activitiesOf(organizationId: string, dealId: string, type?: string) {
  const rows = await app.db.db
    .select()
    .from(activities)
    .where(
      and(
        eq(activities.organizationId, organizationId),
        eq(activities.dealId, dealId),
        type === undefined ? undefined : eq(activities.type, type as 'comment'),
      ),
    )
  return rows
}

async function feed(user: TestUser, organizationId: string, dealId: string) {
  const response = await as(app, user, organizationId).get(`/deals/${dealId}/activities?page_size=100`)
  assert.equal(response.statusCode, 200, response.body)
  return response.json().items as Activity[]
}

async function listIds(user: TestUser, organizationId: string, query: string) {
  const response = await as(app, user, organizationId).get(`/tasks?page_size=100&${query}`)
  assert.equal(response.statusCode, 200, response.body)
  return (response.json().items as Task[]).map((t) => t.id)
}

describe('POST /tasks', () => {
  it('creates a task and a task_created activity by the caller in the same deal', async () => {
    const { organizationId, owner } = await organizationWithRoles(app)
    const deal = await createDeal(app, owner, organizationId)
    const response = await as(app, owner, organizationId).post('/tasks', {
      deal_id: deal.id,
      title: 'Send proposal',
      description: 'PDF with prices',
      due_date: inDays(3),
    })
    assert.equal(response.statusCode, 201, response.body)
    const task = response.json()
    assert.deepEqual(Object.keys(task).sort(), TASK_KEYS)
    assert.equal(task.organization_id, organizationId)
    assert.equal(task.deal_id, deal.id)
    assert.equal(task.title, 'Send proposal')
    assert.equal(task.description, 'PDF with prices')
    assert.equal(task.due_date, inDays(3))
    assert.equal(task.is_done, false)
    assert.equal(task.created_at, task.updated_at)
    assert.deepEqual(await getTask(owner, organizationId, task.id), task)

    const items = await feed(owner, organizationId, deal.id)
    const created = items.filter((a) => a.type === 'task_created')
    assert.equal(created.length, 1)
    assert.equal(created[0]?.author_id, owner.id)
    assert.deepEqual(created[0]?.payload, { task_id: task.id, task_title: 'Send proposal' })
  })

  it('defaults description and due_date to null and accepts explicit nulls', async () => {
    const { organizationId, owner } = await organizationWithRoles(app)
    const deal = await createDeal(app, owner, organizationId)
    const bare = await createTask(owner, organizationId, { deal_id: deal.id })
    assert.equal(bare.description, null)
    assert.equal(bare.due_date, null)
    const nulls = await createTask(owner, organizationId, {
      deal_id: deal.id,
      description: null,
      due_date: null,
    })
    assert.equal(nulls.description, null)
    assert.equal(nulls.due_date, null)
  })

  it('refuses a due date before today (UTC) with 400 INVALID_DUE_DATE and writes nothing', async () => {
    const { organizationId, owner } = await organizationWithRoles(app)
    const deal = await createDeal(app, owner, organizationId)
    for (const past of [yesterday, addDays(today, -400), '0001-01-01']) {
      expectProblem(
        await as(app, owner, organizationId).post('/tasks', {
          deal_id: deal.id,
          title: 'Late',
          due_date: past,
        }),
        400,
        'INVALID_DUE_DATE',
      )
    }
    assert.deepEqual(await listIds(owner, organizationId, `deal_id=${deal.id}`), [])
    assert.equal((await activitiesOf(organizationId, deal.id, 'task_created')).length, 0)
  })

  it('accepts today and later as due dates', async () => {
    const { organizationId, owner } = await organizationWithRoles(app)
    const deal = await createDeal(app, owner, organizationId)
    assert.equal(
      (await createTask(owner, organizationId, { deal_id: deal.id, due_date: today })).due_date,
      today,
    )
    assert.equal(
      (await createTask(owner, organizationId, { deal_id: deal.id, due_date: '9999-12-31' })).due_date,
      '9999-12-31',
    )
  })

  it('answers 404 DEAL_NOT_FOUND for a deal that does not exist', async () => {
    const { organizationId, owner } = await organizationWithRoles(app)
    expectProblem(
      await as(app, owner, organizationId).post('/tasks', { deal_id: randomUUID(), title: 'x' }),
      404,
      'DEAL_NOT_FOUND',
    )
  })

  it('checks the deal before the due date: 404 for a missing deal even with a past due date', async () => {
    const { organizationId, owner, member } = await organizationWithRoles(app)
    expectProblem(
      await as(app, owner, organizationId).post('/tasks', {
        deal_id: randomUUID(),
        title: 'x',
        due_date: yesterday,
      }),
      404,
      'DEAL_NOT_FOUND',
    )
    const othersDeal = await createDeal(app, owner, organizationId)
    expectProblem(
      await as(app, member, organizationId).post('/tasks', {
        deal_id: othersDeal.id,
        title: 'x',
        due_date: yesterday,
      }),
      403,
      'FORBIDDEN',
    )
  })
})

describe('task permissions (role × action)', () => {
  const roles = ['owner', 'admin', 'manager', 'member'] as const
  for (const role of roles) {
    for (const whose of ['own', "someone else's"] as const) {
      const allowed = role !== 'member' || whose === 'own'
      it(`${role} on ${whose} deal: create, edit, delete ${allowed ? 'allowed' : '403 FORBIDDEN'}`, async () => {
        const org = await organizationWithRoles(app)
        const actor = org[role]
        const dealOwner = whose === 'own' ? actor : role === 'member' ? org.manager : org.member
        const deal = await createDeal(app, dealOwner, org.organizationId)
        // A task someone else wrote on the deal: permission follows the deal's owner, not the task's author.
        const existing = await createTask(org.owner, org.organizationId, {
          deal_id: deal.id,
          title: 'Existing',
        })
        const api = as(app, actor, org.organizationId)

        const created = await api.post('/tasks', { deal_id: deal.id, title: 'New', due_date: today })
        const edited = await api.patch(`/tasks/${existing.id}`, { title: 'Edited', is_done: true })
        if (allowed) {
          assert.equal(created.statusCode, 201, created.body)
          assert.equal(edited.statusCode, 200, edited.body)
          assert.equal(edited.json().title, 'Edited')
          const deleted = await api.delete(`/tasks/${existing.id}`)
          assert.equal(deleted.statusCode, 204, deleted.body)
          assert.equal(deleted.body, '')
          expectProblem(await api.get(`/tasks/${existing.id}`), 404, 'TASK_NOT_FOUND')
          assert.deepEqual(await listIds(org.owner, org.organizationId, `deal_id=${deal.id}`), [
            created.json().id,
          ])
        } else {
          expectProblem(created, 403, 'FORBIDDEN')
          expectProblem(edited, 403, 'FORBIDDEN')
          expectProblem(await api.delete(`/tasks/${existing.id}`), 403, 'FORBIDDEN')
          // Nothing changed: the one task is still there, untouched, and no activity beyond its creation.
          assert.deepEqual(await getTask(org.owner, org.organizationId, existing.id), existing)
          assert.deepEqual(await listIds(org.owner, org.organizationId, `deal_id=${deal.id}`), [existing.id])
          const written = await activitiesOf(org.organizationId, deal.id)
          assert.deepEqual(
            written.map((a) => a.type),
            ['task_created'],
          )
        }
      })
    }
  }

  it('every role reads the list and single tasks; a non-member gets 403 ORGANIZATION_ACCESS_DENIED', async () => {
    const org = await organizationWithRoles(app)
    const deal = await createDeal(app, org.member, org.organizationId)
    const task = await createTask(org.member, org.organizationId, { deal_id: deal.id })
    for (const role of roles) {
      const api = as(app, org[role], org.organizationId)
      const list = await api.get('/tasks')
      assert.equal(list.statusCode, 200, `${role}: ${list.body}`)
      assert.deepEqual(
        list.json().items.map((t: Task) => t.id),
        [task.id],
      )
      const one = await api.get(`/tasks/${task.id}`)
      assert.equal(one.statusCode, 200, `${role}: ${one.body}`)
      assert.deepEqual(one.json(), task)
    }
    const outsider = as(app, org.outsider, org.organizationId)
    expectProblem(await outsider.get('/tasks'), 403, 'ORGANIZATION_ACCESS_DENIED')
    expectProblem(await outsider.get(`/tasks/${task.id}`), 403, 'ORGANIZATION_ACCESS_DENIED')
    expectProblem(
      await outsider.post('/tasks', { deal_id: deal.id, title: 'x' }),
      403,
      'ORGANIZATION_ACCESS_DENIED',
    )
    expectProblem(
      await outsider.patch(`/tasks/${task.id}`, { title: 'x' }),
      403,
      'ORGANIZATION_ACCESS_DENIED',
    )
    expectProblem(await outsider.delete(`/tasks/${task.id}`), 403, 'ORGANIZATION_ACCESS_DENIED')
    assert.deepEqual(await getTask(org.owner, org.organizationId, task.id), task)
  })

  it('answers 401 without a token and 400 without the organization header', async () => {
    const org = await organizationWithRoles(app)
    expectProblem(
      await app.inject({
        method: 'GET',
        url: `${API}/tasks`,
        headers: { 'x-organization-id': org.organizationId },
      }),
      401,
      'UNAUTHORIZED',
    )
    expectProblem(
      await app.inject({ method: 'GET', url: `${API}/tasks`, headers: auth(org.owner) }),
      400,
      'ORGANIZATION_HEADER_REQUIRED',
    )
  })
})

describe('PATCH /tasks/{id}', () => {
  it('changes the given fields, clears nullable ones with null and bumps updated_at', async () => {
    const { organizationId, owner } = await organizationWithRoles(app)
    const deal = await createDeal(app, owner, organizationId)
    const created = await createTask(owner, organizationId, {
      deal_id: deal.id,
      title: 'Call',
      description: 'about budget',
      due_date: inDays(5),
    })
    // Backdated, so the change's new updated_at is later whatever the clock resolution.
    await app.db.db
      .update(tasks)
      .set({ updatedAt: new Date('2020-01-01T00:00:00.000Z') })
      .where(eq(tasks.id, created.id))
    const task = await getTask(owner, organizationId, created.id)
    const api = as(app, owner, organizationId)
    const renamed = await api.patch(`/tasks/${task.id}`, { title: 'Call back', due_date: inDays(7) })
    assert.equal(renamed.statusCode, 200, renamed.body)
    const body = renamed.json() as Task
    assert.deepEqual(
      { ...body, updated_at: task.updated_at },
      { ...task, title: 'Call back', due_date: inDays(7) },
    )
    assert.ok(body.updated_at > task.updated_at, body.updated_at)
    const cleared = await api.patch(`/tasks/${task.id}`, { description: null, due_date: null })
    assert.equal(cleared.statusCode, 200, cleared.body)
    assert.equal(cleared.json().description, null)
    assert.equal(cleared.json().due_date, null)
    assert.equal(cleared.json().title, 'Call back')
    assert.deepEqual(await getTask(owner, organizationId, task.id), cleared.json())
  })

  it('answers an empty or no-op patch with the unchanged task (updated_at kept, no activity)', async () => {
    const { organizationId, owner } = await organizationWithRoles(app)
    const deal = await createDeal(app, owner, organizationId)
    const task = await createTask(owner, organizationId, { deal_id: deal.id, due_date: today })
    const api = as(app, owner, organizationId)
    for (const body of [{}, { title: task.title, is_done: false, due_date: today, description: null }]) {
      const response = await api.patch(`/tasks/${task.id}`, body)
      assert.equal(response.statusCode, 200, response.body)
      assert.deepEqual(response.json(), task)
    }
    assert.equal((await activitiesOf(organizationId, deal.id)).length, 1)
  })

  it('checks a changed due date: past 400 INVALID_DUE_DATE (task unchanged), today 200', async () => {
    const { organizationId, owner } = await organizationWithRoles(app)
    const deal = await createDeal(app, owner, organizationId)
    const task = await createTask(owner, organizationId, { deal_id: deal.id, due_date: inDays(2) })
    const api = as(app, owner, organizationId)
    expectProblem(
      await api.patch(`/tasks/${task.id}`, { title: 'ignored', due_date: yesterday }),
      400,
      'INVALID_DUE_DATE',
    )
    assert.deepEqual(await getTask(owner, organizationId, task.id), task)
    const moved = await api.patch(`/tasks/${task.id}`, { due_date: today })
    assert.equal(moved.statusCode, 200, moved.body)
    assert.equal(moved.json().due_date, today)
  })

  it('accepts an overdue task re-sending its unchanged due date, but not a move to another past date', async () => {
    const { organizationId, owner } = await organizationWithRoles(app)
    const deal = await createDeal(app, owner, organizationId)
    const task = await createTask(owner, organizationId, { deal_id: deal.id, due_date: today })
    // Time passes: the task becomes overdue (set in the database, as no request may write a past date).
    const overdue = addDays(today, -3)
    await app.db.db.update(tasks).set({ dueDate: overdue }).where(eq(tasks.id, task.id))
    const api = as(app, owner, organizationId)
    const resent = await api.patch(`/tasks/${task.id}`, { title: 'Still to do', due_date: overdue })
    assert.equal(resent.statusCode, 200, resent.body)
    assert.equal(resent.json().due_date, overdue)
    assert.equal(resent.json().title, 'Still to do')
    expectProblem(await api.patch(`/tasks/${task.id}`, { due_date: yesterday }), 400, 'INVALID_DUE_DATE')
    expectProblem(
      await api.patch(`/tasks/${task.id}`, { due_date: addDays(overdue, -1) }),
      400,
      'INVALID_DUE_DATE',
    )
    assert.equal((await getTask(owner, organizationId, task.id)).due_date, overdue)
  })

  it('writes task_completed on every open → done transition, and only then', async () => {
    const { organizationId, owner, manager } = await organizationWithRoles(app)
    const deal = await createDeal(app, owner, organizationId)
    const task = await createTask(owner, organizationId, { deal_id: deal.id, title: 'Draft' })
    const api = as(app, manager, organizationId)
    const completions = async () => await activitiesOf(organizationId, deal.id, 'task_completed')

    // Completed together with a rename: the activity carries the title the task now has.
    const done = await api.patch(`/tasks/${task.id}`, { is_done: true, title: 'Final' })
    assert.equal(done.statusCode, 200, done.body)
    assert.equal(done.json().is_done, true)
    let written = await completions()
    assert.equal(written.length, 1)
    assert.deepEqual(written[0]?.payload, { task_id: task.id, task_title: 'Final' })
    assert.equal(written[0]?.authorId, manager.id)

    // Re-completing a done task, or any other change to it, writes nothing.
    assert.equal((await api.patch(`/tasks/${task.id}`, { is_done: true })).statusCode, 200)
    assert.equal((await api.patch(`/tasks/${task.id}`, { description: 'x' })).statusCode, 200)
    assert.equal((await completions()).length, 1)

    // Reopening writes nothing; completing again is a new completion and is recorded.
    const reopened = await api.patch(`/tasks/${task.id}`, { is_done: false })
    assert.equal(reopened.json().is_done, false)
    assert.equal((await completions()).length, 1)
    assert.equal((await api.patch(`/tasks/${task.id}`, { is_done: true })).statusCode, 200)
    written = await completions()
    assert.equal(written.length, 2)
    assert.ok(written.every((a) => a.payload && (a.payload as { task_id: string }).task_id === task.id))

    // The public feed shows the same: one task_created, two task_completed.
    const types = (await feed(owner, organizationId, deal.id)).map((a) => a.type).sort()
    assert.deepEqual(types, ['task_completed', 'task_completed', 'task_created'])
  })

  it('writes exactly one task_completed when several completions race', async () => {
    const { organizationId, owner, admin, manager } = await organizationWithRoles(app)
    const deal = await createDeal(app, owner, organizationId)
    const task = await createTask(owner, organizationId, { deal_id: deal.id })
    const callers = [owner, admin, manager, owner, admin, manager]
    const responses = await Promise.all(
      callers.map((user) => as(app, user, organizationId).patch(`/tasks/${task.id}`, { is_done: true })),
    )
    for (const response of responses) {
      assert.equal(response.statusCode, 200, response.body)
      assert.equal(response.json().is_done, true)
    }
    assert.equal((await activitiesOf(organizationId, deal.id, 'task_completed')).length, 1)
  })

  it('answers 404 TASK_NOT_FOUND for a task that does not exist', async () => {
    const { organizationId, owner } = await organizationWithRoles(app)
    expectProblem(
      await as(app, owner, organizationId).patch(`/tasks/${randomUUID()}`, { title: 'x' }),
      404,
      'TASK_NOT_FOUND',
    )
  })
})

describe('DELETE /tasks/{id}', () => {
  it('deletes the task (204); a second delete is 404; the feed keeps its history', async () => {
    const { organizationId, owner } = await organizationWithRoles(app)
    const deal = await createDeal(app, owner, organizationId)
    const task = await createTask(owner, organizationId, { deal_id: deal.id })
    const other = await createTask(owner, organizationId, { deal_id: deal.id })
    const api = as(app, owner, organizationId)
    const deleted = await api.delete(`/tasks/${task.id}`)
    assert.equal(deleted.statusCode, 204)
    assert.equal(deleted.body, '')
    expectProblem(await api.get(`/tasks/${task.id}`), 404, 'TASK_NOT_FOUND')
    expectProblem(await api.delete(`/tasks/${task.id}`), 404, 'TASK_NOT_FOUND')
    expectProblem(await api.patch(`/tasks/${task.id}`, { is_done: true }), 404, 'TASK_NOT_FOUND')
    assert.deepEqual(await listIds(owner, organizationId, ''), [other.id])
    assert.equal((await activitiesOf(organizationId, deal.id, 'task_created')).length, 2)
  })

  it('parallel deletes of one task give one 204 and 404 for the rest', async () => {
    const { organizationId, owner } = await organizationWithRoles(app)
    const deal = await createDeal(app, owner, organizationId)
    const task = await createTask(owner, organizationId, { deal_id: deal.id })
    const responses = await Promise.all(
      [1, 2, 3, 4].map(() => as(app, owner, organizationId).delete(`/tasks/${task.id}`)),
    )
    const statuses = responses.map((r) => r.statusCode).sort()
    assert.deepEqual(statuses, [204, 404, 404, 404])
  })
})

describe('GET /tasks', () => {
  /**
   * Seven tasks on two deals with controlled due dates and creation times (set in the database, so ties are
   * exact): the expected order is due_date ascending with undated last, then created_at, then id.
   */
  async function seed() {
    const org = await organizationWithRoles(app)
    const { organizationId, owner } = org
    const dealA = await createDeal(app, owner, organizationId)
    const dealB = await createDeal(app, owner, organizationId)
    const specs = [
      { name: 'a5', deal: dealA.id, due: inDays(5), created: '2030-01-01T00:00:01.000Z' },
      { name: 'a1', deal: dealA.id, due: inDays(1), created: '2030-01-01T00:00:05.000Z' },
      { name: 'aNull', deal: dealA.id, due: null, created: '2030-01-01T00:00:00.000Z' },
      { name: 'a1early', deal: dealA.id, due: inDays(1), created: '2030-01-01T00:00:02.000Z' },
      { name: 'a3done', deal: dealA.id, due: inDays(3), created: '2030-01-01T00:00:03.000Z', done: true },
      { name: 'b2', deal: dealB.id, due: inDays(2), created: '2030-01-01T00:00:04.000Z' },
      { name: 'bNull', deal: dealB.id, due: null, created: '2030-01-01T00:00:00.000Z' },
    ]
    const ids: Record<string, string> = {}
    for (const spec of specs) {
      const task = await createTask(owner, organizationId, {
        deal_id: spec.deal,
        title: spec.name,
        due_date: spec.due,
      })
      if (spec.done) await as(app, owner, organizationId).patch(`/tasks/${task.id}`, { is_done: true })
      await app.db.db
        .update(tasks)
        .set({ createdAt: new Date(spec.created) })
        .where(eq(tasks.id, task.id))
      ids[spec.name] = task.id
    }
    // The two undated tasks share created_at: their order falls to the id.
    const undated = [ids.aNull, ids.bNull].sort() as string[]
    return { ...org, dealA, dealB, ids, undated }
  }

  it('orders by due date ascending (undated last), then created_at, then id', async () => {
    const { organizationId, owner, ids, undated } = await seed()
    assert.deepEqual(await listIds(owner, organizationId, ''), [
      ids.a1early,
      ids.a1,
      ids.b2,
      ids.a3done,
      ids.a5,
      ...undated,
    ])
  })

  it('filters by deal, openness and inclusive due-date bounds; undated tasks never match a due filter', async () => {
    const { organizationId, owner, dealA, dealB, ids, undated } = await seed()
    const list = (query: string) => listIds(owner, organizationId, query)
    assert.deepEqual(await list(`deal_id=${dealB.id}`), [ids.b2, ids.bNull])
    assert.deepEqual(await list('only_open=true'), [ids.a1early, ids.a1, ids.b2, ids.a5, ...undated])
    assert.deepEqual(await list('only_open=false'), await list(''))
    assert.deepEqual(await list(`due_before=${inDays(2)}`), [ids.a1early, ids.a1, ids.b2])
    assert.deepEqual(await list(`due_after=${inDays(3)}`), [ids.a3done, ids.a5])
    assert.deepEqual(await list(`due_after=${inDays(1)}&due_before=${inDays(1)}`), [ids.a1early, ids.a1])
    assert.deepEqual(await list(`due_after=${inDays(2)}&due_before=${inDays(5)}&only_open=true`), [
      ids.b2,
      ids.a5,
    ])
    assert.deepEqual(await list(`deal_id=${dealA.id}&only_open=true&due_before=${inDays(3)}`), [
      ids.a1early,
      ids.a1,
    ])
    assert.deepEqual(await list(`due_after=${inDays(6)}`), [])
    assert.deepEqual(await list(`due_after=${inDays(4)}&due_before=${inDays(2)}`), [])
    assert.deepEqual(await list(`deal_id=${randomUUID()}`), [])
  })

  it('pages through the filtered set: total and pages count every match, past the end is empty', async () => {
    const { organizationId, owner } = await seed()
    const api = as(app, owner, organizationId)
    const all = await listIds(owner, organizationId, 'only_open=true')
    assert.equal(all.length, 6)
    const pages: string[] = []
    for (const page of [1, 2, 3]) {
      const response = await api.get(`/tasks?only_open=true&page=${page}&page_size=4`)
      assert.equal(response.statusCode, 200, response.body)
      const body = response.json()
      assert.equal(body.total, 6)
      assert.equal(body.pages, 2)
      assert.equal(body.page, page)
      assert.equal(body.page_size, 4)
      pages.push(...body.items.map((t: Task) => t.id))
      if (page === 3) assert.deepEqual(body.items, [])
    }
    assert.deepEqual(pages, all)
    const defaults = (await api.get('/tasks')).json()
    assert.equal(defaults.page, 1)
    assert.equal(defaults.page_size, 20)
    assert.equal(defaults.total, 7)
    assert.equal(defaults.pages, 1)
    const none = (await api.get(`/tasks?due_after=${inDays(100)}`)).json()
    assert.deepEqual(none, { items: [], total: 0, page: 1, page_size: 20, pages: 0, next_cursor: null })
  })

  it('deal_owner_id keeps only tasks on deals that user owns, and pages through them by cursor', async () => {
    const { organizationId, owner, member } = await organizationWithRoles(app)
    const memberDeal = await createDeal(app, member, organizationId)
    const otherMemberDeal = await createDeal(app, member, organizationId)
    const ownerDeal = await createDeal(app, owner, organizationId)
    const mine = [
      await createTask(member, organizationId, { deal_id: memberDeal.id, title: 'm1', due_date: inDays(1) }),
      await createTask(member, organizationId, {
        deal_id: otherMemberDeal.id,
        title: 'm2',
        due_date: inDays(2),
      }),
      await createTask(member, organizationId, { deal_id: memberDeal.id, title: 'm3', due_date: null }),
    ].map((task) => task.id)
    const others = await createTask(owner, organizationId, { deal_id: ownerDeal.id, due_date: inDays(1) })
    const byMember = `deal_owner_id=${member.id}`

    // Anyone in the organization may ask for anyone's tasks; another owner's deal's task is absent.
    assert.deepEqual(await listIds(owner, organizationId, byMember), mine)
    assert.deepEqual(await listIds(member, organizationId, `deal_owner_id=${owner.id}`), [others.id])
    assert.deepEqual(await listIds(owner, organizationId, `deal_owner_id=${randomUUID()}`), [])
    assert.deepEqual(await listIds(owner, organizationId, `${byMember}&deal_id=${ownerDeal.id}`), [])

    // Cursor paging over the filtered set: two pages, the cursor bound to the filter.
    const api = as(app, owner, organizationId)
    const first = (await api.get(`/tasks?${byMember}&page_size=2`)).json()
    assert.deepEqual(
      first.items.map((t: Task) => t.id),
      mine.slice(0, 2),
    )
    assert.equal(first.total, 3)
    assert.ok(first.next_cursor)
    const cursor = encodeURIComponent(first.next_cursor)
    const second = (await api.get(`/tasks?${byMember}&page_size=2&cursor=${cursor}`)).json()
    assert.deepEqual(
      second.items.map((t: Task) => t.id),
      mine.slice(2),
    )
    assert.equal(second.next_cursor, null)
    const unbound = await api.get(`/tasks?page_size=2&cursor=${cursor}`)
    expectProblem(unbound, 400, 'VALIDATION_ERROR')

    // Handing a deal to someone else moves its tasks out of the filter (and the total follows).
    const moved = await api.patch(`/deals/${otherMemberDeal.id}`, { owner_id: owner.id })
    assert.equal(moved.statusCode, 200, moved.body)
    const afterMove = (await api.get(`/tasks?${byMember}`)).json()
    assert.deepEqual(
      afterMove.items.map((t: Task) => t.id),
      [mine[0], mine[2]],
    )
    assert.equal(afterMove.total, 2)
  })

  it('deal_owner_id must be a UUID', async () => {
    const { organizationId, owner } = await organizationWithRoles(app)
    expectProblem(
      await as(app, owner, organizationId).get(`/tasks?deal_owner_id=me`),
      400,
      'VALIDATION_ERROR',
    )
  })
})

describe('tenant isolation', () => {
  /** A user who is a member of two organizations, with a task on a deal in the other one. */
  async function twoOrganizations() {
    const home = await organizationWithRoles(app)
    const foreign = await register(app, { name: 'Foreign owner' })
    const foreignDeal = await createDeal(app, foreign, foreign.organizationId)
    const foreignTask = await createTask(foreign, foreign.organizationId, {
      deal_id: foreignDeal.id,
      title: 'Foreign',
      due_date: today,
    })
    // The home owner is also an owner there: only the X-Organization-Id header separates the two.
    await addMember(app, foreign, foreign.organizationId, home.owner, 'admin')
    const homeDeal = await createDeal(app, home.owner, home.organizationId)
    const homeTask = await createTask(home.owner, home.organizationId, {
      deal_id: homeDeal.id,
      due_date: today,
    })
    return { ...home, foreign, foreignDeal, foreignTask, homeDeal, homeTask }
  }

  it('answers a foreign task id exactly like a missing one on every task endpoint, and changes nothing', async () => {
    const { organizationId, owner, member, foreign, foreignTask, foreignDeal } = await twoOrganizations()
    for (const user of [owner, member]) {
      const api = as(app, user, organizationId)
      const missing = randomUUID()
      const pairs: [LightMyRequestResponse, LightMyRequestResponse][] = [
        [await api.get(`/tasks/${foreignTask.id}`), await api.get(`/tasks/${missing}`)],
        [
          await api.patch(`/tasks/${foreignTask.id}`, { title: 'Hijacked', is_done: true }),
          await api.patch(`/tasks/${missing}`, { title: 'Hijacked', is_done: true }),
        ],
        [await api.delete(`/tasks/${foreignTask.id}`), await api.delete(`/tasks/${missing}`)],
      ]
      for (const [foreignResponse, missingResponse] of pairs) {
        expectProblem(foreignResponse, 404, 'TASK_NOT_FOUND')
        expectProblem(missingResponse, 404, 'TASK_NOT_FOUND')
        assert.deepEqual(problemWithoutRequestId(foreignResponse), problemWithoutRequestId(missingResponse))
      }
    }
    assert.deepEqual(await getTask(foreign, foreign.organizationId, foreignTask.id), foreignTask)
    assert.deepEqual(
      (await activitiesOf(foreign.organizationId, foreignDeal.id)).map((a) => a.type),
      ['task_created'],
    )
  })

  it('answers a foreign deal_id on POST /tasks exactly like a missing one and writes nothing there', async () => {
    const { organizationId, owner, member, foreign, foreignDeal, foreignTask } = await twoOrganizations()
    for (const user of [owner, member]) {
      const api = as(app, user, organizationId)
      const foreignResponse = await api.post('/tasks', { deal_id: foreignDeal.id, title: 'Planted' })
      const missingResponse = await api.post('/tasks', { deal_id: randomUUID(), title: 'Planted' })
      expectProblem(foreignResponse, 404, 'DEAL_NOT_FOUND')
      expectProblem(missingResponse, 404, 'DEAL_NOT_FOUND')
      assert.deepEqual(problemWithoutRequestId(foreignResponse), problemWithoutRequestId(missingResponse))
    }
    assert.deepEqual(await listIds(foreign, foreign.organizationId, ''), [foreignTask.id])
    assert.equal((await activitiesOf(foreign.organizationId, foreignDeal.id)).length, 1)
  })

  it('never lists foreign tasks, whatever the filters', async () => {
    const { organizationId, owner, foreign, foreignDeal, foreignTask, homeTask } = await twoOrganizations()
    assert.deepEqual(await listIds(owner, organizationId, ''), [homeTask.id])
    assert.deepEqual(await listIds(owner, organizationId, `due_after=${today}&due_before=${today}`), [
      homeTask.id,
    ])
    assert.deepEqual(await listIds(owner, organizationId, `deal_id=${foreignDeal.id}`), [])
    const response = await as(app, owner, organizationId).get(`/tasks?deal_id=${foreignDeal.id}`)
    assert.equal(response.json().total, 0)
    // The same user sees it in the organization it belongs to.
    assert.deepEqual(await listIds(owner, foreign.organizationId, ''), [foreignTask.id])
  })
})

describe('bad input is 400 VALIDATION_ERROR, never 5xx', () => {
  const badDates = [
    '2026-13-01',
    '2026-02-30',
    '20260101',
    '2026-1-01',
    '0000-01-01',
    'tomorrow',
    '',
    20260101,
  ]

  it('POST /tasks', async () => {
    const { organizationId, owner } = await organizationWithRoles(app)
    const deal = await createDeal(app, owner, organizationId)
    const api = as(app, owner, organizationId)
    const valid = { deal_id: deal.id, title: 'ok' }
    const bodies: unknown[] = [
      {},
      { title: 'x' },
      { ...valid, title: null },
      { ...valid, title: '' },
      { ...valid, title: 'x'.repeat(256) },
      { ...valid, title: 5 },
      { deal_id: null, title: 'x' },
      { deal_id: 'not-a-uuid', title: 'x' },
      { deal_id: 42, title: 'x' },
      { ...valid, description: 5 },
      { ...valid, description: 'x'.repeat(10_001) },
      { ...valid, is_done: true },
      { ...valid, organization_id: organizationId },
      { ...valid, id: randomUUID() },
      { ...valid, owner_id: owner.id },
      { ...valid, unknown: 1 },
      ...badDates.map((due_date) => ({ ...valid, due_date })),
    ]
    for (const body of bodies) {
      expectProblem(await api.post('/tasks', body), 400, 'VALIDATION_ERROR')
    }
    for (const text of NOT_AN_OBJECT) {
      expectProblem(
        await sendJson(app, owner, organizationId, 'POST', `${API}/tasks`, text),
        400,
        'VALIDATION_ERROR',
      )
    }
    assert.equal(
      (await createTask(owner, organizationId, { ...valid, title: 'x'.repeat(255) })).title.length,
      255,
    )
    assert.equal((await listIds(owner, organizationId, '')).length, 1)
  })

  it('PATCH /tasks/{id}', async () => {
    const { organizationId, owner } = await organizationWithRoles(app)
    const deal = await createDeal(app, owner, organizationId)
    const task = await createTask(owner, organizationId, { deal_id: deal.id, due_date: today })
    const api = as(app, owner, organizationId)
    const bodies: unknown[] = [
      { title: null },
      { title: '' },
      { title: 'x'.repeat(256) },
      { is_done: null },
      { is_done: 'true' },
      { is_done: 1 },
      { description: 7 },
      { deal_id: deal.id },
      { organization_id: organizationId },
      { updated_at: new Date().toISOString() },
      { unknown: true },
      ...badDates.map((due_date) => ({ due_date })),
    ]
    for (const body of bodies) {
      expectProblem(await api.patch(`/tasks/${task.id}`, body), 400, 'VALIDATION_ERROR')
    }
    expectProblem(await api.patch('/tasks/not-a-uuid', { title: 'x' }), 400, 'VALIDATION_ERROR')
    for (const text of NOT_AN_OBJECT) {
      expectProblem(
        await sendJson(app, owner, organizationId, 'PATCH', `${API}/tasks/${task.id}`, text),
        400,
        'VALIDATION_ERROR',
      )
    }
    assert.deepEqual(await getTask(owner, organizationId, task.id), task)
  })

  it('GET and DELETE with malformed ids', async () => {
    const { organizationId, owner } = await organizationWithRoles(app)
    const api = as(app, owner, organizationId)
    for (const id of ['not-a-uuid', '123', `${randomUUID()}x`]) {
      expectProblem(await api.get(`/tasks/${id}`), 400, 'VALIDATION_ERROR')
      expectProblem(await api.delete(`/tasks/${id}`), 400, 'VALIDATION_ERROR')
    }
  })

  it('GET /tasks query parameters', async () => {
    const { organizationId, owner } = await organizationWithRoles(app)
    const api = as(app, owner, organizationId)
    const queries = [
      'page=0',
      'page=-1',
      'page=x',
      'page=1.5',
      'page=1000001',
      'page_size=0',
      'page_size=101',
      'page_size=abc',
      'only_open=maybe',
      'deal_id=not-a-uuid',
      `owner_id=${owner.id}`,
      'unknown=1',
      ...badDates.map((d) => `due_before=${d}`),
      ...badDates.map((d) => `due_after=${d}`),
    ]
    for (const query of queries) {
      expectProblem(await api.get(`/tasks?${query}`), 400, 'VALIDATION_ERROR')
    }
    // Offset paging stops at 10,000 rows (page × page_size); further pages are read by cursor.
    for (const query of ['page=1000000', 'page=501', 'page=10001&page_size=1']) {
      expectProblem(await api.get(`/tasks?${query}`), 400, 'VALIDATION_ERROR')
    }
    for (const query of [
      'page=500',
      'page=10000&page_size=1',
      'page_size=1',
      'page_size=100',
      `due_before=${today}`,
    ]) {
      assert.equal((await api.get(`/tasks?${query}`)).statusCode, 200, query)
    }
  })
})

describe('deleting a deal', () => {
  it('removes its tasks and activities, and nothing of other deals', async () => {
    const { organizationId, owner } = await organizationWithRoles(app)
    const doomed = await createDeal(app, owner, organizationId)
    const kept = await createDeal(app, owner, organizationId)
    const doomedTask = await createTask(owner, organizationId, { deal_id: doomed.id })
    const keptTask = await createTask(owner, organizationId, { deal_id: kept.id })
    const api = as(app, owner, organizationId)
    await api.patch(`/tasks/${doomedTask.id}`, { is_done: true })
    assert.equal(
      (await api.post(`/deals/${doomed.id}/activities`, { payload: { text: 'bye' } })).statusCode,
      201,
    )

    assert.equal((await api.delete(`/deals/${doomed.id}`)).statusCode, 204)
    expectProblem(await api.get(`/tasks/${doomedTask.id}`), 404, 'TASK_NOT_FOUND')
    assert.deepEqual(await listIds(owner, organizationId, ''), [keptTask.id])
    assert.equal((await activitiesOf(organizationId, doomed.id)).length, 0)
    expectProblem(await api.get(`/deals/${doomed.id}/activities`), 404, 'DEAL_NOT_FOUND')
    assert.equal((await activitiesOf(organizationId, kept.id)).length, 1)
    const [remaining] = await app.db.db
      .select({ n: sql<number>`count(*)::int` })
      .from(tasks)
      .where(eq(tasks.dealId, doomed.id))
    assert.equal(remaining?.n, 0)
  })
})
