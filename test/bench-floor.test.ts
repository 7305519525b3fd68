import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { PGlite } from '@electric-sql/pglite'
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres'
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite'
import type { FastifyInstance } from 'fastify'
import pg from 'pg'
import {
  analyticsState,
  contactById,
  dealsBoardColumn,
  dealsByStatusAndMinAmount,
  dealsPage,
  type FloorQuery,
  forecastQueries,
  velocityQueryOf,
} from '../bench/floor-queries.js'
import type { Database, Db } from '../src/db/client.js'
import { PGLITE_EXTENSIONS } from '../src/db/extensions.js'
import * as schema from '../src/db/schema.js'
import { as, buildTestApp, createContact, createDeal, register, type TestUser } from './helpers.js'

// The benchmark's floor (bench/floor.ts) must run the service's SQL word for word, or its ratio means nothing.
// These tests record what the service sends for W1, W2 and W7–W10 and compare it with bench/floor-queries.ts.

const sent: FloorQuery[] = []
const REVOCATIONS_POLL = 'select "id", "revoked_at" from "sessions"'
const logger = { logQuery: (text: string, values: unknown[]) => sent.push({ text, values }) }

async function recordingDatabase(): Promise<Database> {
  const url = process.env.TEST_DATABASE_URL
  if (url) {
    const pool = new pg.Pool({ connectionString: url, max: 4 })
    return {
      db: drizzlePg(pool, { schema, logger }) as unknown as Db,
      ping: async () => {
        await pool.query('SELECT 1')
      },
      close: () => pool.end(),
    }
  }
  const client = await PGlite.create('memory://', { extensions: PGLITE_EXTENSIONS })
  return {
    db: drizzlePglite(client, { schema, logger }) as unknown as Db,
    ping: async () => {
      await client.query('SELECT 1')
    },
    close: () => client.close(),
  }
}

let database: Database
let app: FastifyInstance
let owner: TestUser
let contactId: string

before(async () => {
  database = await recordingDatabase()
  app = await buildTestApp({ database })
  owner = await register(app)
  const contact = await createContact(app, owner, owner.organizationId, { name: 'Floor check' })
  contactId = contact.id
  await createDeal(app, owner, owner.organizationId, { contact_id: contactId, amount: '150.00' })
})
after(async () => {
  await app.close()
  await database.close()
})

/** The statements one request sends, without the tenant check (at most one: memberships are cached). */
async function statementsOf(url: string): Promise<FloorQuery[]> {
  sent.length = 0
  const response = await as(app, owner, owner.organizationId).get(url)
  assert.equal(response.statusCode, 200, response.body)
  const tenantChecks = sent.filter((query) => query.text.includes('LEFT JOIN memberships'))
  assert.ok(tenantChecks.length <= 1, 'expected at most one tenant check')
  // The revoked-sessions refresh runs on its own timer (auth/revocations.ts), not for the request: on a busy
  // machine it can land inside one.
  return sent.filter((query) => !tenantChecks.includes(query) && !query.text.startsWith(REVOCATIONS_POLL))
}

const byText = (queries: FloorQuery[]) => [...queries].sort((a, b) => a.text.localeCompare(b.text))

