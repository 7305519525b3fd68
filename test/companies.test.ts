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
import { NOT_AN_OBJECT, sendJson } from './json-bodies.js'
import {
  assertSameProblem,
  assertValidationError,
  missingId,
  otherUser,
  ownedRecordRoleSuite,
  WRITE_ROLES,
  writesAll,
} from './record-helpers.js'

let app: FastifyInstance
before(async () => {
  app = await buildTestApp()
})
after(() => app.close())

const COMPANY_KEYS = ['created_at', 'domain', 'id', 'name', 'organization_id', 'owner_id', 'updated_at']

let domainCounter = 0
/** A domain nobody else in the run uses. */
function uniqueDomain(): string {
  domainCounter += 1
  return `c${domainCounter}-${Math.random().toString(36).slice(2, 8)}.example.com`
}

async function createCompany(
  application: FastifyInstance,
  user: TestUser,
  organizationId: string,
  fields: Record<string, unknown> = {},
) {
  const response = await as(application, user, organizationId).post('/companies', {
    name: 'Acme',
    ...fields,
  })
  if (response.statusCode !== 201) throw new Error(`create company: ${response.statusCode} ${response.body}`)
  return response.json()
}

describe('companies: create, read, update, delete', () => {
  it('creates a company owned by the caller, normalizes its domain and reads it back', async () => {
    const org = await organizationWithRoles(app)
    const api = as(app, org.member, org.organizationId)
    const created = await api.post('/companies', { name: 'Acme Inc', domain: '  Sub.ACME-corp.Example.COM ' })
    assert.equal(created.statusCode, 201, created.body)
    const company = created.json()
    assert.deepEqual(Object.keys(company).sort(), COMPANY_KEYS)
    assert.equal(company.owner_id, org.member.id)
    assert.equal(company.organization_id, org.organizationId)
    assert.equal(company.domain, 'sub.acme-corp.example.com')
    const read = await as(app, org.manager, org.organizationId).get(`/companies/${company.id}`)
    assert.deepEqual(read.json(), company)
  })

  it('updates given fields only; null clears the domain; delete is 204 then 404', async () => {
    const org = await organizationWithRoles(app)
    const api = as(app, org.owner, org.organizationId)
    const company = await createCompany(app, org.owner, org.organizationId, { domain: uniqueDomain() })
    const renamed = await api.patch(`/companies/${company.id}`, { name: 'Renamed' })
    assert.equal(renamed.json().name, 'Renamed')
    assert.equal(renamed.json().domain, company.domain)
    const cleared = await api.patch(`/companies/${company.id}`, { domain: null })
    assert.equal(cleared.json().domain, null)
    assert.equal(cleared.json().name, 'Renamed')
    assert.deepEqual((await api.patch(`/companies/${company.id}`, {})).json(), cleared.json())
    assert.equal((await api.delete(`/companies/${company.id}`)).statusCode, 204)
    expectProblem(await api.get(`/companies/${company.id}`), 404, 'COMPANY_NOT_FOUND')
  })

  it('lists with search in name and domain (literal % and _), owner filter, order and pages', async () => {
    const org = await organizationWithRoles(app)
    const a = await createCompany(app, org.owner, org.organizationId, {
      name: 'Beta 100%',
      domain: 'beta.io',
    })
    const b = await createCompany(app, org.member, org.organizationId, {
      name: 'Alpha x_y',
      domain: 'xy.org',
    })
    const c = await createCompany(app, org.owner, org.organizationId, { name: 'Gamma', domain: null })
    const api = as(app, org.manager, org.organizationId)
    const ids = async (query: string) =>
      (await api.get(`/companies${query}`)).json().items.map((x: { id: string }) => x.id)
    assert.deepEqual(await ids(''), [c.id, b.id, a.id])
    assert.deepEqual(await ids('?order_by=name&order=asc'), [b.id, a.id, c.id])
    assert.deepEqual(await ids('?search=BETA.IO'), [a.id])
    assert.deepEqual(await ids('?search=100%25'), [a.id])
    assert.deepEqual(await ids('?search=x_y'), [b.id])
    assert.deepEqual(await ids('?search=_'), [b.id])
    assert.deepEqual(await ids(`?owner_id=${org.member.id}`), [b.id])
    const page = (await api.get('/companies?page=2&page_size=2')).json()
    assert.deepEqual(
      { total: page.total, pages: page.pages, ids: page.items.map((x: { id: string }) => x.id) },
      { total: 3, pages: 2, ids: [a.id] },
    )
  })
})

