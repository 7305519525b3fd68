import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import {
  API,
  as,
  auth,
  buildTestApp,
  createContact,
  createDeal,
  expectProblem,
  PASSWORD,
  register,
  type TestUser,
  uniqueEmail,
} from './helpers.js'

// Issue 8 §2: every one of these reached the database and came back as a 500. Each must be a 400 problem body
// naming the field, on both databases.

const NUL = 'a\u0000b'
const LONE_SURROGATE = 'a\ud800b'

function expectFieldError(response: Parameters<typeof expectProblem>[0], field: string) {
  const body = expectProblem(response, 400, 'VALIDATION_ERROR')
  const fields = (body.errors ?? []).map((error: { field: string }) => error.field)
  assert.ok(fields.includes(field), `expected an error on ${field}, got ${JSON.stringify(body.errors)}`)
}

describe('bad text: NUL and lone surrogates are a 400 naming the field', () => {
  let app: FastifyInstance
  let owner: TestUser
  let org: string
  let contactId: string
  let dealId: string
  let taskId: string

  before(async () => {
    app = await buildTestApp()
    owner = await register(app)
    org = owner.organizationId
    contactId = (await createContact(app, owner, org)).id
    dealId = (await createDeal(app, owner, org, { contact_id: contactId })).id
    const task = await as(app, owner, org).post('/tasks', { deal_id: dealId, title: 'Call' })
    taskId = task.json().id
  })
  after(() => app.close())

  for (const [label, bad] of [
    ['NUL', NUL],
    ['a lone surrogate', LONE_SURROGATE],
  ] as const) {
    it(`refuses ${label} in register email, name and organization name`, async () => {
      for (const [field, value] of [
        ['email', `x${bad}@example.test`],
        ['name', bad],
        ['organization_name', bad],
      ] as const) {
        const payload = {
          email: uniqueEmail(),
          password: PASSWORD,
          name: 'Name',
          organization_name: 'Org',
          [field]: value,
        }
        const response = await app.inject({ method: 'POST', url: `${API}/auth/register`, payload })
        expectFieldError(response, `body.${field}`)
      }
    })

    it(`refuses ${label} in the login email and password`, async () => {
      for (const [field, value] of [
        ['email', `${owner.email}${bad}`],
        ['password', `${PASSWORD}${bad}`],
      ] as const) {
        const payload = { email: owner.email, password: PASSWORD, [field]: value }
        const response = await app.inject({ method: 'POST', url: `${API}/auth/login`, payload })
        expectFieldError(response, `body.${field}`)
      }
    })

    it(`refuses ${label} in an organization name and a member email`, async () => {
      expectFieldError(await as(app, owner).post('/organizations', { name: bad }), 'body.name')
      expectFieldError(
        await as(app, owner).post(`/organizations/${org}/members`, { email: `m${bad}@example.test` }),
        'body.email',
      )
    })

    it(`refuses ${label} in contact name, email and phone (create and update)`, async () => {
      const api = as(app, owner, org)
      expectFieldError(await api.post('/contacts', { name: bad }), 'body.name')
      expectFieldError(await api.post('/contacts', { name: 'C', phone: bad }), 'body.phone')
      expectFieldError(await api.post('/contacts', { name: 'C', email: `c${bad}@x.test` }), 'body.email')
      expectFieldError(await api.patch(`/contacts/${contactId}`, { name: bad }), 'body.name')
      expectFieldError(await api.patch(`/contacts/${contactId}`, { phone: bad }), 'body.phone')
    })

    it(`refuses ${label} in deal title (create and update)`, async () => {
      const api = as(app, owner, org)
      expectFieldError(await api.post('/deals', { contact_id: contactId, title: bad }), 'body.title')
      expectFieldError(await api.patch(`/deals/${dealId}`, { title: bad }), 'body.title')
    })

    it(`refuses ${label} in task title and description (create and update)`, async () => {
      const api = as(app, owner, org)
      expectFieldError(await api.post('/tasks', { deal_id: dealId, title: bad }), 'body.title')
      expectFieldError(
        await api.post('/tasks', { deal_id: dealId, title: 'T', description: bad }),
        'body.description',
      )
      expectFieldError(await api.patch(`/tasks/${taskId}`, { title: bad }), 'body.title')
      expectFieldError(await api.patch(`/tasks/${taskId}`, { description: bad }), 'body.description')
    })

    it(`refuses ${label} in comment text`, async () => {
      const response = await as(app, owner, org).post(`/deals/${dealId}/activities`, {
        type: 'comment',
        payload: { text: bad },
      })
      expectFieldError(response, 'body.payload.text')
    })
  }

  it('refuses NUL in every search parameter', async () => {
    const api = as(app, owner, org)
    for (const path of ['/contacts', '/deals']) {
      expectFieldError(await api.get(`${path}?search=a%00b`), 'querystring.search')
    }
  })

  it('answers a 4xx problem to a search that is not UTF-8 (a surrogate in CESU-8 bytes)', async () => {
    for (const path of ['/contacts', '/deals']) {
      const response = await as(app, owner, org).get(`${path}?search=%ED%A0%80`)
      assert.ok(response.statusCode < 500, `${response.statusCode} ${response.body}`)
      if (response.statusCode >= 400) expectProblem(response, response.statusCode, 'VALIDATION_ERROR')
    }
  })

  it('refuses NUL in a path parameter and in X-Organization-Id', async () => {
    expectProblem(await as(app, owner, org).get('/contacts/%00'), 400, 'VALIDATION_ERROR')
    const response = await app.inject({
      method: 'GET',
      url: `${API}/contacts`,
      headers: { ...auth(owner), 'x-organization-id': `${org.slice(0, 35)}%00` },
    })
    expectProblem(response, 400, 'ORGANIZATION_HEADER_REQUIRED')
  })

  it('keeps well-formed astral characters and ordinary control characters other than NUL', async () => {
    const name = 'Zoë 😀 \t tab'
    const created = await createContact(app, owner, org, { name })
    assert.equal(created.name, name)
  })
})