describe('bench floor SQL', () => {
  it('W1 GET /deals?page=1&page_size=20 sends the floor query: the page with its counter total', async () => {
    const statements = await statementsOf('/deals?page=1&page_size=20')
    assert.deepEqual(statements, [dealsPage(owner.organizationId, 20, 0)])
    assert.deepEqual(statements[0]?.values.at(-1), 21, 'one row more than the page, for next_cursor')
  })

  it('reads an offset page as a keyset page: a walk of the sort keys to the row before it, then the page', async () => {
    for (let i = 0; i < 16; i++) await createDeal(app, owner, owner.organizationId, { contact_id: contactId })
    const statements = await statementsOf('/deals?page=3&page_size=7')
    assert.equal(statements.length, 2)
    const walk = statements.find((query) => query.text.includes('OFFSET'))
    const page = statements.find((query) => query !== walk)
    // Only the keys, to the 14th row: no whole row is read and dropped.
    assert.equal(
      walk?.text,
      'SELECT "deals"."created_at"::text AS "k0", "deals"."id"::text AS "k1" FROM "deals" WHERE "deals"."organization_id" = $1\n        ORDER BY "deals"."created_at" desc, "deals"."id" desc\n        OFFSET $2 LIMIT 1',
    )
    assert.deepEqual(walk?.values, [owner.organizationId, 13])
    // The page after those keys, one row more than the page (for next_cursor).
    assert.match(
      page?.text ?? '',
      /\("deals"\."created_at", "deals"\."id"\) < \(\$6::timestamptz, \$7::uuid\)/,
    )
    assert.equal(page?.values.at(-1), 8)
    // With the counter total selected as the first page's is.
    const firstPage = dealsPage(owner.organizationId, 7, 0)
    assert.equal(page?.text.split(' where ')[0], firstPage.text.split(' where ')[0])
    assert.deepEqual(page?.values.slice(0, 5), firstPage.values.slice(0, 5))
    const listed = (await as(app, owner, owner.organizationId).get('/deals?page=3&page_size=7')).json()
    const walked = (await as(app, owner, owner.organizationId).get('/deals?page_size=21')).json()
    assert.deepEqual(
      listed.items.map((deal: { id: string }) => deal.id),
      walked.items.slice(14).map((deal: { id: string }) => deal.id),
    )
  })

  it('W7 GET /deals?status=won&min_amount=100&order_by=amount&order=desc sends the floor queries', async () => {
    // The bench's pages have rows, which carry the generation; an empty page is checked below.
    await createDeal(app, owner, owner.organizationId, {
      contact_id: contactId,
      amount: '120.00',
      status: 'won',
    })
    const statements = await statementsOf(
      '/deals?status=won&min_amount=100&order_by=amount&order=desc&page_size=20',
    )
    const floor = dealsByStatusAndMinAmount(owner.organizationId, 'won', '100', 20, 0)
    // First request: no count cached for this generation yet, so it counts; the next one reuses it.
    assert.deepEqual(statements, [floor.page, floor.count])
    const again = await statementsOf(
      '/deals?status=won&min_amount=100&order_by=amount&order=desc&page_size=20',
    )
    assert.deepEqual(again, [floor.page])
    // An empty first page is an empty list: no other statement for its total.
    const none = '/deals?status=lost&min_amount=100&order_by=amount&order=desc&page_size=20'
    assert.deepEqual(await statementsOf(none), [
      dealsByStatusAndMinAmount(owner.organizationId, 'lost', '100', 20, 0).page,
    ])
  })

  it('W8 GET /deals?stage=…&expand=contact sends the floor queries for every stage', async () => {
    for (const stage of ['proposal', 'negotiation', 'closed']) {
      await createDeal(app, owner, owner.organizationId, { contact_id: contactId, stage })
    }
    for (const stage of ['qualification', 'proposal', 'negotiation', 'closed']) {
      const url = `/deals?stage=${stage}&expand=contact&page_size=20`
      const floor = dealsBoardColumn(owner.organizationId, stage, 20, 0)
      assert.deepEqual(await statementsOf(url), [floor.page, floor.count])
      assert.deepEqual(await statementsOf(url), [floor.page])
    }
  })

  it('every counted list carries its total on its page, with no statement of its own (filtered: once kept)', async () => {
    const api = as(app, owner, owner.organizationId)
    const [deal] = (await api.get('/deals?page_size=1')).json().items
    assert.equal((await api.post('/tasks', { deal_id: deal.id, title: 'Floor task' })).statusCode, 201)
    assert.equal((await api.post('/companies', { name: 'Floor Co' })).statusCode, 201)
    for (const path of [
      '/contacts',
      '/contacts?search=floor',
      '/companies',
      '/companies?search=floor',
      '/deals',
      '/deals?stage=qualification',
      '/tasks',
      '/tasks?only_open=true',
    ]) {
      await statementsOf(path) // a filtered list counts on its first read
      const statements = await statementsOf(path)
      // Tasks sort by due date, undated last: two index ranges when the dated ones do not fill the page (the
      // task here has no date), the total riding on the first.
      const ranges = path.startsWith('/tasks') ? 2 : 1
      assert.equal(statements.length, ranges, `${path}: ${statements.map((query) => query.text).join('\n')}`)
      assert.match(statements[0]?.text ?? '', /list_counts[\s\S]*as "list_meta"/, path)
    }
  })

  it('W9 GET /analytics/deals/forecast sends the floor queries: computed once per generation, then the state only', async () => {
    // A write moves the generation, so the first read below computes whatever earlier tests cached.
    await createDeal(app, owner, owner.organizationId, {
      contact_id: contactId,
      expected_close_date: '2031-01-15',
    })
    const { name, ...state } = analyticsState(owner.organizationId)
    assert.equal(name, 'analytics_state')
    const { buckets, clock } = forecastQueries(owner.organizationId, 'USD', 6)
    assert.deepEqual(byText(await statementsOf('/analytics/deals/forecast')), byText([state, buckets, clock]))
    assert.deepEqual(await statementsOf('/analytics/deals/forecast'), [state])
  })

  it('W10 GET /analytics/deals/velocity sends the floor query on every request', async () => {
    const velocity = velocityQueryOf(owner.organizationId, 90)
    assert.deepEqual(await statementsOf('/analytics/deals/velocity'), [velocity])
    assert.deepEqual(await statementsOf('/analytics/deals/velocity'), [velocity])
  })

  it('W2 GET /contacts/{id} sends the floor query', async () => {
    const statements = await statementsOf(`/contacts/${contactId}`)
    const { name, ...floorQuery } = contactById(owner.organizationId, contactId)
    assert.equal(name, 'contacts_find_by_id')
    assert.deepEqual(statements, [floorQuery])
  })
})