describe('companies: domain rules', () => {
  it('refuses a domain another company of the organization has (any case), allows it elsewhere', async () => {
    const org = await organizationWithRoles(app)
    const stranger = await register(app)
    const domain = uniqueDomain()
    const first = await createCompany(app, org.owner, org.organizationId, { domain })
    const api = as(app, org.owner, org.organizationId)
    expectProblem(
      await api.post('/companies', { name: 'Dup', domain: domain.toUpperCase() }),
      409,
      'COMPANY_DOMAIN_EXISTS',
    )
    const other = await createCompany(app, org.owner, org.organizationId, { domain: uniqueDomain() })
    expectProblem(
      await api.patch(`/companies/${other.id}`, { domain: ` ${domain} ` }),
      409,
      'COMPANY_DOMAIN_EXISTS',
    )
    assert.deepEqual((await api.get(`/companies/${other.id}`)).json(), other)
    // Other organizations, and companies without a domain, are not affected.
    await createCompany(app, stranger, stranger.organizationId, { domain })
    await createCompany(app, org.owner, org.organizationId, { domain: null })
    await createCompany(app, org.owner, org.organizationId)
    // Freeing the domain makes it available again.
    await api.patch(`/companies/${first.id}`, { domain: null })
    assert.equal((await api.patch(`/companies/${other.id}`, { domain })).statusCode, 200)
  })

  it('gives exactly one 201 among parallel creations with one domain, the rest 409', async () => {
    const org = await organizationWithRoles(app)
    const domain = uniqueDomain()
    const users = [org.owner, org.admin, org.manager, org.member]
    const responses = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        as(app, users[i % 4] as TestUser, org.organizationId).post('/companies', { name: `P${i}`, domain }),
      ),
    )
    const statuses = responses.map((r) => r.statusCode).sort()
    assert.deepEqual(statuses, [201, ...Array(11).fill(409)])
    for (const r of responses) if (r.statusCode === 409) expectProblem(r, 409, 'COMPANY_DOMAIN_EXISTS')
    const list = await as(app, org.owner, org.organizationId).get(`/companies?search=${domain}`)
    assert.equal(list.json().total, 1)
  })

  it('gives one success among parallel renames of different companies to one domain', async () => {
    const org = await organizationWithRoles(app)
    const companies = await Promise.all(
      Array.from({ length: 6 }, () =>
        createCompany(app, org.owner, org.organizationId, { domain: uniqueDomain() }),
      ),
    )
    const domain = uniqueDomain()
    const responses = await Promise.all(
      companies.map((c) => as(app, org.owner, org.organizationId).patch(`/companies/${c.id}`, { domain })),
    )
    assert.deepEqual(responses.map((r) => r.statusCode).sort(), [200, 409, 409, 409, 409, 409])
  })

  it('accepts host names exactly as spec §11 defines them and refuses the rest with 400', async () => {
    const org = await organizationWithRoles(app)
    const api = as(app, org.owner, org.organizationId)
    const label63 = 'a'.repeat(63)
    const accepted = [
      'a.co',
      '1-2.x9',
      `${label63}.com`,
      // 253 characters in all: 3 × 63 + 3 dots + 61
      `${label63}.${label63}.${label63}.${'b'.repeat(61)}`,
      'xn--bcher-kva.example',
    ]
    for (const domain of accepted) {
      const response = await api.post('/companies', { name: 'ok', domain })
      assert.equal(response.statusCode, 201, `${domain}: ${response.body}`)
      assert.equal(response.json().domain, domain)
    }
    const refused = [
      'localhost',
      'acme.com.',
      '.acme.com',
      'acme..com',
      '-acme.com',
      'acme-.com',
      'acme.-com',
      `${'a'.repeat(64)}.com`,
      `${label63}.${label63}.${label63}.${'b'.repeat(62)}`,
      'https://acme.com',
      'acme.com/path',
      'user@acme.com',
      'acme.com:8080',
      'ac me.com',
      'acmé.com',
      'acme_corp.com',
      '',
      '   ',
      '*.acme.com',
      'a'.repeat(301),
    ]
    const company = await createCompany(app, org.owner, org.organizationId)
    for (const domain of refused) {
      assertValidationError(await api.post('/companies', { name: 'bad', domain }), `create ${domain}`)
      assertValidationError(await api.patch(`/companies/${company.id}`, { domain }), `patch ${domain}`)
    }
    assert.deepEqual((await api.get(`/companies/${company.id}`)).json(), company)
  })
})

