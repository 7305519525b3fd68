/**
 * A list's page statement is built once per shape and run with each request's values (src/lib/list.ts): the kept
 * statement must serve every organization, filter value and cursor of its shape correctly, never keep a value,
 * and the test configuration must catch a shape key that does not determine the statement's text.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { eq, getTableColumns, type Placeholder, type SQL, sql } from 'drizzle-orm'
import type { FastifyInstance } from 'fastify'
import { deals } from '../src/db/schema.js'
import { keysetRows, type ListSource, listTools, listValues } from '../src/lib/list.js'
import { as, buildTestApp, createDeal, organizationWithRoles, type TestUser } from './helpers.js'

let app: FastifyInstance
before(async () => {
  app = await buildTestApp()
})
after(() => app.close())

const keptStatements = () => [...listTools(app.config).statements.statements.keys()]

async function organizationWithDeals(titles: string[]) {
  const { owner, organizationId } = await organizationWithRoles(app)
  for (const title of titles) {
    await createDeal(app, owner, organizationId, { title, amount: String(title.length * 10) })
  }
  return { owner, organizationId }
}

const titles = (body: { items: { title: string }[] }) => body.items.map((item) => item.title).sort()

describe('list statements', () => {
  let first: { owner: TestUser; organizationId: string }
  let second: { owner: TestUser; organizationId: string }
  before(async () => {
    first = await organizationWithDeals(['Alpha', 'Beta', 'Gamma'])
    second = await organizationWithDeals(['Delta', 'Epsilon'])
  })

  it('serves every organization and filter value from one kept statement per shape', async () => {
    const before = keptStatements().length
    const a = (await as(app, first.owner, first.organizationId).get('/deals?search=a')).json()
    const b = (await as(app, second.owner, second.organizationId).get('/deals?search=e')).json()
    const c = (await as(app, first.owner, first.organizationId).get('/deals?search=mm')).json()
    assert.deepEqual(titles(a), ['Alpha', 'Beta', 'Gamma'])
    assert.deepEqual(titles(b), ['Delta', 'Epsilon'])
    assert.deepEqual(titles(c), ['Gamma'])
    assert.equal(a.total, 3)
    assert.equal(b.total, 2)
    assert.equal(c.total, 1)
    const added = keptStatements().slice(before)
    assert.equal(added.length, 1, JSON.stringify(added))
    assert.match(added[0] ?? '', /^deals\|created_at desc\|organization_id,search\|start\|generation$/)
  })

  it('keeps one statement per shape: another filter, order or range is another statement', async () => {
    const api = as(app, first.owner, first.organizationId)
    const before = keptStatements().length
    await api.get('/deals?min_amount=45')
    await api.get('/deals?min_amount=50')
    await api.get('/deals?order_by=amount&order=asc&page_size=1')
    const page = (await api.get('/deals?order_by=amount&order=asc&page_size=1')).json()
    const next = (
      await api.get(`/deals?order_by=amount&order=asc&page_size=1&cursor=${page.next_cursor}`)
    ).json()
    assert.deepEqual(
      [page.items[0].title, next.items[0].title],
      ['Beta', 'Alpha'], // 40.00, 50.00
    )
    assert.deepEqual(keptStatements().slice(before), [
      'deals|created_at desc|organization_id,min_amount|start|generation',
      'deals|amount asc|organization_id|start|total',
      'deals|amount asc|organization_id|after|total',
    ])
  })

  /** A deals list whose select varies with `variant` while its shape says nothing of it. */
  function source(variant: string, shape: string, bindTitle = true): ListSource<{ title: string }> {
    const { values, organization, bind } = listValues(first.organizationId)
    const title = bindTitle ? bind('title', 'Alpha') : 'Alpha'
    return {
      list: 'test',
      shape,
      base: [eq(deals.organizationId, organization), eq(deals.title, title)],
      values,
      ordering: { keys: [{ column: deals.id, cast: 'uuid' }], direction: 'asc' },
      run: (where: SQL | undefined, orderBy: SQL[], limit: Placeholder) =>
        app.db.db
          .select({
            ...getTableColumns(deals),
            variant: sql<string>`${sql.raw(`'${variant}'`)}`.as('variant'),
          })
          .from(deals)
          .where(where)
          .orderBy(...orderBy)
          .limit(limit),
    }
  }

  it('fails, in the test configuration, when a shape key does not determine its statement', async () => {
    const cache = { statements: new Map(), check: true }
    const rows = await keysetRows(source('one', 'same'), undefined, 10, undefined, cache)
    assert.deepEqual(
      rows.map((row) => row.title),
      ['Alpha'],
    )
    await assert.rejects(
      keysetRows(source('two', 'same'), undefined, 10, undefined, cache),
      /its key does not determine its text/,
    )
    // Told apart by their shapes, both are kept.
    await keysetRows(source('two', 'other'), undefined, 10, undefined, cache)
    assert.equal(cache.statements.size, 2)
  })

  it('keeps at most 1,000 statements, dropping the oldest first', async () => {
    const unused = { execute: async () => [] }
    const statements = new Map(
      Array.from({ length: 1_000 }, (_, i) => [`old ${i}`, { page: unused, text: '' }]),
    )
    const cache = { statements, check: true }
    const rows = await keysetRows(source('one', 'evicting'), undefined, 10, undefined, cache)
    assert.deepEqual(
      rows.map((row) => row.title),
      ['Alpha'],
    )
    assert.equal(statements.size, 1_000)
    assert.equal(statements.has('old 0'), false)
    assert.equal(statements.has('old 1'), true)
    assert.equal([...statements.keys()].at(-1), 'test|evicting|organization_id,title|start|')
  })

  it('never keeps a statement holding a value that is not a placeholder', async () => {
    const checked = { statements: new Map(), check: true }
    await assert.rejects(
      keysetRows(source('one', 'same', false), undefined, 10, undefined, checked),
      /a value is not bound as a placeholder/,
    )
    // Outside tests, such a statement is run as built and not kept.
    const production = { statements: new Map(), check: false }
    const rows = await keysetRows(source('one', 'same', false), undefined, 10, undefined, production)
    assert.deepEqual(
      rows.map((row) => row.title),
      ['Alpha'],
    )
    assert.equal(production.statements.size, 0)
  })
})
