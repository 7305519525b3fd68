import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { and, eq } from 'drizzle-orm'
import type { FastifyInstance } from 'fastify'
import { apiKeys } from '../src/db/schema.js'
import {
  API,
  addMember,
  as,
  buildTestApp,
  createContact,
  expectProblem,
  organizationWithRoles,
  register,
  type TestUser,
} from './helpers.js'
import { instances, until } from './integration-helpers.js'

let app: FastifyInstance
before(async () => {
  app = await buildTestApp()
})
after(() => app.close())

async function createKey(
  user: TestUser,
  organizationId: string,
  body: Record<string, unknown> = { name: 'CI', scope: 'write' },
  target = app,
) {
  const response = await as(target, user, organizationId).post('/api-keys', body)
  assert.equal(response.statusCode, 201, response.body)
  return response.json() as { id: string; key: string; prefix: string; scope: string; last_used_at: null }
}

function withKey(key: string, organizationId?: string, target = app) {
  const headers: Record<string, string> = { authorization: `Bearer ${key}` }
  if (organizationId) headers['x-organization-id'] = organizationId
  return {
    get: (url: string) => target.inject({ method: 'GET', url: `${API}${url}`, headers }),
    post: (url: string, payload: Record<string, unknown> = {}) =>
      target.inject({ method: 'POST', url: `${API}${url}`, headers, payload }),
    patch: (url: string, payload: Record<string, unknown> = {}) =>
      target.inject({ method: 'PATCH', url: `${API}${url}`, headers, payload }),
    delete: (url: string) => target.inject({ method: 'DELETE', url: `${API}${url}`, headers }),
  }
}

describe('POST /api-keys', () => {
  it('creates a key shown once: mcrm_ + 32 random bytes, a 12-character prefix, stored hashed', async () => {
    const owner = await register(app)
    const created = await createKey(owner, owner.organizationId, { name: 'Zapier' })
    assert.match(created.key, /^mcrm_[A-Za-z0-9_-]{43,}$/)
    assert.equal(created.prefix, created.key.slice(0, 12))
    assert.equal(created.scope, 'read', 'read by default')
    assert.equal(created.last_used_at, null)
    const listed = (await as(app, owner, owner.organizationId).get('/api-keys')).json()
    assert.deepEqual(
      listed.map((k: Record<string, unknown>) => k.id),
      [created.id],
    )
    assert.equal(listed[0].key, undefined, 'the key never appears again')
    const [row] = await app.db.db.select().from(apiKeys).where(eq(apiKeys.id, created.id))
    assert.ok(row && !row.keyHash.includes(created.key) && row.keyHash !== created.key)
  })

  it('refuses a past expiry, an unknown scope and unknown fields', async () => {
    const owner = await register(app)
    const client = as(app, owner, owner.organizationId)
    expectProblem(
      await client.post('/api-keys', { name: 'x', expires_at: '2001-01-01T00:00:00Z' }),
      400,
      'VALIDATION_ERROR',
    )
    expectProblem(await client.post('/api-keys', { name: 'x', scope: 'admin' }), 400, 'VALIDATION_ERROR')
    expectProblem(await client.post('/api-keys', { name: '' }), 400, 'VALIDATION_ERROR')
    expectProblem(await client.post('/api-keys', { name: 'x', user_id: owner.id }), 400, 'VALIDATION_ERROR')
  })
})