describe('companies: contacts and deals', () => {
  it('links contacts by company_id (null unlinks), filters contacts and deals by company', async () => {
    const org = await organizationWithRoles(app)
    const api = as(app, org.member, org.organizationId)
    const acme = await createCompany(app, org.owner, org.organizationId, { domain: uniqueDomain() })
    const globex = await createCompany(app, org.owner, org.organizationId)
    const linked = await createContact(app, org.member, org.organizationId, {
      company_id: acme.id.toUpperCase(),
    })
    assert.equal(linked.company_id, acme.id)
    const later = await createContact(app, org.member, org.organizationId)
    assert.equal(later.company_id, null)
    const moved = await api.patch(`/contacts/${later.id}`, { company_id: acme.id })
    assert.equal(moved.json().company_id, acme.id)
    const elsewhere = await createContact(app, org.member, org.organizationId, { company_id: globex.id })
    const dealA = await createDeal(app, org.member, org.organizationId, { contact_id: linked.id })
    const dealB = await createDeal(app, org.member, org.organizationId, { contact_id: later.id })
    await createDeal(app, org.member, org.organizationId, { contact_id: elsewhere.id })
    const contactIds = (await api.get(`/contacts?company_id=${acme.id}&order=asc`)).json()
    assert.deepEqual(
      contactIds.items.map((c: { id: string }) => c.id),
      [linked.id, later.id],
    )
    assert.equal(contactIds.total, 2)
    const deals = (await api.get(`/deals?company_id=${acme.id}&order=asc`)).json()
    assert.deepEqual(
      deals.items.map((d: { id: string }) => d.id),
      [dealA.id, dealB.id],
    )
    assert.equal(deals.total, 2)
    const unlinked = await api.patch(`/contacts/${later.id}`, { company_id: null })
    assert.equal(unlinked.json().company_id, null)
    assert.equal((await api.get(`/deals?company_id=${acme.id}`)).json().total, 1)
    assert.equal((await api.get(`/deals?company_id=${missingId()}`)).json().total, 0)
  })

  it('refuses to delete a company while a contact references it (409), then deletes it', async () => {
    const org = await organizationWithRoles(app)
    const api = as(app, org.owner, org.organizationId)
    const company = await createCompany(app, org.owner, org.organizationId)
    const contact = await createContact(app, org.owner, org.organizationId, { company_id: company.id })
    expectProblem(await api.delete(`/companies/${company.id}`), 409, 'COMPANY_HAS_CONTACTS')
    assert.deepEqual((await api.get(`/companies/${company.id}`)).json(), company)
    await api.patch(`/contacts/${contact.id}`, { company_id: null })
    assert.equal((await api.delete(`/companies/${company.id}`)).statusCode, 204)
  })

  it('never deletes a company that a contact is linked to concurrently', async () => {
    const org = await organizationWithRoles(app)
    const api = as(app, org.owner, org.organizationId)
    for (let round = 0; round < 4; round++) {
      const company = await createCompany(app, org.owner, org.organizationId)
      const [deleted, linked] = await Promise.all([
        api.delete(`/companies/${company.id}`),
        api.post('/contacts', { name: 'Racer', company_id: company.id }),
      ])
      // Either the company went first (the link is a 404) or the link did (the delete is a 409).
      if (deleted.statusCode === 204) expectProblem(linked, 404, 'COMPANY_NOT_FOUND')
      else {
        expectProblem(deleted, 409, 'COMPANY_HAS_CONTACTS')
        assert.equal(linked.statusCode, 201)
      }
    }
  })
})

