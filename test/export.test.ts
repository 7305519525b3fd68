import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { parse } from 'csv-parse/sync'
import type { FastifyInstance } from 'fastify'
import {
  API,
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

const TRICKY = [
  'Plain',
  'Comma, Inc.',
  'She said "hi"',
  'Two\nlines',
  'CR\r\nLF',
  'Ünïcødé 日本語 🚀',
  '=1+2',
  '+33 1 23',
  '-negative',
  '@mention',
  '\ttabbed',
]

/** The cell a spreadsheet may safely open: formula starters get a leading apostrophe. */
function safe(value: unknown): string {
  if (value === null || value === undefined) return ''
  const text = String(value)
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text
}

async function allItems(user: Parameters<typeof as>[1], organizationId: string, path: string) {
  const items: Record<string, unknown>[] = []
  let cursor: string | null = null
  do {
    const separator = path.includes('?') ? '&' : '?'
    const url: string = `${path}${separator}page_size=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`
    const response = await as(app, user, organizationId).get(url)
    assert.equal(response.statusCode, 200, response.body)
    const body = response.json()
    items.push(...body.items)
    cursor = body.next_cursor
  } while (cursor)
  return items
}

function exportOf(user: Parameters<typeof as>[1], organizationId: string, path: string) {
  return app.inject({ method: 'GET', url: `${API}${path}`, headers: auth(user, organizationId) })
}

describe('CSV export', () => {
  it('round-trips quotes, commas, newlines, Unicode and formula cells (RFC 4180, formula-safe)', async () => {
    const { organizationId, owner } = await organizationWithRoles(app)
    for (const name of TRICKY)
      await createContact(app, owner, organizationId, { name, phone: name.slice(0, 50) })
    const response = await exportOf(owner, organizationId, '/contacts/export?order_by=name&order=asc')
    assert.equal(response.statusCode, 200, response.body)
    assert.equal(response.headers['content-type'], 'text/csv; charset=utf-8')
    assert.ok(response.body.includes('\r\n'), 'CRLF records')
    const [header, ...rows] = parse(response.body, { record_delimiter: '\r\n' }) as string[][]
    assert.deepEqual(header, [
      'id',
      'organization_id',
      'owner_id',
      'name',
      'email',
      'phone',
      'company_id',
      'created_at',
      'updated_at',
    ])
    const items = await allItems(owner, organizationId, '/contacts?order_by=name&order=asc')
    assert.equal(rows.length, TRICKY.length)
    assert.deepEqual(
      rows,
      items.map((item) => (header ?? []).map((column) => safe(item[column]))),
    )
    assert.ok(rows.some((row) => row[3] === "'=1+2"))
    assert.ok(rows.some((row) => row[3] === 'Two\nlines'))
    assert.ok(rows.some((row) => row[3] === 'Ünïcødé 日本語 🚀'))
  })

  it('exports deals and tasks with the list filters and order; money as in JSON; nothing of other organizations', async () => {
    const { organizationId, owner, member } = await organizationWithRoles(app)
    const other = await register(app)
    await createDeal(app, other, other.organizationId, { title: 'Theirs', amount: 5 })
    const contact = await createContact(app, owner, organizationId)
    for (const [i, amount] of [10, 250.5, 99.99, 1000, 0].entries()) {
      await createDeal(app, owner, organizationId, { title: `Deal ${i}`, amount, contact_id: contact.id })
    }
    const path = '?min_amount=50&order_by=amount&order=desc'
    const response = await exportOf(member, organizationId, `/deals/export${path}`)
    assert.equal(response.statusCode, 200, response.body)
    const [header, ...rows] = parse(response.body) as string[][]
    assert.equal(header?.[0], 'id')
    const items = await allItems(member, organizationId, `/deals${path}`)
    assert.deepEqual(
      rows,
      items.map((item) => (header ?? []).map((column) => safe(item[column]))),
    )
    assert.deepEqual(
      rows.map((row) => row[header?.indexOf('amount') ?? -1]),
      ['1000.00', '250.50', '99.99'],
    )

    const deal = (await as(app, owner, organizationId).get('/deals?page_size=1')).json().items[0]
    const api = as(app, owner, organizationId)
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10)
    await api.post('/tasks', { deal_id: deal.id, title: 'later', due_date: tomorrow })
    await api.post('/tasks', { deal_id: deal.id, title: 'undated' })
    const tasks = await exportOf(owner, organizationId, '/tasks/export')
    const [taskHeader, ...taskRows] = parse(tasks.body) as string[][]
    const taskItems = await allItems(owner, organizationId, '/tasks')
    assert.deepEqual(
      taskRows,
      taskItems.map((item) => (taskHeader ?? []).map((column) => safe(item[column]))),
    )
    assert.deepEqual(
      taskRows.map((row) => row[taskHeader?.indexOf('due_date') ?? -1]),
      [tomorrow, ''],
    )
    assert.deepEqual(
      parse(
        (await exportOf(owner, organizationId, '/tasks/export?only_open=true&due_after=2999-01-01')).body,
      ),
      [taskHeader],
    )
  })

  it('streams more rows than one batch, in order, and validates its filters', async () => {
    const { organizationId, owner } = await organizationWithRoles(app)
    const csv = [
      'name,email',
      ...Array.from({ length: 4500 }, (_, i) => `Bulk ${String(i).padStart(4, '0')},b${i}@example.com`),
    ]
    const imported = await app.inject({
      method: 'POST',
      url: `${API}/contacts/import`,
      headers: { ...auth(owner, organizationId), 'content-type': 'text/csv' },
      payload: csv.join('\n'),
    })
    assert.equal(imported.json().created, 4500)
    const response = await exportOf(owner, organizationId, '/contacts/export?order_by=name&order=asc')
    const [, ...rows] = parse(response.body) as string[][]
    assert.deepEqual(
      rows.map((row) => row[3]),
      Array.from({ length: 4500 }, (_, i) => `Bulk ${String(i).padStart(4, '0')}`),
    )
    for (const query of ['page=1', 'order_by=email', 'min_amount=abc', 'x=1']) {
      const path = query.startsWith('min') ? '/deals/export' : '/contacts/export'
      expectProblem(await exportOf(owner, organizationId, `${path}?${query}`), 400, 'VALIDATION_ERROR')
    }
  })
})