describe('ids: only the strict 36-character UUID form, lower-cased at the edge', () => {
  let app: FastifyInstance
  let owner: TestUser
  let org: string
  let contactId: string
  let dealId: string
  let taskId: string

  before(async () => {
    app = await buildTestApp()
    owner = await register(app)
    org = owner.organizationId
    contactId = (await createContact(app, owner, org)).id
    dealId = (await createDeal(app, owner, org, { contact_id: contactId })).id
    taskId = (await as(app, owner, org).post('/tasks', { deal_id: dealId, title: 'Call' })).json().id
  })
  after(() => app.close())

  const urn = (id: string) => `urn:uuid:${id}`

  it('refuses urn:uuid ids in paths', async () => {
    const api = as(app, owner, org)
    for (const path of [
      `/contacts/${urn(contactId)}`,
      `/deals/${urn(dealId)}`,
      `/tasks/${urn(taskId)}`,
      `/deals/${urn(dealId)}/activities`,
    ]) {
      expectFieldError(await api.get(path), path.endsWith('activities') ? 'params.deal_id' : 'params.id')
    }
    expectFieldError(await api.patch(`/contacts/${urn(contactId)}`, { name: 'x' }), 'params.id')
    expectFieldError(await api.delete(`/deals/${urn(dealId)}`), 'params.id')
    expectFieldError(
      await as(app, owner).patch(`/organizations/${org}/members/${urn(owner.id)}`, { role: 'admin' }),
      'params.user_id',
    )
    expectProblem(await as(app, owner).get(`/organizations/${urn(org)}/members`), 400, 'VALIDATION_ERROR')
  })

  it('refuses urn:uuid ids in query filters', async () => {
    const api = as(app, owner, org)
    expectFieldError(await api.get(`/contacts?owner_id=${urn(owner.id)}`), 'querystring.owner_id')
    expectFieldError(await api.get(`/deals?owner_id=${urn(owner.id)}`), 'querystring.owner_id')
    expectFieldError(await api.get(`/deals?contact_id=${urn(contactId)}`), 'querystring.contact_id')
    expectFieldError(await api.get(`/tasks?deal_id=${urn(dealId)}`), 'querystring.deal_id')
  })

  it('refuses urn:uuid ids in body fields', async () => {
    const api = as(app, owner, org)
    expectFieldError(await api.post('/contacts', { name: 'C', owner_id: urn(owner.id) }), 'body.owner_id')
    expectFieldError(await api.patch(`/contacts/${contactId}`, { owner_id: urn(owner.id) }), 'body.owner_id')
    expectFieldError(await api.post('/deals', { contact_id: urn(contactId), title: 'D' }), 'body.contact_id')
    expectFieldError(await api.patch(`/deals/${dealId}`, { contact_id: urn(contactId) }), 'body.contact_id')
    expectFieldError(await api.patch(`/deals/${dealId}`, { owner_id: urn(owner.id) }), 'body.owner_id')
    expectFieldError(await api.post('/tasks', { deal_id: urn(dealId), title: 'T' }), 'body.deal_id')
  })

  it('refuses braces and hyphen-less ids, which PostgreSQL would accept', async () => {
    const api = as(app, owner, org)
    expectFieldError(await api.get(`/contacts/{${contactId}}`), 'params.id')
    expectFieldError(await api.get(`/contacts/${contactId.replaceAll('-', '')}`), 'params.id')
  })

  it('accepts upper-case ids anywhere and answers with the lower-case form', async () => {
    const api = as(app, owner, org.toUpperCase())
    const got = await api.get(`/contacts/${contactId.toUpperCase()}`)
    assert.equal(got.statusCode, 200, got.body)
    assert.equal(got.json().id, contactId)
    const created = await api.post('/deals', {
      contact_id: contactId.toUpperCase(),
      owner_id: owner.id.toUpperCase(),
      title: 'Upper',
    })
    assert.equal(created.statusCode, 201, created.body)
    assert.equal(created.json().contact_id, contactId)
    assert.equal(created.json().owner_id, owner.id)
    const filtered = await api.get(`/deals?contact_id=${contactId.toUpperCase()}`)
    assert.equal(filtered.statusCode, 200)
    assert.equal(filtered.json().total, 2)
  })
})