describe('companies: roles', () => {
  for (const role of WRITE_ROLES) {
    const allowed = writesAll(role)
    describe(`as ${role}`, () => {
      it(`creates a company, becomes its owner, ${allowed ? 'may' : 'may not'} create one for another member`, async () => {
        const org = await organizationWithRoles(app)
        const api = as(app, org[role], org.organizationId)
        const mine = await api.post('/companies', { name: 'Mine' })
        assert.equal(mine.statusCode, 201)
        assert.equal(mine.json().owner_id, org[role].id)
        const other = otherUser(org, role)
        const theirs = await api.post('/companies', { name: 'Theirs', owner_id: other.id })
        if (allowed) assert.equal(theirs.json().owner_id, other.id)
        else expectProblem(theirs, 403, 'FORBIDDEN')
        const own = mine.json()
        assert.equal((await api.patch(`/companies/${own.id}`, { name: 'Renamed' })).statusCode, 200)
        assert.equal((await api.delete(`/companies/${own.id}`)).statusCode, 204)
      })

      it('links its contacts to any company of the organization', async () => {
        const org = await organizationWithRoles(app)
        const company = await createCompany(app, otherUser(org, role), org.organizationId)
        const contact = await createContact(app, org[role], org.organizationId, { company_id: company.id })
        assert.equal(contact.company_id, company.id)
      })

      ownedRecordRoleSuite(() => app, role, {
        name: 'company',
        path: '/companies',
        create: createCompany,
        createBody: (_existing, ownerId) => ({ name: 'X', owner_id: ownerId }),
        othersRecord: { fields: { name: 'Theirs' }, change: { name: 'Changed' }, changedField: 'name' },
      })
    })
  }

  it('lets every role read every company, refuses non-members with 403', async () => {
    const org = await organizationWithRoles(app)
    const companies = []
    for (const role of WRITE_ROLES) companies.push(await createCompany(app, org[role], org.organizationId))
    for (const role of WRITE_ROLES) {
      const api = as(app, org[role], org.organizationId)
      assert.deepEqual((await api.get('/companies?order=asc')).json().items, companies)
      for (const company of companies)
        assert.deepEqual((await api.get(`/companies/${company.id}`)).json(), company)
    }
    const outsider = as(app, org.outsider, org.organizationId)
    expectProblem(await outsider.get('/companies'), 403, 'ORGANIZATION_ACCESS_DENIED')
    expectProblem(await outsider.get(`/companies/${companies[0].id}`), 403, 'ORGANIZATION_ACCESS_DENIED')
    expectProblem(await outsider.post('/companies', { name: 'X' }), 403, 'ORGANIZATION_ACCESS_DENIED')
  })
})

