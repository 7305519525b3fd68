import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { sql } from 'drizzle-orm'
import type { FastifyInstance } from 'fastify'
import { openDatabase, queryRows } from '../src/db/client.js'
import {
  addMember,
  as,
  buildTestApp,
  createContact,
  createDeal,
  expectProblem,
  organizationWithRoles,
  register,
} from './helpers.js'
import { assertValidationError, WRITE_ROLES } from './record-helpers.js'

let app: FastifyInstance
before(async () => {
  app = await buildTestApp()
})
after(() => app.close())

const SETTINGS_ROLES = ['owner', 'admin']

describe('organizations: settings (spec §10)', () => {
  it('shows every member the organization with its default currency and their role', async () => {
    const org = await organizationWithRoles(app)
    for (const role of WRITE_ROLES) {
      const response = await as(app, org[role]).get(`/organizations/${org.organizationId}`)
      assert.equal(response.statusCode, 200)
      const body = response.json()
      assert.deepEqual(Object.keys(body).sort(), ['created_at', 'default_currency', 'id', 'name', 'role'])
      assert.equal(body.id, org.organizationId)
      assert.equal(body.role, role)
      assert.equal(body.default_currency, 'USD')
      assert.equal(body.name, 'Org of Owner')
    }
    expectProblem(
      await as(app, org.outsider).get(`/organizations/${org.organizationId}`),
      403,
      'ORGANIZATION_ACCESS_DENIED',
    )
    const missing = await as(app, org.outsider).get(`/organizations/${crypto.randomUUID()}`)
    expectProblem(missing, 403, 'ORGANIZATION_ACCESS_DENIED')
  })

  for (const role of WRITE_ROLES) {
    const allowed = SETTINGS_ROLES.includes(role)
    it(`${allowed ? 'lets' : 'refuses'} ${role} change the name and default currency`, async () => {
      const org = await organizationWithRoles(app)
      const response = await as(app, org[role]).patch(`/organizations/${org.organizationId}`, {
        name: 'Renamed',
        default_currency: 'eur',
      })
      const after = (await as(app, org.owner).get(`/organizations/${org.organizationId}`)).json()
      if (allowed) {
        assert.equal(response.statusCode, 200)
        assert.equal(response.json().default_currency, 'EUR')
        assert.equal(response.json().role, role)
        assert.equal(after.name, 'Renamed')
        assert.equal(after.default_currency, 'EUR')
      } else {
        expectProblem(response, 403, 'FORBIDDEN')
        assert.equal(after.default_currency, 'USD')
        assert.equal(after.name, 'Org of Owner')
      }
    })
  }

  it('gives new deals without a currency the default currency, and analytics use it by default', async () => {
    const org = await organizationWithRoles(app)
    await as(app, org.admin).patch(`/organizations/${org.organizationId}`, { default_currency: 'JPY' })
    const deal = await createDeal(app, org.member, org.organizationId, { amount: 1000 })
    assert.equal(deal.currency, 'JPY')
    const explicit = await createDeal(app, org.member, org.organizationId, { amount: 5, currency: 'usd' })
    assert.equal(explicit.currency, 'USD')
    const summary = (await as(app, org.member, org.organizationId).get('/analytics/deals/summary')).json()
    assert.equal(summary.currency, 'JPY')
    assert.equal(summary.by_status.new.total_amount, '1000.00')
  })

  it('accepts only active ISO 4217 codes as currencies, in any case (400 otherwise)', async () => {
    const org = await organizationWithRoles(app)
    const api = as(app, org.owner, org.organizationId)
    const contact = await createContact(app, org.owner, org.organizationId)
    const deal = await createDeal(app, org.owner, org.organizationId, { contact_id: contact.id })
    for (const currency of ['ZZZ', 'XYZ', 'ABC', 'US', 'USDD', 'U5D', '', 'usd ', 1, null, ['USD']]) {
      const label = JSON.stringify(currency)
      assertValidationError(
        await api.patch(`/organizations/${org.organizationId}`, { default_currency: currency }),
        `org ${label}`,
      )
      assertValidationError(
        await api.post('/deals', { contact_id: contact.id, title: 'x', currency }),
        `create ${label}`,
      )
      assertValidationError(await api.patch(`/deals/${deal.id}`, { currency }), `patch ${label}`)
      if (typeof currency === 'string' && currency !== '') {
        assertValidationError(
          await api.get(`/analytics/deals/summary?currency=${encodeURIComponent(currency)}`),
          `summary ${label}`,
        )
        assertValidationError(
          await api.get(`/analytics/deals/forecast?currency=${encodeURIComponent(currency)}`),
          `forecast ${label}`,
        )
      }
    }
    for (const currency of ['chf', 'Jpy', 'sek', 'BRL']) {
      assert.equal(
        (await api.patch(`/deals/${deal.id}`, { currency })).json().currency,
        currency.toUpperCase(),
      )
      const settings = await api.patch(`/organizations/${org.organizationId}`, { default_currency: currency })
      assert.equal(settings.json().default_currency, currency.toUpperCase())
      assert.equal(
        (await api.get(`/analytics/deals/summary?currency=${currency}`)).json().currency,
        currency.toUpperCase(),
      )
    }
  })

  it('refuses bad bodies with 400 and changes nothing', async () => {
    const org = await organizationWithRoles(app)
    const api = as(app, org.owner)
    for (const body of [
      { name: '' },
      { name: 'x'.repeat(256) },
      { name: null },
      { id: org.organizationId },
      { created_at: 'x' },
      { role: 'owner' },
    ]) {
      assertValidationError(
        await api.patch(`/organizations/${org.organizationId}`, body),
        JSON.stringify(body),
      )
    }
    assertValidationError(await api.get('/organizations/not-a-uuid'), 'path')
    assertValidationError(await api.delete('/organizations/not-a-uuid'), 'delete path')
    const settings = (await api.get(`/organizations/${org.organizationId}`)).json()
    assert.equal(settings.name, 'Org of Owner')
  })
})

