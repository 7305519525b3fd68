/**
 * Selected rows are built by src/db/row-mapping.ts instead of drizzle's per-row `mapResultRow`: the objects must
 * be exactly drizzle's (values, decoders, nesting, key order), for plain, nested, joined and outer-joined
 * selections, on the test database (PostgreSQL or PGlite).
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { eq, sql } from 'drizzle-orm'
import type { FastifyInstance } from 'fastify'
import { mapResultRow, mapRows } from '../src/db/row-mapping.js'
import { contacts, deals } from '../src/db/schema.js'
import { dealSelection } from '../src/features/deals/queries.js'
import { buildTestApp, createContact, createDeal, organizationWithRoles } from './helpers.js'

type Prepared = {
  execute(): Promise<unknown[]>
  fields: Parameters<typeof mapRows>[0]
  joinsNotNullableMap?: Record<string, boolean>
  customResultMapper?: (rows: unknown[][]) => unknown
}

/**
 * The selection's rows three ways: as the service reads them, as drizzle's own `mapResultRow` maps the same
 * driver rows, and as `mapRows` maps them.
 */
async function threeWays(builder: unknown) {
  const prepared = (builder as { _prepare(): Prepared })._prepare()
  const served = await prepared.execute()
  assert.equal(typeof prepared.customResultMapper, 'function', 'the plan mapper is installed')
  prepared.customResultMapper = (rows) => rows
  const raw = (await prepared.execute()) as unknown[][]
  const { fields, joinsNotNullableMap: joins } = prepared
  return {
    served,
    drizzle: raw.map((row) => mapResultRow(fields, row, joins)),
    planned: mapRows(fields, raw, joins),
  }
}

function assertSame(ways: Awaited<ReturnType<typeof threeWays>>, rows: number) {
  assert.equal(ways.drizzle.length, rows)
  assert.deepStrictEqual(ways.planned, ways.drizzle)
  assert.deepStrictEqual(ways.served, ways.drizzle)
  // deepStrictEqual ignores key order; the JSON (and so every response built from these rows) does not.
  assert.equal(JSON.stringify(ways.served), JSON.stringify(ways.drizzle))
}

describe('row mapping', () => {
  let app: FastifyInstance
  let organizationId: string
  before(async () => {
    app = await buildTestApp()
    const { owner, organizationId: orgId } = await organizationWithRoles(app)
    organizationId = orgId
    const contact = await createContact(app, owner, orgId, { name: 'Ada', email: 'ada@example.com' })
    await createDeal(app, owner, orgId, { contact_id: contact.id, title: 'First', amount: '10.50' })
    await createDeal(app, owner, orgId, { contact_id: contact.id, title: 'Second', amount: '99' })
    // A contact without deals: the outer join's null side.
    await createContact(app, owner, orgId, { name: 'Grace', email: 'grace@example.com' })
  })
  after(() => app.close())

  it('maps a whole-table select like drizzle, with its decoders (timestamps as Dates, NULLs kept)', async () => {
    const ways = await threeWays(
      app.db.db.select().from(deals).where(eq(deals.organizationId, organizationId)),
    )
    assertSame(ways, 2)
    const first = ways.served[0] as Record<string, unknown>
    assert.ok(first.createdAt instanceof Date)
    assert.equal(first.closedAt, null)
  })

  it('maps nested selections with SQL and aliased fields like drizzle', async () => {
    const ways = await threeWays(
      app.db.db
        .select({
          deal: dealSelection(organizationId),
          doubled: sql<number>`2 * length(${deals.title})`.mapWith(Number),
          meta: sql<string>`'x'`.as('meta'),
          nothing: sql`NULL`.as('nothing'),
        })
        .from(deals)
        .where(eq(deals.organizationId, organizationId))
        .orderBy(deals.title),
    )
    assertSame(ways, 2)
    const first = ways.served[0] as { deal: { title: string }; doubled: number; meta: string }
    assert.equal(first.deal.title, 'First')
    assert.equal(typeof first.doubled, 'number')
    assert.equal(first.meta, 'x')
  })

  it('maps an inner join like drizzle', async () => {
    const ways = await threeWays(
      app.db.db
        .select({
          deal: { id: deals.id, title: deals.title },
          contact: { id: contacts.id, name: contacts.name },
        })
        .from(deals)
        .innerJoin(contacts, eq(contacts.id, deals.contactId))
        .where(eq(deals.organizationId, organizationId)),
    )
    assertSame(ways, 2)
  })

  it('leaves an outer join to drizzle, which turns the missing side into null', async () => {
    const ways = await threeWays(
      app.db.db
        .select({ contact: { name: contacts.name }, deal: { id: deals.id, title: deals.title } })
        .from(contacts)
        .leftJoin(deals, eq(deals.contactId, contacts.id))
        .where(eq(contacts.organizationId, organizationId))
        .orderBy(contacts.name, deals.title),
    )
    assertSame(ways, 3)
    const grace = ways.served[2] as { contact: { name: string }; deal: unknown }
    assert.equal(grace.contact.name, 'Grace')
    assert.equal(grace.deal, null)
  })
})