describe('companies: tenant isolation', () => {
  for (const role of WRITE_ROLES) {
    it(`answers a foreign company id like a missing one, in paths, bodies and filters (as ${role})`, async () => {
      const org = await organizationWithRoles(app)
      const stranger = await register(app)
      const foreign = await createCompany(app, stranger, stranger.organizationId, { domain: uniqueDomain() })
      const foreignContact = await createContact(app, stranger, stranger.organizationId, {
        company_id: foreign.id,
      })
      await createDeal(app, stranger, stranger.organizationId, { contact_id: foreignContact.id })
      const api = as(app, org[role], org.organizationId)
      const missing = missingId()
      const contact = await createContact(app, org[role], org.organizationId)
      const pairs = [
        [await api.get(`/companies/${foreign.id}`), await api.get(`/companies/${missing}`)],
        [
          await api.patch(`/companies/${foreign.id}`, { name: 'Hijacked' }),
          await api.patch(`/companies/${missing}`, { name: 'Hijacked' }),
        ],
        [await api.delete(`/companies/${foreign.id}`), await api.delete(`/companies/${missing}`)],
        [
          await api.post('/contacts', { name: 'X', company_id: foreign.id }),
          await api.post('/contacts', { name: 'X', company_id: missing }),
        ],
        [
          await api.patch(`/contacts/${contact.id}`, { company_id: foreign.id }),
          await api.patch(`/contacts/${contact.id}`, { company_id: missing }),
        ],
      ] as const
      for (const [foreignResponse, missingResponse] of pairs) {
        expectProblem(foreignResponse, 404, 'COMPANY_NOT_FOUND')
        assertSameProblem(foreignResponse, missingResponse)
      }
      assert.equal((await api.get(`/contacts?company_id=${foreign.id}`)).json().total, 0)
      assert.equal((await api.get(`/deals?company_id=${foreign.id}`)).json().total, 0)
      assert.equal((await api.get(`/companies?search=${foreign.domain}`)).json().total, 0)
      assert.equal((await api.get(`/contacts/${contact.id}`)).json().company_id, null)
      const reread = await as(app, stranger, stranger.organizationId).get(`/companies/${foreign.id}`)
      assert.deepEqual(reread.json(), foreign)
    })
  }
})

describe('companies: bad input is 400 VALIDATION_ERROR', () => {
  it('refuses bad fields, unknown fields, bad queries and non-object bodies', async () => {
    const org = await organizationWithRoles(app)
    const api = as(app, org.owner, org.organizationId)
    const company = await createCompany(app, org.owner, org.organizationId)
    const creates = [
      {},
      { name: '' },
      { name: 'x'.repeat(256) },
      { name: null },
      { name: 5 },
      { name: 'ok', domain: 5 },
      { name: 'ok', domain: ['a.com'] },
      { name: 'ok', owner_id: 'nope' },
      { name: 'ok', owner_id: null },
      { name: 'ok', organization_id: org.organizationId },
      { name: 'ok', id: missingId() },
      { name: 'ok', extra: 1 },
    ]
    for (const body of creates)
      assertValidationError(await api.post('/companies', body), `create ${JSON.stringify(body)}`)
    const patches = [{ name: '' }, { name: null }, { domain: 1 }, { owner_id: null }, { created_at: 'x' }]
    for (const body of patches)
      assertValidationError(
        await api.patch(`/companies/${company.id}`, body),
        `patch ${JSON.stringify(body)}`,
      )
    for (const text of NOT_AN_OBJECT) {
      assertValidationError(
        await sendJson(app, org.owner, org.organizationId, 'POST', '/api/v1/companies', text),
        text,
      )
    }
    for (const query of [
      '?page=0',
      '?page_size=101',
      '?order_by=domain',
      '?order=up',
      '?owner_id=1',
      '?x=1',
    ]) {
      assertValidationError(await api.get(`/companies${query}`), query)
    }
    assertValidationError(await api.get('/companies/not-a-uuid'), 'path id')
    assertValidationError(await api.get('/contacts?company_id=nope'), 'contacts filter')
    assertValidationError(await api.get('/deals?company_id=nope'), 'deals filter')
    assertValidationError(await api.post('/contacts', { name: 'x', company_id: 'nope' }), 'contacts body')
    assertValidationError(await api.post('/contacts', { name: 'x', company_id: 5 }), 'contacts body number')
    assert.deepEqual((await api.get(`/companies/${company.id}`)).json(), company)
  })
})
