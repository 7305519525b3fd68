import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import {
  API,
  as,
  buildTestApp,
  createContact,
  createDeal,
  expectProblem,
  organizationWithRoles,
  register,
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

// v1.1 added company_id (spec §11).
const CONTACT_KEYS = [
  'company_id',
  'created_at',
  'email',
  'id',
  'name',
  'organization_id',
  'owner_id',
  'phone',
  'updated_at',
]

describe('contacts: create, read, update, delete', () => {
  it('creates a contact owned by the caller and reads it back', async () => {
    const org = await organizationWithRoles(app)
    const api = as(app, org.member, org.organizationId)
    const created = await api.post('/contacts', {
      name: 'Ann Lee',
      email: 'ann@example.com',
      phone: '+1 555',
    })
    assert.equal(created.statusCode, 201)
    const contact = created.json()
    assert.deepEqual(Object.keys(contact).sort(), CONTACT_KEYS)
    assert.equal(contact.owner_id, org.member.id)
    assert.equal(contact.organization_id, org.organizationId)
    assert.equal(contact.name, 'Ann Lee')
    assert.equal(contact.email, 'ann@example.com')
    assert.equal(contact.phone, '+1 555')
    assert.match(contact.created_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
    const read = await as(app, org.manager, org.organizationId).get(`/contacts/${contact.id}`)
    assert.equal(read.statusCode, 200)
    assert.deepEqual(read.json(), contact)
  })

  it('accepts absent or explicit null email and phone', async () => {
    const org = await organizationWithRoles(app)
    const api = as(app, org.owner, org.organizationId)
    const absent = await api.post('/contacts', { name: 'No contact data' })
    assert.equal(absent.statusCode, 201)
    assert.equal(absent.json().email, null)
    assert.equal(absent.json().phone, null)
    const nulls = await api.post('/contacts', { name: 'Nulls', email: null, phone: null })
    assert.equal(nulls.statusCode, 201)
    assert.equal(nulls.json().email, null)
  })

  it('updates given fields only; null clears email and phone', async () => {
    const org = await organizationWithRoles(app)
    const api = as(app, org.owner, org.organizationId)
    const contact = await createContact(app, org.owner, org.organizationId, {
      name: 'Before',
      email: 'before@example.com',
      phone: '123',
    })
    const renamed = await api.patch(`/contacts/${contact.id}`, { name: 'After' })
    assert.equal(renamed.statusCode, 200)
    assert.equal(renamed.json().name, 'After')
    assert.equal(renamed.json().email, 'before@example.com')
    assert.equal(renamed.json().phone, '123')
    assert.ok(renamed.json().updated_at >= contact.updated_at)
    const cleared = await api.patch(`/contacts/${contact.id}`, { email: null, phone: null })
    assert.equal(cleared.statusCode, 200)
    assert.equal(cleared.json().email, null)
    assert.equal(cleared.json().phone, null)
    assert.equal(cleared.json().name, 'After')
    const reread = await api.get(`/contacts/${contact.id}`)
    assert.deepEqual(reread.json(), cleared.json())
    const unchanged = await api.patch(`/contacts/${contact.id}`, {})
    assert.equal(unchanged.statusCode, 200)
    assert.deepEqual(unchanged.json(), cleared.json())
  })

  it('deletes a contact without deals', async () => {
    const org = await organizationWithRoles(app)
    const api = as(app, org.owner, org.organizationId)
    const contact = await createContact(app, org.owner, org.organizationId)
    const deleted = await api.delete(`/contacts/${contact.id}`)
    assert.equal(deleted.statusCode, 204)
    assert.equal(deleted.body, '')
    expectProblem(await api.get(`/contacts/${contact.id}`), 404, 'CONTACT_NOT_FOUND')
    expectProblem(await api.delete(`/contacts/${contact.id}`), 404, 'CONTACT_NOT_FOUND')
  })

  it('refuses to delete a contact with any deal (409), and deletes it once the deals are gone', async () => {
    const org = await organizationWithRoles(app)
    const api = as(app, org.owner, org.organizationId)
    const contact = await createContact(app, org.owner, org.organizationId)
    const won = await createDeal(app, org.owner, org.organizationId, { contact_id: contact.id, amount: 5 })
    const lost = await createDeal(app, org.owner, org.organizationId, { contact_id: contact.id })
    assert.equal((await api.patch(`/deals/${won.id}`, { status: 'won' })).statusCode, 200)
    assert.equal((await api.patch(`/deals/${lost.id}`, { status: 'lost' })).statusCode, 200)
    expectProblem(await api.delete(`/contacts/${contact.id}`), 409, 'CONTACT_HAS_DEALS')
    assert.equal((await api.get(`/contacts/${contact.id}`)).statusCode, 200)
    assert.equal((await api.delete(`/deals/${won.id}`)).statusCode, 204)
    expectProblem(await api.delete(`/contacts/${contact.id}`), 409, 'CONTACT_HAS_DEALS')
    assert.equal((await api.delete(`/deals/${lost.id}`)).statusCode, 204)
    assert.equal((await api.delete(`/contacts/${contact.id}`)).statusCode, 204)
  })

  it('never lets a contact be deleted while a deal is created on it concurrently', async () => {
    const org = await organizationWithRoles(app)
    const api = as(app, org.owner, org.organizationId)
    const contacts = await Promise.all(
      Array.from({ length: 6 }, () => createContact(app, org.owner, org.organizationId)),
    )
    const outcomes = await Promise.all(
      contacts.map(async (contact) => {
        const [deal, deletion] = await Promise.all([
          api.post('/deals', { contact_id: contact.id, title: 'Race' }),
          api.delete(`/contacts/${contact.id}`),
        ])
        return { contact, deal, deletion }
      }),
    )
    for (const { contact, deal, deletion } of outcomes) {
      const pair = `${deal.statusCode}/${deletion.statusCode}`
      assert.ok(pair === '201/409' || pair === '404/204', `deal/delete answered ${pair}`)
      const reread = await api.get(`/contacts/${contact.id}`)
      assert.equal(reread.statusCode, deal.statusCode === 201 ? 200 : 404)
    }
  })
})

describe('contacts: list', () => {
  async function seed() {
    const org = await organizationWithRoles(app)
    const specs = [
      { by: org.owner, name: 'alpha', email: 'alpha@one.test' },
      { by: org.member, name: 'bravo', email: 'b100%off@two.test' },
      { by: org.member, name: 'charlie_x', email: null },
      { by: org.manager, name: 'delta', email: 'CharlieX@three.test' },
      { by: org.owner, name: 'echo 50%', email: null },
    ]
    const created = []
    for (const { by, ...fields } of specs)
      created.push(await createContact(app, by, org.organizationId, fields))
    return { org, api: as(app, org.member, org.organizationId), created }
  }
  const names = (response: { json(): { items: { name: string }[] } }) =>
    response.json().items.map((item) => item.name)

  it('pages newest first by default with total and pages', async () => {
    const { api, created } = await seed()
    const first = await api.get('/contacts?page_size=2')
    assert.equal(first.statusCode, 200)
    const body = first.json()
    assert.equal(body.total, 5)
    assert.equal(body.pages, 3)
    assert.equal(body.page, 1)
    assert.equal(body.page_size, 2)
    const all = await api.get('/contacts')
    assert.equal(all.json().page_size, 20)
    assert.deepEqual(
      all.json().items.map((c: { id: string }) => c.id),
      created.map((c) => c.id).reverse(),
    )
    const third = await api.get('/contacts?page_size=2&page=3')
    assert.deepEqual(names(third), ['alpha'])
    const past = await api.get('/contacts?page_size=2&page=4')
    assert.equal(past.statusCode, 200)
    assert.deepEqual(past.json().items, [])
    assert.equal(past.json().total, 5)
    assert.equal(past.json().pages, 3)
  })

  it('sorts by name or created_at in either order', async () => {
    const { api } = await seed()
    const byNameAsc = ['alpha', 'bravo', 'charlie_x', 'delta', 'echo 50%']
    assert.deepEqual(names(await api.get('/contacts?order_by=name&order=asc')), byNameAsc)
    assert.deepEqual(names(await api.get('/contacts?order_by=name')), [...byNameAsc].reverse())
    assert.deepEqual(names(await api.get('/contacts?order_by=created_at&order=asc')), [
      'alpha',
      'bravo',
      'charlie_x',
      'delta',
      'echo 50%',
    ])
  })

  it('breaks ties by id in the direction of the order', async () => {
    const org = await organizationWithRoles(app)
    const api = as(app, org.owner, org.organizationId)
    const ids: string[] = []
    for (let i = 0; i < 4; i++)
      ids.push((await createContact(app, org.owner, org.organizationId, { name: 'same' })).id)
    const sorted = [...ids].sort()
    const asc = (await api.get('/contacts?order_by=name&order=asc'))
      .json()
      .items.map((c: { id: string }) => c.id)
    const desc = (await api.get('/contacts?order_by=name&order=desc'))
      .json()
      .items.map((c: { id: string }) => c.id)
    assert.deepEqual(asc, sorted)
    assert.deepEqual(desc, [...sorted].reverse())
    const paged = []
    for (let page = 1; page <= 4; page++) {
      paged.push(
        ...(await api.get(`/contacts?order_by=name&order=asc&page_size=1&page=${page}`)).json().items,
      )
    }
    assert.deepEqual(
      paged.map((c) => c.id),
      sorted,
    )
  })

  it('searches name and email case-insensitively, with % and _ literal', async () => {
    const { api } = await seed()
    const search = async (text: string) =>
      names(await api.get(`/contacts?order_by=name&order=asc&search=${encodeURIComponent(text)}`))
    assert.deepEqual(await search('ALPH'), ['alpha'])
    assert.deepEqual(await search('charliex'), ['delta']) // email match, case-insensitive
    assert.deepEqual(await search('charlie'), ['charlie_x', 'delta'])
    assert.deepEqual(await search('_'), ['charlie_x'])
    assert.deepEqual(await search('e_x'), ['charlie_x']) // `_` is not "any character": "CharlieX" does not match
    assert.deepEqual(await search('%'), ['bravo', 'echo 50%'])
    assert.deepEqual(await search('0%o'), ['bravo'])
    assert.deepEqual(await search('\\'), [])
    assert.deepEqual(await search('zzz'), [])
    assert.deepEqual(await search(''), ['alpha', 'bravo', 'charlie_x', 'delta', 'echo 50%'])
  })

  it('filters by owner, and total and pages count all filters', async () => {
    const { org, api } = await seed()
    const mine = await api.get(`/contacts?owner_id=${org.member.id}&order_by=name&order=asc`)
    assert.deepEqual(names(mine), ['bravo', 'charlie_x'])
    assert.equal(mine.json().total, 2)
    const paged = await api.get(`/contacts?owner_id=${org.owner.id}&search=E&page_size=1&page=2`)
    assert.equal(paged.json().total, 2) // alpha and echo 50%: both owned by the owner and containing "e"
    assert.equal(paged.json().pages, 2)
    assert.equal(paged.json().items.length, 1)
    const none = await api.get(`/contacts?owner_id=${org.admin.id}`)
    assert.deepEqual(none.json(), {
      items: [],
      total: 0,
      page: 1,
      page_size: 20,
      pages: 0,
      next_cursor: null,
    })
  })
})

describe('contacts: roles', () => {
  for (const role of WRITE_ROLES) {
    const allowed = writesAll(role)
    describe(`as ${role}`, () => {
      it('creates a contact and becomes its owner', async () => {
        const org = await organizationWithRoles(app)
        const created = await as(app, org[role], org.organizationId).post('/contacts', { name: 'Mine' })
        assert.equal(created.statusCode, 201)
        assert.equal(created.json().owner_id, org[role].id)
        const explicit = await as(app, org[role], org.organizationId).post('/contacts', {
          name: 'Mine too',
          owner_id: org[role].id.toUpperCase(),
        })
        assert.equal(explicit.statusCode, 201)
        assert.equal(explicit.json().owner_id, org[role].id)
      })

      it(`${allowed ? 'may' : 'may not'} create a contact for another member`, async () => {
        const org = await organizationWithRoles(app)
        const other = otherUser(org, role)
        const response = await as(app, org[role], org.organizationId).post('/contacts', {
          name: 'For someone else',
          owner_id: other.id,
        })
        if (allowed) {
          assert.equal(response.statusCode, 201)
          assert.equal(response.json().owner_id, other.id)
        } else {
          expectProblem(response, 403, 'FORBIDDEN')
        }
        const list = await as(app, org.owner, org.organizationId).get(`/contacts?owner_id=${other.id}`)
        assert.equal(list.json().total, allowed ? 1 : 0)
      })

      it('updates and deletes its own contact', async () => {
        const org = await organizationWithRoles(app)
        const api = as(app, org[role], org.organizationId)
        const contact = await createContact(app, org[role], org.organizationId)
        const updated = await api.patch(`/contacts/${contact.id}`, {
          name: 'Renamed',
          owner_id: org[role].id,
        })
        assert.equal(updated.statusCode, 200)
        assert.equal(updated.json().name, 'Renamed')
        assert.equal((await api.delete(`/contacts/${contact.id}`)).statusCode, 204)
        expectProblem(await api.get(`/contacts/${contact.id}`), 404, 'CONTACT_NOT_FOUND')
      })

      ownedRecordRoleSuite(() => app, role, {
        name: 'contact',
        path: '/contacts',
        create: createContact,
        createBody: (_existing, ownerId) => ({ name: 'X', owner_id: ownerId }),
        othersRecord: { fields: { name: 'Theirs' }, change: { name: 'Changed' }, changedField: 'name' },
      })
    })
  }

  it('lets every role read every contact, and refuses non-members with 403', async () => {
    const org = await organizationWithRoles(app)
    const contacts = []
    for (const role of WRITE_ROLES) contacts.push(await createContact(app, org[role], org.organizationId))
    for (const role of WRITE_ROLES) {
      const api = as(app, org[role], org.organizationId)
      const list = await api.get('/contacts?order_by=created_at&order=asc')
      assert.equal(list.statusCode, 200)
      assert.deepEqual(list.json().items, contacts)
      for (const contact of contacts)
        assert.deepEqual((await api.get(`/contacts/${contact.id}`)).json(), contact)
    }
    const outsider = as(app, org.outsider, org.organizationId)
    expectProblem(await outsider.get('/contacts'), 403, 'ORGANIZATION_ACCESS_DENIED')
    expectProblem(await outsider.get(`/contacts/${contacts[0].id}`), 403, 'ORGANIZATION_ACCESS_DENIED')
    expectProblem(await outsider.post('/contacts', { name: 'X' }), 403, 'ORGANIZATION_ACCESS_DENIED')
  })

  it('answers 404 before 403: a member gets 404 for a missing contact', async () => {
    const org = await organizationWithRoles(app)
    const api = as(app, org.member, org.organizationId)
    expectProblem(await api.patch(`/contacts/${missingId()}`, { name: 'X' }), 404, 'CONTACT_NOT_FOUND')
    expectProblem(await api.delete(`/contacts/${missingId()}`), 404, 'CONTACT_NOT_FOUND')
  })
})

describe('contacts: tenant isolation', () => {
  async function twoOrganizations() {
    const org = await organizationWithRoles(app)
    const stranger = await register(app, { name: 'Stranger' })
    const foreign = await createContact(app, stranger, stranger.organizationId, {
      name: 'Foreign zqx',
      email: 'foreign-zqx@example.com',
    })
    return { org, stranger, foreign }
  }

  for (const role of WRITE_ROLES) {
    it(`answers a foreign contact id like a missing one and changes nothing (as ${role})`, async () => {
      const { org, stranger, foreign } = await twoOrganizations()
      const api = as(app, org[role], org.organizationId)
      const missing = missingId()
      const pairs = [
        [await api.get(`/contacts/${foreign.id}`), await api.get(`/contacts/${missing}`)],
        [
          await api.patch(`/contacts/${foreign.id}`, { name: 'Hijacked', email: null }),
          await api.patch(`/contacts/${missing}`, { name: 'Hijacked', email: null }),
        ],
        [await api.delete(`/contacts/${foreign.id}`), await api.delete(`/contacts/${missing}`)],
      ] as const
      for (const [foreignResponse, missingResponse] of pairs) {
        expectProblem(foreignResponse, 404, 'CONTACT_NOT_FOUND')
        assertSameProblem(foreignResponse, missingResponse)
      }
      const reread = await as(app, stranger, stranger.organizationId).get(`/contacts/${foreign.id}`)
      assert.deepEqual(reread.json(), foreign)
    })
  }

  it('refuses a user of another organization as owner_id, like an unknown user', async () => {
    const { org, stranger } = await twoOrganizations()
    const api = as(app, org.owner, org.organizationId)
    const contact = await createContact(app, org.owner, org.organizationId)
    assertSameProblem(
      await api.post('/contacts', { name: 'X', owner_id: stranger.id }),
      await api.post('/contacts', { name: 'X', owner_id: missingId() }),
    )
    const foreignOwner = await api.patch(`/contacts/${contact.id}`, { owner_id: stranger.id })
    expectProblem(foreignOwner, 400, 'OWNER_NOT_MEMBER')
    assertSameProblem(foreignOwner, await api.patch(`/contacts/${contact.id}`, { owner_id: missingId() }))
    assert.deepEqual((await api.get(`/contacts/${contact.id}`)).json(), contact)
  })

  it('never lists foreign contacts', async () => {
    const { org, stranger } = await twoOrganizations()
    const own = await createContact(app, org.owner, org.organizationId, { name: 'Own zqx' })
    const api = as(app, org.owner, org.organizationId)
    const searched = await api.get('/contacts?search=zqx')
    assert.deepEqual(
      searched.json().items.map((c: { id: string }) => c.id),
      [own.id],
    )
    assert.equal(searched.json().total, 1)
    const byForeignOwner = await api.get(`/contacts?owner_id=${stranger.id}`)
    assert.deepEqual(byForeignOwner.json().items, [])
    assert.equal(byForeignOwner.json().total, 0)
    const all = await api.get('/contacts?page_size=100')
    assert.ok(
      all.json().items.every((c: { organization_id: string }) => c.organization_id === org.organizationId),
    )
  })
})

describe('contacts: bad input is 400 VALIDATION_ERROR', () => {
  it('rejects bad list queries', async () => {
    const org = await organizationWithRoles(app)
    const api = as(app, org.owner, org.organizationId)
    const queries = [
      'page=0',
      'page=-1',
      'page=abc',
      'page=1.5',
      'page_size=0',
      'page_size=101',
      'page_size=',
      'order_by=email',
      'order_by=id',
      'order=up',
      'owner_id=not-a-uuid',
      'owner_id=',
      'unknown=1',
      'organization_id=x',
      `search=${'a'.repeat(256)}`,
      'page=1&page=2',
    ]
    for (const query of queries) assertValidationError(await api.get(`/contacts?${query}`), query)
  })

  it('rejects malformed ids in paths', async () => {
    const org = await organizationWithRoles(app)
    const api = as(app, org.owner, org.organizationId)
    for (const id of ['not-a-uuid', '123', 'null', `${missingId()}x`]) {
      assertValidationError(await api.get(`/contacts/${id}`), `GET ${id}`)
      assertValidationError(await api.patch(`/contacts/${id}`, { name: 'X' }), `PATCH ${id}`)
      assertValidationError(await api.delete(`/contacts/${id}`), `DELETE ${id}`)
    }
  })

  it('rejects bad create bodies', async () => {
    const org = await organizationWithRoles(app)
    const api = as(app, org.owner, org.organizationId)
    const bodies: unknown[] = [
      {},
      { name: '' },
      { name: 'x'.repeat(256) },
      { name: null },
      { name: 5 },
      { name: 'X', email: 'not-an-email' },
      { name: 'X', email: 'a@b' },
      { name: 'X', email: 42 },
      { name: 'X', phone: '1'.repeat(51) },
      { name: 'X', phone: 123 },
      { name: 'X', owner_id: null },
      { name: 'X', owner_id: 'not-a-uuid' },
      { name: 'X', id: missingId() },
      { name: 'X', organization_id: missingId() },
      { name: 'X', created_at: '2020-01-01T00:00:00.000Z' },
      [],
    ]
    for (const body of bodies) assertValidationError(await api.post('/contacts', body), JSON.stringify(body))
    assert.equal((await api.get('/contacts')).json().total, 0)
  })

  it('rejects bad update bodies and leaves the contact unchanged', async () => {
    const org = await organizationWithRoles(app)
    const api = as(app, org.owner, org.organizationId)
    const contact = await createContact(app, org.owner, org.organizationId, { email: 'keep@example.com' })
    const bodies: unknown[] = [
      { name: null },
      { name: '' },
      { owner_id: null },
      { owner_id: 'x' },
      { email: 'nope' },
      { phone: '1'.repeat(51) },
      { organization_id: missingId() },
      { id: missingId() },
      { name: 'Ok', unknown: true },
      [],
    ]
    for (const body of bodies) {
      assertValidationError(await api.patch(`/contacts/${contact.id}`, body), JSON.stringify(body))
    }
    assert.deepEqual((await api.get(`/contacts/${contact.id}`)).json(), contact)
  })

  it('rejects malformed JSON and JSON that is not an object', async () => {
    const org = await organizationWithRoles(app)
    const contact = await createContact(app, org.owner, org.organizationId)
    for (const [method, url] of [
      ['POST', '/contacts'],
      ['PATCH', `/contacts/${contact.id}`],
    ] as const) {
      for (const payload of [...NOT_AN_OBJECT, '{"name": "X",', '"name"', '42']) {
        const response = await sendJson(app, org.owner, org.organizationId, method, `${API}${url}`, payload)
        assertValidationError(response, `${method} ${payload}`)
      }
    }
  })
})
