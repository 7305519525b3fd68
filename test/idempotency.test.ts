import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { and, eq, sql } from 'drizzle-orm'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { contacts, idempotencyKeys } from '../src/db/schema.js'
import {
  API,
  auth,
  buildTestApp,
  createContact,
  expectProblem,
  register,
  type TestUser,
  withoutRequestId,
} from './helpers.js'
import { instances } from './integration-helpers.js'

let app: FastifyInstance
before(async () => {
  app = await buildTestApp()
})
after(() => app.close())

function send(
  target: FastifyInstance,
  user: TestUser,
  method: 'POST' | 'PATCH' | 'DELETE',
  url: string,
  key: string,
  payload?: unknown,
) {
  return target.inject({
    method,
    url: `${API}${url}`,
    headers: { ...auth(user, user.organizationId), 'idempotency-key': key },
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  })
}

/** A retry as a client would make it: 409 IDEMPOTENCY_KEY_IN_USE means "wait Retry-After and try again". */
async function retry(run: () => Promise<LightMyRequestResponse>): Promise<LightMyRequestResponse> {
  for (let i = 0; i < 100; i++) {
    const response = await run()
    if (response.statusCode !== 409 || response.json().code !== 'IDEMPOTENCY_KEY_IN_USE') return response
    await sleep(20)
  }
  throw new Error('still in use')
}

async function contactsNamed(organizationId: string, name: string) {
  return app.db.db
    .select()
    .from(contacts)
    .where(and(eq(contacts.organizationId, organizationId), eq(contacts.name, name)))
}