describe('organizations: deletion (spec §10)', () => {
  for (const role of WRITE_ROLES.filter((r) => r !== 'owner')) {
    it(`refuses ${role} with 403`, async () => {
      const org = await organizationWithRoles(app)
      expectProblem(await as(app, org[role]).delete(`/organizations/${org.organizationId}`), 403, 'FORBIDDEN')
      assert.equal((await as(app, org[role]).get(`/organizations/${org.organizationId}`)).statusCode, 200)
    })
  }

  it('removes the organization and everything in it at once; members lose access immediately', async () => {
    const org = await organizationWithRoles(app)
    const neighbour = await register(app)
    const neighbourDeal = await createDeal(app, neighbour, neighbour.organizationId, { amount: 5 })
    const api = (role: (typeof WRITE_ROLES)[number]) => as(app, org[role], org.organizationId)
    const company = (await api('owner').post('/companies', { name: 'Acme', domain: 'acme.com' })).json()
    const contact = await createContact(app, org.member, org.organizationId, { company_id: company.id })
    const deal = await createDeal(app, org.member, org.organizationId, { contact_id: contact.id, amount: 10 })
    await api('member').post('/tasks', { deal_id: deal.id, title: 'Call' })
    await api('member').post(`/deals/${deal.id}/activities`, { payload: { text: 'hi' } })
    await api('owner').patch(`/deals/${deal.id}`, { stage: 'proposal' })
    await api('owner').patch('/pipeline', { probabilities: { proposal: 50 } })
    // Every member's role is cached by now (each made a request).
    for (const role of WRITE_ROLES) assert.equal((await api(role).get('/deals')).statusCode, 200)

    const deleted = await as(app, org.owner).delete(`/organizations/${org.organizationId}`)
    assert.equal(deleted.statusCode, 204)

    for (const role of WRITE_ROLES) {
      expectProblem(await api(role).get('/deals'), 403, 'ORGANIZATION_ACCESS_DENIED')
      expectProblem(await api(role).get(`/deals/${deal.id}`), 403, 'ORGANIZATION_ACCESS_DENIED')
      expectProblem(
        await as(app, org[role]).get(`/organizations/${org.organizationId}`),
        403,
        'ORGANIZATION_ACCESS_DENIED',
      )
      const mine = (await as(app, org[role]).get('/organizations/me')).json()
      assert.ok(mine.every((o: { id: string }) => o.id !== org.organizationId))
    }
    for (const table of [
      'memberships',
      'contacts',
      'companies',
      'deals',
      'tasks',
      'activities',
      'deal_stage_history',
      'deal_totals',
      'deal_created_days',
      'pipeline_stages',
    ]) {
      const [row] = await queryRows<{ n: number }>(
        app.db.db,
        sql`SELECT count(*)::int AS n FROM ${sql.identifier(table)} WHERE organization_id = ${org.organizationId}`,
      )
      assert.equal(row?.n, 0, table)
    }
    const [organization] = await queryRows<{ n: number }>(
      app.db.db,
      sql`SELECT count(*)::int AS n FROM organizations WHERE id = ${org.organizationId}`,
    )
    assert.equal(organization?.n, 0)
    // Users stay, and their other organizations are untouched.
    assert.equal((await as(app, org.member).get('/auth/me')).statusCode, 200)
    const neighbourRead = await as(app, neighbour, neighbour.organizationId).get(`/deals/${neighbourDeal.id}`)
    assert.deepEqual(neighbourRead.json(), neighbourDeal)
    const summary = (
      await as(app, neighbour, neighbour.organizationId).get('/analytics/deals/summary')
    ).json()
    assert.equal(summary.by_status.new.count, 1)
  })

  it('makes access end at once on every instance sharing Redis', {
    skip: !process.env.REDIS_URL && 'needs REDIS_URL',
  }, async () => {
    const secretKey = randomBytes(32).toString('hex')
    // One database for both (PostgreSQL: the run's; PGlite: one shared in-memory database).
    const shared = process.env.TEST_DATABASE_URL
      ? undefined
      : await openDatabase({ pgliteDataDir: 'memory://' })
    const options = {
      config: { redisUrl: process.env.REDIS_URL, secretKey },
      ...(shared ? { database: shared } : {}),
    }
    const first = await buildTestApp(options)
    const second = await buildTestApp(options)
    try {
      await Promise.all([first.membershipCache.listening, second.membershipCache.listening])
      const owner = await register(first)
      const member = await register(first)
      await addMember(first, owner, owner.organizationId, member, 'member')
      assert.equal((await as(second, member, owner.organizationId).get('/deals')).statusCode, 200)
      assert.equal((await as(first, owner).delete(`/organizations/${owner.organizationId}`)).statusCode, 204)
      // The other instance hears of it through Redis pub/sub: one message hop after the commit (the same
      // bound as the deleted-user test), never the cache's TTL.
      let after = await as(second, member, owner.organizationId).get('/deals')
      for (let waited = 0; after.statusCode === 200 && waited < 1_000; waited += 20) {
        await new Promise((resolve) => setTimeout(resolve, 20))
        after = await as(second, member, owner.organizationId).get('/deals')
      }
      expectProblem(after, 403, 'ORGANIZATION_ACCESS_DENIED')
    } finally {
      await first.close()
      await second.close()
      await shared?.close()
    }
  })
})