describe('using an API key', () => {
  it('acts as its user in its organization; X-Organization-Id is optional and must match', async () => {
    const owner = await register(app)
    const other = await register(app)
    const { key } = await createKey(owner, owner.organizationId)
    const created = await withKey(key).post('/contacts', { name: 'Via key' })
    assert.equal(created.statusCode, 201, created.body)
    assert.equal(created.json().owner_id, owner.id)
    assert.equal(created.json().organization_id, owner.organizationId)
    assert.equal((await withKey(key, owner.organizationId).get('/contacts')).statusCode, 200)
    expectProblem(
      await withKey(key, other.organizationId).get('/contacts'),
      403,
      'ORGANIZATION_ACCESS_DENIED',
    )
    expectProblem(await withKey(key, 'not-a-uuid').get('/contacts'), 403, 'ORGANIZATION_ACCESS_DENIED')
  })

  it('a read key may only GET', async () => {
    const owner = await register(app)
    const { key } = await createKey(owner, owner.organizationId, { name: 'ro', scope: 'read' })
    assert.equal((await withKey(key).get('/contacts')).statusCode, 200)
    expectProblem(await withKey(key).post('/contacts', { name: 'x' }), 403, 'FORBIDDEN')
    const contact = await createContact(app, owner, owner.organizationId)
    expectProblem(await withKey(key).patch(`/contacts/${contact.id}`, { name: 'y' }), 403, 'FORBIDDEN')
    expectProblem(await withKey(key).delete(`/contacts/${contact.id}`), 403, 'FORBIDDEN')
  })

  it('never reaches /auth, /organizations, /invitations, /api-keys or /webhooks', async () => {
    const owner = await register(app)
    const { key } = await createKey(owner, owner.organizationId)
    for (const [method, url] of [
      ['GET', '/auth/me'],
      ['GET', '/organizations/me'],
      ['POST', '/organizations'],
      ['GET', `/organizations/${owner.organizationId}/members`],
      ['GET', '/api-keys'],
      ['POST', '/api-keys'],
      ['GET', '/webhooks'],
      ['POST', '/webhooks'],
    ] as const) {
      const response = await app.inject({
        method,
        url: `${API}${url}`,
        headers: { authorization: `Bearer ${key}` },
        ...(method === 'POST' ? { payload: { name: 'x' } } : {}),
      })
      expectProblem(response, 403, 'FORBIDDEN')
    }
  })

  it("has the user's current role: a member's key gains and loses rights with the role", async () => {
    const { organizationId, owner, member } = await organizationWithRoles(app)
    const ownersContact = await createContact(app, owner, organizationId)
    const { key } = await createKey(member, organizationId)
    expectProblem(await withKey(key).patch(`/contacts/${ownersContact.id}`, { name: 'n' }), 403, 'FORBIDDEN')
    const promoted = await as(app, owner).patch(`/organizations/${organizationId}/members/${member.id}`, {
      role: 'manager',
    })
    assert.equal(promoted.statusCode, 200)
    assert.equal((await withKey(key).patch(`/contacts/${ownersContact.id}`, { name: 'n' })).statusCode, 200)
  })

  it('an unknown, revoked or expired key is 401 INVALID_TOKEN', async () => {
    const owner = await register(app)
    expectProblem(await withKey(`mcrm_${'A'.repeat(43)}`).get('/contacts'), 401, 'INVALID_TOKEN')
    const expiring = await createKey(owner, owner.organizationId, {
      name: 'short',
      expires_at: new Date(Date.now() + 1_500).toISOString(),
    })
    assert.equal((await withKey(expiring.key).get('/contacts')).statusCode, 200)
    await sleep(1_600)
    expectProblem(await withKey(expiring.key).get('/contacts'), 401, 'INVALID_TOKEN')

    const revoked = await createKey(owner, owner.organizationId)
    assert.equal((await withKey(revoked.key).get('/contacts')).statusCode, 200)
    const deleted = await as(app, owner, owner.organizationId).delete(`/api-keys/${revoked.id}`)
    assert.equal(deleted.statusCode, 204)
    expectProblem(await withKey(revoked.key).get('/contacts'), 401, 'INVALID_TOKEN')
  })

  it('is dead at once when its user leaves the organization', async () => {
    const owner = await register(app)
    const leaver = await register(app)
    await addMember(app, owner, owner.organizationId, leaver, 'manager')
    const { key } = await createKey(leaver, owner.organizationId)
    assert.equal((await withKey(key).get('/contacts')).statusCode, 200)
    const left = await as(app, leaver).delete(`/organizations/${owner.organizationId}/members/${leaver.id}`)
    assert.equal(left.statusCode, 204)
    expectProblem(await withKey(key).get('/contacts'), 401, 'INVALID_TOKEN')
    // Rejoining does not bring the key back.
    await addMember(app, owner, owner.organizationId, leaver, 'manager')
    expectProblem(await withKey(key).get('/contacts'), 401, 'INVALID_TOKEN')
  })

  it('records last_used_at at most once a minute', async () => {
    const owner = await register(app)
    const created = await createKey(owner, owner.organizationId)
    await withKey(created.key).get('/contacts')
    const read = async () =>
      (await app.db.db.select().from(apiKeys).where(eq(apiKeys.id, created.id)))[0]?.lastUsedAt ?? null
    await until(async () => (await read()) !== null, 'last_used_at is set')
    const first = await read()
    await withKey(created.key).get('/contacts')
    await sleep(100)
    assert.deepEqual(await read(), first, 'a second use within the minute writes nothing')
    const listed = (await as(app, owner, owner.organizationId).get('/api-keys')).json()
    assert.equal(listed[0].last_used_at, first?.toISOString())
  })

  it('keeps working for requests already through while revoked mid-use; none after the revocation', async () => {
    const owner = await register(app)
    const { id, key } = await createKey(owner, owner.organizationId)
    const during = Array.from({ length: 20 }, () => withKey(key).get('/contacts'))
    const revoked = await as(app, owner, owner.organizationId).delete(`/api-keys/${id}`)
    assert.equal(revoked.statusCode, 204)
    for (const response of await Promise.all(during)) assert.ok([200, 401].includes(response.statusCode))
    const afterwards = await Promise.all(Array.from({ length: 10 }, () => withKey(key).get('/contacts')))
    for (const response of afterwards) expectProblem(response, 401, 'INVALID_TOKEN')
  })
})