describe('Idempotency-Key', () => {
  it('replays the stored status and body with Idempotent-Replayed: true; one write', async () => {
    const user = await register(app)
    const key = randomUUID()
    const name = `Once ${key}`
    const first = await send(app, user, 'POST', '/contacts', key, { name })
    assert.equal(first.statusCode, 201)
    assert.equal(first.headers['idempotent-replayed'], undefined)
    const again = await retry(() => send(app, user, 'POST', '/contacts', key, { name }))
    assert.equal(again.statusCode, 201)
    assert.equal(again.headers['idempotent-replayed'], 'true')
    assert.deepEqual(again.json(), first.json())
    assert.equal((await contactsNamed(user.organizationId, name)).length, 1)
  })

  it('is 422 IDEMPOTENCY_KEY_REUSED for another body, path or method', async () => {
    const user = await register(app)
    const key = randomUUID()
    const contact = await send(app, user, 'POST', '/contacts', key, { name: 'A' })
    assert.equal(contact.statusCode, 201)
    await retry(() => send(app, user, 'POST', '/contacts', key, { name: 'A' }))
    expectProblem(
      await send(app, user, 'POST', '/contacts', key, { name: 'B' }),
      422,
      'IDEMPOTENCY_KEY_REUSED',
    )
    // The same value in other bytes is another request.
    expectProblem(
      await app.inject({
        method: 'POST',
        url: `${API}/contacts`,
        headers: {
          ...auth(user, user.organizationId),
          'idempotency-key': key,
          'content-type': 'application/json',
        },
        payload: '{ "name": "A" }',
      }),
      422,
      'IDEMPOTENCY_KEY_REUSED',
    )
    expectProblem(
      await send(app, user, 'PATCH', `/contacts/${contact.json().id}`, key, { name: 'A' }),
      422,
      'IDEMPOTENCY_KEY_REUSED',
    )
  })

  it('replays a problem body with this request’s request_id', async () => {
    const user = await register(app)
    const key = randomUUID()
    const payload = { title: 'Orphan', contact_id: randomUUID() }
    const first = expectProblem(
      await send(app, user, 'POST', '/deals', key, payload),
      404,
      'CONTACT_NOT_FOUND',
    )
    const again = await retry(() => send(app, user, 'POST', '/deals', key, payload))
    const body = expectProblem(again, 404, 'CONTACT_NOT_FOUND')
    assert.equal(again.headers['idempotent-replayed'], 'true')
    assert.notEqual(body.request_id, first.request_id)
    assert.deepEqual(withoutRequestId(body), withoutRequestId(first))
  })

  it('replays a 204 of a DELETE instead of answering 404', async () => {
    const user = await register(app)
    const contact = await createContact(app, user, user.organizationId)
    const key = randomUUID()
    assert.equal((await send(app, user, 'DELETE', `/contacts/${contact.id}`, key)).statusCode, 204)
    const again = await retry(() => send(app, user, 'DELETE', `/contacts/${contact.id}`, key))
    assert.equal(again.statusCode, 204)
    assert.equal(again.headers['idempotent-replayed'], 'true')
    assert.equal(again.body, '')
  })

  it('refuses a malformed key with 400', async () => {
    const user = await register(app)
    for (const key of ['', 'with space', 'x'.repeat(256), 'tab\tkey']) {
      expectProblem(await send(app, user, 'POST', '/contacts', key, { name: 'x' }), 400, 'VALIDATION_ERROR')
    }
    assert.equal((await send(app, user, 'POST', '/contacts', 'x'.repeat(255), { name: 'x' })).statusCode, 201)
  })

  it('is scoped to the user: another user with the same key makes their own request', async () => {
    const [alice, bob] = await Promise.all([register(app), register(app)])
    const key = randomUUID()
    const a = await send(app, alice, 'POST', '/contacts', key, { name: 'Same' })
    const b = await send(app, bob, 'POST', '/contacts', key, { name: 'Same' })
    assert.equal(a.statusCode, 201)
    assert.equal(b.statusCode, 201)
    assert.equal(b.headers['idempotent-replayed'], undefined)
    assert.notEqual(a.json().id, b.json().id)
  })

  it('an API key shares its user’s scope', async () => {
    const user = await register(app)
    const created = await app.inject({
      method: 'POST',
      url: `${API}/api-keys`,
      headers: auth(user, user.organizationId),
      payload: { name: 'k', scope: 'write' },
    })
    const apiKey = created.json().key as string
    const key = randomUUID()
    const first = await send(app, user, 'POST', '/contacts', key, { name: 'Shared' })
    const viaKey = await retry(() =>
      app.inject({
        method: 'POST',
        url: `${API}/contacts`,
        headers: {
          authorization: `Bearer ${apiKey}`,
          'x-organization-id': user.organizationId,
          'idempotency-key': key,
        },
        payload: { name: 'Shared' },
      }),
    )
    assert.equal(viaKey.headers['idempotent-replayed'], 'true')
    assert.equal(viaKey.json().id, first.json().id)
  })

  it('parallel identical requests make one write; the others wait (409 + Retry-After) or replay', async () => {
    const user = await register(app)
    const key = randomUUID()
    const name = `Parallel ${key}`
    const responses = await Promise.all(
      Array.from({ length: 12 }, () => send(app, user, 'POST', '/contacts', key, { name })),
    )
    const fresh = responses.filter((r) => r.statusCode === 201 && !r.headers['idempotent-replayed'])
    assert.equal(fresh.length, 1)
    for (const response of responses) {
      if (response.statusCode === 409) {
        expectProblem(response, 409, 'IDEMPOTENCY_KEY_IN_USE')
        assert.equal(response.headers['retry-after'], '1')
      } else assert.equal(response.statusCode, 201)
    }
    assert.equal((await contactsNamed(user.organizationId, name)).length, 1)
  })

  it('stores nothing for a 5xx: the same key runs again afterwards', async () => {
    const user = await register(app)
    const key = randomUUID()
    const name = `explode-${key}`
    // A real failure inside the database for this one name (a trigger), so the request answers 500.
    const fn = `fail_${key.replaceAll('-', '')}`
    await app.db.db.execute(
      sql.raw(`CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.name = '${name}' THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$`),
    )
    await app.db.db.execute(
      sql.raw(`CREATE TRIGGER ${fn} BEFORE INSERT ON contacts FOR EACH ROW EXECUTE FUNCTION ${fn}()`),
    )
    try {
      const failed = await send(app, user, 'POST', '/contacts', key, { name })
      expectProblem(failed, 500, 'INTERNAL_ERROR')
      let stored: unknown[] = []
      for (let i = 0; i < 50; i++) {
        stored = await app.db.db.select().from(idempotencyKeys).where(eq(idempotencyKeys.key, key))
        if (stored.length === 0) break
        await sleep(20)
      }
      assert.equal(stored.length, 0)
    } finally {
      await app.db.db.execute(sql.raw(`DROP TRIGGER ${fn} ON contacts`))
      await app.db.db.execute(sql.raw(`DROP FUNCTION ${fn}()`))
    }
    const succeeded = await send(app, user, 'POST', '/contacts', key, { name })
    assert.equal(succeeded.statusCode, 201)
    assert.equal(succeeded.headers['idempotent-replayed'], undefined)
  })

  it('forgets a key after 24 hours (an expired record is replaced; cleanup deletes it)', async () => {
    const user = await register(app)
    const key = randomUUID()
    assert.equal((await send(app, user, 'POST', '/contacts', key, { name: 'Old' })).statusCode, 201)
    await retry(() => send(app, user, 'POST', '/contacts', key, { name: 'Old' }))
    await app.db.db
      .update(idempotencyKeys)
      .set({ expiresAt: sql`now() - interval '1 second'` })
      .where(and(eq(idempotencyKeys.userId, user.id), eq(idempotencyKeys.key, key)))
    const reused = await send(app, user, 'POST', '/contacts', key, { name: 'New' })
    assert.equal(reused.statusCode, 201)
    assert.equal(reused.headers['idempotent-replayed'], undefined)
    const [row] = await app.db.db
      .select()
      .from(idempotencyKeys)
      .where(and(eq(idempotencyKeys.userId, user.id), eq(idempotencyKeys.key, key)))
    assert.ok(row && row.expiresAt.getTime() > Date.now() + 23 * 3600_000, 'kept 24 hours from now')
  })

  it('ignores the header on GET', async () => {
    const user = await register(app)
    const response = await app.inject({
      method: 'GET',
      url: `${API}/contacts`,
      headers: { ...auth(user, user.organizationId), 'idempotency-key': 'with space' },
    })
    assert.equal(response.statusCode, 200)
  })
})

describe('Idempotency-Key with two instances', () => {
  it('parallel identical requests on two instances make one write', async () => {
    const cluster = await instances(2)
    try {
      const [a, b] = cluster.apps as [FastifyInstance, FastifyInstance]
      const user = await register(a)
      const key = randomUUID()
      const name = `Two ${key}`
      const responses = await Promise.all(
        Array.from({ length: 10 }, (_, i) => send(i % 2 ? a : b, user, 'POST', '/contacts', key, { name })),
      )
      assert.equal(
        responses.filter((r) => r.statusCode === 201 && !r.headers['idempotent-replayed']).length,
        1,
      )
      assert.ok(responses.every((r) => r.statusCode === 201 || r.statusCode === 409))
      const replay = await retry(() => send(b, user, 'POST', '/contacts', key, { name }))
      assert.equal(replay.headers['idempotent-replayed'], 'true')
      const rows = await a.db.db
        .select()
        .from(contacts)
        .where(and(eq(contacts.organizationId, user.organizationId), eq(contacts.name, name)))
      assert.equal(rows.length, 1)
    } finally {
      await cluster.close()
    }
  })
})
