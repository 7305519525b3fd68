import assert from 'node:assert/strict'
import { createServer, type Server, Socket } from 'node:net'
import { after, before, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { openDatabase } from '../src/db/client.js'
import { API, as, buildTestApp, expectProblem, register } from './helpers.js'

let app: FastifyInstance
before(async () => {
  app = await buildTestApp()
  // A route that fails with an internal error, to prove 5xx bodies never carry internals.
  app.get(`${API}/test-failure`, { schema: { hide: true } }, async () => {
    throw new Error('password=hunter2 at db.internal:5432')
  })
})
after(() => app.close())

describe('health and readiness', () => {
  it('GET /health answers 200 without a token', async () => {
    const response = await app.inject({ method: 'GET', url: '/health' })
    assert.equal(response.statusCode, 200)
    assert.deepEqual(response.json(), { status: 'ok' })
  })

  it('GET /ready answers 200 while the database answers', async () => {
    const response = await app.inject({ method: 'GET', url: '/ready' })
    assert.equal(response.statusCode, 200)
    assert.deepEqual(response.json(), { status: 'ready' })
  })
})

describe('request ids', () => {
  it('generates an X-Request-Id for every response, also errors', async () => {
    const ok = await app.inject({ method: 'GET', url: '/health' })
    assert.match(String(ok.headers['x-request-id']), /^[0-9a-f-]{36}$/)
    const failed = await app.inject({ method: 'GET', url: `${API}/auth/me` })
    assert.equal(failed.json().request_id, failed.headers['x-request-id'])
  })

  it("echoes the client's id when it is safe, and replaces it otherwise", async () => {
    const echoed = await app.inject({
      method: 'GET',
      url: '/health',
      headers: { 'x-request-id': 'client-abc.123' },
    })
    assert.equal(echoed.headers['x-request-id'], 'client-abc.123')
    const replaced = await app.inject({
      method: 'GET',
      url: '/health',
      headers: { 'x-request-id': 'x'.repeat(500) },
    })
    assert.match(String(replaced.headers['x-request-id']), /^[0-9a-f-]{36}$/)
    const spaced = await app.inject({
      method: 'GET',
      url: '/health',
      headers: { 'x-request-id': 'a b<script>' },
    })
    assert.match(String(spaced.headers['x-request-id']), /^[0-9a-f-]{36}$/)
  })
})

describe('errors', () => {
  it('answers an unknown route with 404 NOT_FOUND, without asking for a token', async () => {
    expectProblem(await app.inject({ method: 'GET', url: `${API}/nothing-here` }), 404, 'NOT_FOUND')
  })

  it('answers malformed JSON with 400 VALIDATION_ERROR', async () => {
    const response = await app.inject({
      method: 'POST',
      url: `${API}/auth/login`,
      payload: '{"email": "a@b.c", ',
      headers: { 'content-type': 'application/json' },
    })
    expectProblem(response, 400, 'VALIDATION_ERROR')
  })

  it('answers a non-JSON body with 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const response = await app.inject({
      method: 'POST',
      url: `${API}/auth/login`,
      payload: 'email=a@b.c',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    expectProblem(response, 415, 'UNSUPPORTED_MEDIA_TYPE')
  })

  it('answers a body over 1 MiB with 413 PAYLOAD_TOO_LARGE', async () => {
    const response = await app.inject({
      method: 'POST',
      url: `${API}/auth/login`,
      payload: JSON.stringify({ email: 'a@b.c', password: 'x'.repeat(1024 * 1024) }),
      headers: { 'content-type': 'application/json' },
    })
    expectProblem(response, 413, 'PAYLOAD_TOO_LARGE')
  })

  it('never shows internals on a 500, and keeps serving', async () => {
    const user = await register(app)
    const response = await as(app, user).get('/test-failure')
    const body = expectProblem(response, 500, 'INTERNAL_ERROR')
    assert.doesNotMatch(response.body, /hunter2|db\.internal|Error:|at /)
    assert.equal(body.detail, 'An unexpected error occurred')
    assert.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200)
  })

  it('answers a wrong method on a known path with a problem body', async () => {
    const response = await app.inject({ method: 'PUT', url: `${API}/auth/login`, payload: {} })
    assert.ok([404, 405].includes(response.statusCode))
    assert.match(String(response.headers['content-type']), /^application\/problem\+json/)
  })
})

describe('CORS', () => {
  it('allows the configured origins only', async () => {
    const corsApp = await buildTestApp({
      database: app.db,
      migrate: false,
      config: { corsOrigins: ['https://app.example.com'] },
    })
    try {
      const preflight = (origin: string) =>
        corsApp.inject({
          method: 'OPTIONS',
          url: `${API}/auth/login`,
          headers: { origin, 'access-control-request-method': 'POST' },
        })
      const allowed = await preflight('https://app.example.com')
      assert.equal(allowed.headers['access-control-allow-origin'], 'https://app.example.com')
      const denied = await preflight('https://evil.example.com')
      assert.equal(denied.headers['access-control-allow-origin'], undefined)
    } finally {
      await corsApp.close()
    }
  })

  it('sends no CORS headers when CORS_ORIGINS is empty', async () => {
    const response = await app.inject({
      method: 'GET',
      url: '/health',
      headers: { origin: 'https://x.example' },
    })
    assert.equal(response.headers['access-control-allow-origin'], undefined)
  })
})

