import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import {
  as,
  buildTestApp,
  createContact,
  createDeal,
  expectProblem,
  organizationWithRoles,
  register,
  type TestUser,
} from './helpers.js'

let app: FastifyInstance
before(async () => {
  app = await buildTestApp()
})
after(() => app.close())

type Item = { id: string } & Record<string, unknown>
type Api = ReturnType<typeof as>

function withQuery(path: string, query: string) {
  return `${path}${path.includes('?') ? '&' : '?'}${query}`
}

async function get(api: Api, url: string) {
  const response = await api.get(url)
  assert.equal(response.statusCode, 200, `${url}: ${response.body}`)
  return response.json() as {
    items: Item[]
    total: number | null
    page: number | null
    pages: number | null
    page_size: number
    next_cursor: string | null
  }
}

async function offsetWalk(api: Api, path: string, pageSize: number) {
  const ids: string[] = []
  for (let page = 1; ; page++) {
    const body = await get(api, withQuery(path, `page=${page}&page_size=${pageSize}`))
    assert.equal(body.page, page)
    if (body.items.length === 0) break
    ids.push(...body.items.map((item) => item.id))
    if (body.items.length < pageSize) break
  }
  return ids
}

/** Follows next_cursor to the end; page sizes vary from page to page (they are not bound). */
async function cursorWalk(
  api: Api,
  path: string,
  sizes: number[],
  onPage?: (n: number, items: Item[]) => Promise<void>,
) {
  const ids: string[] = []
  let body = await get(api, withQuery(path, `page_size=${sizes[0]}`))
  for (let n = 1; ; n++) {
    ids.push(...body.items.map((item) => item.id))
    await onPage?.(n, body.items)
    if (body.next_cursor === null) break
    const size = sizes[n % sizes.length]
    body = await get(
      api,
      withQuery(path, `page_size=${size}&count=false&cursor=${encodeURIComponent(body.next_cursor)}`),
    )
    assert.equal(body.page, null, 'page is null in cursor mode')
    assert.equal(body.total, null)
    if (!onPage) assert.ok(body.items.length > 0, 'a cursor is only given when rows follow')
  }
  return ids
}

async function assertWalksAgree(api: Api, path: string) {
  const everything = await get(api, withQuery(path, 'page_size=100'))
  const offset = await offsetWalk(api, path, 4)
  assert.deepEqual(
    offset,
    everything.items.map((item) => item.id),
    `${path}: offset pages`,
  )
  assert.equal(everything.total, offset.length, `${path}: total`)
  const cursor = await cursorWalk(api, path, [4, 3, 5])
  assert.deepEqual(cursor, offset, `${path}: cursor walk = offset walk`)
  // A page that ends exactly at the last row has no next cursor.
  if (offset.length > 0) {
    const exact = await get(api, withQuery(path, `page_size=${offset.length}`))
    assert.equal(exact.next_cursor, null, `${path}: full last page`)
  }
}

async function seed() {
  const org = await organizationWithRoles(app)
  const { organizationId, owner, manager } = org
  const api = as(app, owner, organizationId)
  const names = ['alice', 'Bob', 'carol', 'alice', 'Dave', 'eve', 'Bob', 'frank', 'alice']
  const contacts: Item[] = []
  for (const [i, name] of names.entries()) {
    const by = i % 3 === 0 ? manager : owner
    contacts.push(
      await createContact(app, by, organizationId, { name, email: i % 2 ? `${name}${i}@ex.test` : null }),
    )
  }
  const amounts = [0, 10, 10, 250.5, 99.99, 1000, 10, 0, 42, 250.5, 7, 500]
  const deals: Item[] = []
  for (const [i, amount] of amounts.entries()) {
    const deal = await createDeal(app, i % 4 === 0 ? manager : owner, organizationId, {
      title: ['Renewal', 'deal b', 'Deal A', 'Renewal'][i % 4],
      amount,
      contact_id: contacts[i % 3]?.id,
    })
    deals.push(deal)
    if (i % 3 === 1) await api.patch(`/deals/${deal.id}`, { status: 'won', stage: 'proposal' })
    if (i % 5 === 2) await api.patch(`/deals/${deal.id}`, { status: 'in_progress' })
  }
  const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10)
  for (const [i, due] of [3, null, 1, 3, null, 0, 7, 1, null, 3].entries()) {
    const task = (
      await api.post('/tasks', {
        deal_id: deals[i % 4]?.id,
        title: `Task ${i}`,
        ...(due === null ? {} : { due_date: day(due) }),
      })
    ).json()
    if (i % 3 === 0) await api.patch(`/tasks/${task.id}`, { is_done: true })
  }
  for (let i = 0; i < 9; i++)
    await api.post(`/deals/${deals[0]?.id}/activities`, { payload: { text: `c${i}` } })
  return { ...org, api, contacts, deals, day }
}