describe('GET and DELETE /api-keys', () => {
  it('members list and revoke their own keys; owners and admins all of them; else 404', async () => {
    const { organizationId, owner, admin, member, manager } = await organizationWithRoles(app)
    const membersKey = await createKey(member, organizationId)
    const managersKey = await createKey(manager, organizationId)
    const ownersKey = await createKey(owner, organizationId)
    const ids = (user: TestUser) =>
      as(app, user, organizationId)
        .get('/api-keys')
        .then((r) => r.json().map((k: { id: string }) => k.id))
    assert.deepEqual(await ids(member), [membersKey.id])
    assert.deepEqual(await ids(admin), [membersKey.id, managersKey.id, ownersKey.id])
    expectProblem(
      await as(app, member, organizationId).delete(`/api-keys/${managersKey.id}`),
      404,
      'API_KEY_NOT_FOUND',
    )
    assert.equal((await as(app, admin, organizationId).delete(`/api-keys/${managersKey.id}`)).statusCode, 204)
    assert.equal((await as(app, member, organizationId).delete(`/api-keys/${membersKey.id}`)).statusCode, 204)
    // Another organization's key id answers like a missing one.
    const stranger = await register(app)
    expectProblem(
      await as(app, stranger, stranger.organizationId).delete(`/api-keys/${ownersKey.id}`),
      404,
      'API_KEY_NOT_FOUND',
    )
    const remaining = await app.db.db
      .select()
      .from(apiKeys)
      .where(and(eq(apiKeys.organizationId, organizationId)))
    assert.deepEqual(
      remaining.map((k) => k.id),
      [ownersKey.id],
    )
  })
})

describe('revocation across instances', () => {
  it('a key revoked on one instance stops at once on another (Redis pub/sub)', {
    skip: !process.env.REDIS_URL && 'needs REDIS_URL',
  }, async () => {
    const cluster = await instances(2, { config: { redisUrl: process.env.REDIS_URL } })
    try {
      const [a, b] = cluster.apps as [FastifyInstance, FastifyInstance]
      await until(() => a.redis?.isReady === true && b.redis?.isReady === true, 'redis is ready')
      await sleep(200) // the subscriber connections come up after the main ones
      const owner = await register(a)
      const { id, key } = await createKey(owner, owner.organizationId, { name: 'k' }, a)
      assert.equal((await withKey(key, undefined, b).get('/contacts')).statusCode, 200, 'b caches the key')
      const revoked = await as(a, owner, owner.organizationId).delete(`/api-keys/${id}`)
      assert.equal(revoked.statusCode, 204)
      await until(
        async () => (await withKey(key, undefined, b).get('/contacts')).statusCode === 401,
        'b refuses the key',
        1_000,
      )
    } finally {
      await cluster.close()
    }
  })
})