describe('emails: one normalization for users and contacts', () => {
  let app: FastifyInstance
  before(async () => {
    app = await buildTestApp()
  })
  after(() => app.close())

  it('stores and compares user and contact emails trimmed and lower-cased', async () => {
    const local = `Mixed-${Date.now()}`
    const user = await register(app, { email: `  ${local}@Example.TEST ` })
    assert.equal(user.email, `${local.toLowerCase()}@example.test`)
    const login = await app.inject({
      method: 'POST',
      url: `${API}/auth/login`,
      payload: { email: `${local.toUpperCase()}@EXAMPLE.test`, password: PASSWORD },
    })
    assert.equal(login.statusCode, 200, login.body)
    const contact = await createContact(app, user, user.organizationId, { email: ` Ann@Example.TEST ` })
    assert.equal(contact.email, 'ann@example.test')
    const found = await as(app, user, user.organizationId).get('/contacts?search=ANN@EXAMPLE')
    assert.equal(found.json().total, 1)
  })

  it('refuses the same malformed addresses for users and contacts', async () => {
    const user = await register(app)
    for (const email of ['no-at-sign', 'a@b', 'a b@c.de', `${'x'.repeat(250)}@example.test`]) {
      const registered = await app.inject({
        method: 'POST',
        url: `${API}/auth/register`,
        payload: { email, password: PASSWORD, name: 'N', organization_name: 'O' },
      })
      expectFieldError(registered, 'body.email')
      expectFieldError(
        await as(app, user, user.organizationId).post('/contacts', { name: 'C', email }),
        'body.email',
      )
    }
  })
})