describe('cursor paging', () => {
  let data: Awaited<ReturnType<typeof seed>>
  before(async () => {
    data = await seed()
    // Another organization's rows never appear.
    const other = await register(app)
    await createDeal(app, other, other.organizationId, { title: 'Renewal', amount: 10 })
  })

  it('walks every contact order and filter exactly like offset pages', async () => {
    for (const orderBy of ['created_at', 'name']) {
      for (const order of ['asc', 'desc']) {
        for (const filter of ['', 'search=ali', `owner_id=${data.manager.id}`, 'search=nobody']) {
          await assertWalksAgree(
            data.api,
            `/contacts?order_by=${orderBy}&order=${order}${filter ? `&${filter}` : ''}`,
          )
        }
      }
    }
  })

  it('walks every deal order and filter exactly like offset pages', async () => {
    const filters = [
      '',
      'status=won&status=new',
      'min_amount=10&max_amount=500',
      'search=renewal',
      'stage=proposal',
      `owner_id=${data.manager.id}`,
      `contact_id=${data.contacts[1]?.id}`,
    ]
    for (const orderBy of ['created_at', 'updated_at', 'amount', 'title']) {
      for (const order of ['asc', 'desc']) {
        for (const filter of filters) {
          await assertWalksAgree(
            data.api,
            `/deals?order_by=${orderBy}&order=${order}${filter ? `&${filter}` : ''}`,
          )
        }
      }
    }
  })

  it('walks tasks (undated last) and a deal feed exactly like offset pages', async () => {
    for (const filter of [
      '',
      'only_open=true',
      `due_before=${data.day(3)}`,
      `due_after=${data.day(1)}`,
      `deal_id=${data.deals[0]?.id}`,
      `only_open=true&due_after=${data.day(0)}`,
    ]) {
      await assertWalksAgree(data.api, `/tasks${filter ? `?${filter}` : ''}`)
    }
    await assertWalksAgree(data.api, `/deals/${data.deals[0]?.id}/activities`)
  })

  it('neither repeats nor loses rows inserted or deleted mid-walk, including the row the cursor points at', async () => {
    const { organizationId, owner } = await organizationWithRoles(app)
    const api = as(app, owner, organizationId)
    const contact = await createContact(app, owner, organizationId)
    const initial: Item[] = []
    for (let i = 0; i < 12; i++)
      initial.push(await createDeal(app, owner, organizationId, { contact_id: contact.id, amount: i }))
    for (const order of ['asc', 'desc'] as const) {
      const deleted = new Set<string>()
      const inserted: Item[] = []
      const seen = await cursorWalk(
        api,
        `/deals?order_by=created_at&order=${order}`,
        [3],
        async (n, items) => {
          if (n > 2) return
          // Delete the row the cursor points at (this page's last) and one further on; insert a new newest deal.
          const pointed = items[items.length - 1] as Item
          const ahead = initial
            .filter((d) => !deleted.has(d.id) && !items.includes(d))
            .at(order === 'asc' ? -1 : 0) as Item
          for (const victim of [pointed, ahead]) {
            if (deleted.has(victim.id)) continue
            assert.equal((await api.delete(`/deals/${victim.id}`)).statusCode, 204)
            deleted.add(victim.id)
          }
          inserted.push(await createDeal(app, owner, organizationId, { contact_id: contact.id }))
        },
      )
      assert.equal(new Set(seen).size, seen.length, `${order}: no row twice`)
      const survivors = initial.filter((d) => !deleted.has(d.id)).map((d) => d.id)
      for (const id of survivors) assert.ok(seen.includes(id), `${order}: a surviving row is not lost`)
      const late = [...deleted].filter((id) => seen.indexOf(id) === -1)
      assert.ok(late.length >= 1, 'a row deleted ahead of the cursor is not returned')
      // New rows sort after the position only when ascending by creation: then they are all seen.
      for (const row of inserted)
        assert.equal(seen.includes(row.id), order === 'asc', `${order}: inserted row`)
      for (const row of [...inserted]) await api.delete(`/deals/${row.id}`)
      initial.splice(0, initial.length, ...initial.filter((d) => !deleted.has(d.id)))
    }
  })

  it('refuses tampered, mismatched and foreign cursors, page with cursor, and offsets past 10,000 rows', async () => {
    const { api, deals } = data
    const first = await get(api, '/deals?order_by=amount&order=desc&status=won&page_size=2')
    const cursor = first.next_cursor as string
    assert.ok(cursor)
    const ok = await get(
      api,
      `/deals?status=won&order=desc&order_by=amount&page_size=3&cursor=${encodeURIComponent(cursor)}`,
    )
    assert.ok(ok.items.length > 0)
    const [body, signature] = cursor.split('.') as [string, string]
    const tampered = [
      `${body}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`,
      `${body.slice(0, -2)}xx.${signature}`,
      body,
      'not-a-cursor',
      `${cursor}.extra`,
    ]
    for (const bad of tampered) {
      const problem = expectProblem(
        await api.get(`/deals?status=won&order_by=amount&order=desc&cursor=${encodeURIComponent(bad)}`),
        400,
        'VALIDATION_ERROR',
      )
      assert.equal(problem.errors[0].field, 'querystring.cursor')
    }
    for (const other of [
      '/deals?status=won&order_by=amount&order=asc',
      '/deals?status=won&order_by=title&order=desc',
      '/deals?order_by=amount&order=desc',
      '/deals?status=won&status=lost&order_by=amount&order=desc',
      '/deals?status=won&order_by=amount&order=desc&min_amount=1',
      '/contacts',
      '/tasks',
      `/deals/${deals[0]?.id}/activities`,
    ]) {
      expectProblem(
        await api.get(withQuery(other, `cursor=${encodeURIComponent(cursor)}`)),
        400,
        'VALIDATION_ERROR',
      )
    }
    const feed = await get(api, `/deals/${deals[0]?.id}/activities?page_size=2`)
    expectProblem(
      await api.get(
        `/deals/${deals[1]?.id}/activities?cursor=${encodeURIComponent(feed.next_cursor as string)}`,
      ),
      400,
      'VALIDATION_ERROR',
    )
    expectProblem(
      await api.get(
        `/deals?status=won&order_by=amount&order=desc&page=2&cursor=${encodeURIComponent(cursor)}`,
      ),
      400,
      'VALIDATION_ERROR',
    )
    // Offset paging stops at 10,000 rows; the last page inside the cap is fine (and empty past the end).
    for (const [path, page, size] of [
      ['/deals', 501, 20],
      ['/contacts', 101, 100],
      ['/tasks', 10_001, 1],
      [`/deals/${deals[0]?.id}/activities`, 501, 20],
    ] as const) {
      const problem = expectProblem(
        await api.get(`${path}?page=${page}&page_size=${size}`),
        400,
        'VALIDATION_ERROR',
      )
      assert.equal(problem.errors[0].field, 'querystring.page')
      const last = await get(api, `${path}?page=${page - 1}&page_size=${size}`)
      assert.deepEqual(last.items, [])
    }
  })

  it('count=false leaves total and pages null; the page shape is complete', async () => {
    const body = await get(data.api, '/contacts?count=false&page_size=2')
    assert.deepEqual(Object.keys(body).sort(), [
      'items',
      'next_cursor',
      'page',
      'page_size',
      'pages',
      'total',
    ])
    assert.equal(body.total, null)
    assert.equal(body.pages, null)
    assert.equal(body.page, 1)
    assert.equal(typeof body.next_cursor, 'string')
    const counted = await get(data.api, '/contacts?page_size=2')
    assert.equal(counted.total, data.contacts.length)
    assert.equal(counted.pages, Math.ceil(data.contacts.length / 2))
    for (const bad of ['count=maybe', 'cursor=', `cursor=${'x'.repeat(4097)}`]) {
      expectProblem(await data.api.get(`/contacts?${bad}`), 400, 'VALIDATION_ERROR')
    }
  })
})

export type { TestUser }