describe('API documentation', () => {
  it('serves an OpenAPI 3.1 document with every API route, its schemas and error responses', async () => {
    const response = await app.inject({ method: 'GET', url: '/openapi.json' })
    assert.equal(response.statusCode, 200)
    const doc = response.json()
    assert.equal(doc.openapi, '3.1.0')
    assert.ok(doc.components.schemas.Problem)
    assert.ok(doc.components.securitySchemes.bearerAuth)
    const expected = [
      ['post', '/api/v1/auth/register'],
      ['post', '/api/v1/auth/login'],
      ['post', '/api/v1/auth/refresh'],
      ['post', '/api/v1/auth/logout'],
      ['get', '/api/v1/auth/me'],
      ['get', '/api/v1/organizations/me'],
      ['post', '/api/v1/organizations'],
      ['get', '/api/v1/organizations/{id}/members'],
      ['post', '/api/v1/organizations/{id}/members'],
      ['patch', '/api/v1/organizations/{id}/members/{user_id}'],
      ['delete', '/api/v1/organizations/{id}/members/{user_id}'],
      ['patch', '/api/v1/auth/me'],
      ['get', '/api/v1/auth/sessions'],
      ['delete', '/api/v1/auth/sessions/{id}'],
      ['post', '/api/v1/auth/password'],
      ['post', '/api/v1/auth/password-reset'],
      ['post', '/api/v1/auth/password-reset/confirm'],
      ['post', '/api/v1/organizations/{id}/invitations'],
      ['get', '/api/v1/organizations/{id}/invitations'],
      ['delete', '/api/v1/organizations/{id}/invitations/{invitation_id}'],
      ['get', '/api/v1/invitations'],
      ['post', '/api/v1/invitations/accept'],
      ['post', '/api/v1/invitations/{id}/accept'],
      ['post', '/api/v1/invitations/{id}/decline'],
    ]
    for (const [method, path] of expected) {
      const operation = doc.paths[path as string]?.[method as string]
      assert.ok(operation, `${method} ${path} documented`)
      assert.ok(
        Object.keys(operation.responses).some((status) => status.startsWith('2')),
        `${path} success schema`,
      )
    }
    for (const [path, methods] of Object.entries(
      doc.paths as Record<string, Record<string, { responses: object }>>,
    )) {
      if (!path.startsWith('/api/v1/')) continue
      for (const [method, operation] of Object.entries(methods)) {
        assert.ok(Object.keys(operation.responses).length >= 2, `${method} ${path} lists error responses`)
      }
    }
  })

  it('serves the interactive docs at /docs without a token', async () => {
    const page = await app.inject({ method: 'GET', url: '/docs' })
    assert.equal(page.statusCode, 200)
    assert.match(String(page.headers['content-type']), /text\/html/)
    assert.match(page.body, /swagger/i)
  })
})

/** A TCP proxy in front of PostgreSQL, so a test can cut the database off and bring it back. */
async function databaseProxy(target: URL) {
  const sockets = new Set<Socket>()
  let server: Server | undefined
  const listen = (port: number) =>
    new Promise<number>((resolve) => {
      server = createServer((client) => {
        const upstream = new Socket()
        upstream.connect(Number(target.port || 5432), target.hostname)
        for (const s of [client, upstream]) {
          sockets.add(s)
          s.on('close', () => sockets.delete(s))
          s.on('error', () => {})
        }
        client.pipe(upstream).pipe(client)
      })
      server.listen(port, '127.0.0.1', () => {
        const address = server?.address()
        resolve(typeof address === 'object' && address ? address.port : port)
      })
    })
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy()
      server?.close(() => resolve())
    })
  return { listen, stop }
}

describe('database outage', {
  skip: !process.env.TEST_DATABASE_URL && 'needs PostgreSQL (PGlite cannot go away)',
}, () => {
  it('answers 503 while the database is unreachable and recovers by itself', async () => {
    const target = new URL(process.env.TEST_DATABASE_URL as string)
    const proxy = await databaseProxy(target)
    const port = await proxy.listen(0)
    const viaProxy = new URL(target)
    viaProxy.host = `127.0.0.1:${port}`
    const database = await openDatabase({ url: viaProxy.toString(), poolSize: 2 })
    const outageApp = await buildTestApp({ database, migrate: false })
    try {
      const user = await register(outageApp)
      assert.equal((await outageApp.inject({ method: 'GET', url: '/ready' })).statusCode, 200)

      await proxy.stop()
      expectProblem(await outageApp.inject({ method: 'GET', url: '/ready' }), 503, 'SERVICE_UNAVAILABLE')
      const during = await as(outageApp, user).get('/organizations/me')
      const body = expectProblem(during, 503, 'SERVICE_UNAVAILABLE')
      assert.doesNotMatch(JSON.stringify(body), /ECONNREFUSED|127\.0\.0\.1|terminated/)
      assert.equal((await outageApp.inject({ method: 'GET', url: '/health' })).statusCode, 200)

      await proxy.listen(port)
      let ready = 0
      for (let attempt = 0; attempt < 50 && ready !== 200; attempt++) {
        ready = (await outageApp.inject({ method: 'GET', url: '/ready' })).statusCode
        if (ready !== 200) await new Promise((resolve) => setTimeout(resolve, 100))
      }
      assert.equal(ready, 200)
      assert.equal((await as(outageApp, user).get('/organizations/me')).statusCode, 200)
    } finally {
      await outageApp.close()
      await database.close()
      await proxy.stop()
    }
  })
})
