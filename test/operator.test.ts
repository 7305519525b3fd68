import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { Writable } from 'node:stream'
import { after, before, describe, it } from 'node:test'
import { sql } from 'drizzle-orm'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { hashPassword } from '../src/auth/passwords.js'
import { ConfigError, loadConfig } from '../src/config.js'
import { users } from '../src/db/schema.js'
import { loggerOptions } from '../src/lib/logging.js'
import {
  API,
  as,
  buildTestApp,
  createDeal,
  expectProblem,
  PASSWORD,
  register,
  testConfig,
} from './helpers.js'

const onPostgres = Boolean(process.env.TEST_DATABASE_URL)

/** A metric sample's value from the Prometheus text, or undefined when the series is absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (.+)$/.exec(line)
    if (!match || match[1] !== name) continue
    const given = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    )
    if (Object.entries(labels).every(([key, value]) => given[key] === value)) return Number(match[3])
  }
  return undefined
}

describe('/metrics', () => {
  let app: FastifyInstance
  before(async () => {
    app = await buildTestApp()
  })
  after(() => app.close())

  it('counts requests by route pattern and status, never by raw URL', async () => {
    const user = await register(app)
    const missing = randomUUID()
    for (let i = 0; i < 3; i++) {
      expectProblem(
        await as(app, user, user.organizationId).get(`/contacts/${missing}`),
        404,
        'CONTACT_NOT_FOUND',
      )
    }
    await app.inject({ method: 'GET', url: `/no/such/${missing}` })
    const response = await app.inject({ method: 'GET', url: '/metrics' })
    assert.equal(response.statusCode, 200)
    assert.match(String(response.headers['content-type']), /^text\/plain; version=0\.0\.4/)
    const text = response.body
    const labels = { method: 'GET', route: '/api/v1/contacts/:id', status_code: '404' }
    assert.equal(sample(text, 'http_requests_total', labels), 3)
    assert.equal(sample(text, 'http_request_duration_seconds_count', labels), 3)
    assert.equal(
      sample(text, 'http_requests_total', { route: '/api/v1/auth/register', status_code: '201' }),
      1,
    )
    assert.equal(sample(text, 'http_requests_total', { route: 'unmatched', status_code: '404' }), 1)
    assert.ok(!text.includes(missing), 'no raw id in any label')
    assert.ok((sample(text, 'nodejs_eventloop_lag_seconds') ?? -1) >= 0, 'event-loop lag')
    if (onPostgres) {
      assert.ok((sample(text, 'db_pool_connections', { state: 'idle' }) ?? -1) >= 0)
      assert.equal(typeof sample(text, 'db_pool_connections', { state: 'in_use' }), 'number')
      assert.equal(sample(text, 'db_pool_connections', { state: 'waiting' }), 0)
    }
  })

  it('reports the analytics cache hit ratio', async () => {
    const user = await register(app)
    await createDeal(app, user, user.organizationId, { amount: '10.00' })
    const before = await app.inject({ method: 'GET', url: '/metrics' })
    const hitsBefore = sample(before.body, 'analytics_cache_lookups_total', { result: 'hit' }) ?? 0
    const missesBefore = sample(before.body, 'analytics_cache_lookups_total', { result: 'miss' }) ?? 0
    const api = as(app, user, user.organizationId)
    for (let i = 0; i < 4; i++) assert.equal((await api.get('/analytics/deals/funnel')).statusCode, 200)
    const text = (await app.inject({ method: 'GET', url: '/metrics' })).body
    assert.equal(sample(text, 'analytics_cache_lookups_total', { result: 'miss' }), missesBefore + 1)
    assert.equal(sample(text, 'analytics_cache_lookups_total', { result: 'hit' }), hitsBefore + 3)
    const ratio = sample(text, 'analytics_cache_hit_ratio') ?? -1
    assert.ok(ratio > 0 && ratio < 1, `ratio ${ratio}`)
  })

  it('asks for METRICS_TOKEN when one is set, and is absent when disabled', async () => {
    const token = 'metrics-token-0123456789'
    const guarded = await buildTestApp({ config: { metrics: { enabled: true, token } } })
    const off = await buildTestApp({ config: { metrics: { enabled: false, token: undefined } } })
    try {
      expectProblem(await guarded.inject({ method: 'GET', url: '/metrics' }), 401, 'UNAUTHORIZED')
      const wrong = await guarded.inject({
        method: 'GET',
        url: '/metrics',
        headers: { authorization: `Bearer ${token}x` },
      })
      expectProblem(wrong, 401, 'UNAUTHORIZED')
      const right = await guarded.inject({
        method: 'GET',
        url: '/metrics',
        headers: { authorization: `Bearer ${token}` },
      })
      assert.equal(right.statusCode, 200)
      expectProblem(await off.inject({ method: 'GET', url: '/metrics' }), 404, 'NOT_FOUND')
    } finally {
      await guarded.close()
      await off.close()
    }
  })
})

describe('security headers and caching', () => {
  let app: FastifyInstance
  before(async () => {
    app = await buildTestApp()
  })
  after(() => app.close())

  it('sends helmet headers on API answers, errors and the docs, with a CSP the docs UI works under', async () => {
    for (const url of ['/health', '/api/v1/contacts', '/docs/', '/nowhere']) {
      const response = await app.inject({ method: 'GET', url })
      assert.equal(response.headers['x-content-type-options'], 'nosniff', url)
      assert.equal(response.headers['x-frame-options'], 'SAMEORIGIN', url)
      assert.match(String(response.headers['strict-transport-security']), /max-age=\d+/, url)
      const csp = String(response.headers['content-security-policy'])
      assert.match(csp, /default-src 'self'/, url)
      assert.match(csp, /script-src 'self'/, url)
      assert.doesNotMatch(csp, /upgrade-insecure-requests/, url)
    }
    // The docs page loads only same-origin scripts and styles, which the CSP allows.
    const page = await app.inject({ method: 'GET', url: '/docs/' })
    assert.equal(page.statusCode, 200)
    const sources = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string)
    assert.ok(sources.length > 0)
    for (const source of sources) {
      assert.ok(!/^(https?:)?\/\//.test(source), `${source} is same-origin`)
      const asset = await app.inject({ method: 'GET', url: new URL(source, 'http://x/docs/').pathname })
      assert.equal(asset.statusCode, 200, source)
    }
    const initializer = await app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' })
    assert.match(
      initializer.body,
      /url: resolveUrl\('\.\/json'\)/,
      'the UI reads the document from this origin',
    )
  })

  it('answers every token-bearing response with Cache-Control: no-store, others without', async () => {
    const email = `nostore-${randomUUID()}@example.test`
    const registered = await app.inject({
      method: 'POST',
      url: `${API}/auth/register`,
      payload: { email, password: PASSWORD, name: 'N', organization_name: 'O' },
    })
    assert.equal(registered.statusCode, 201)
    assert.equal(registered.headers['cache-control'], 'no-store')
    const login = await app.inject({
      method: 'POST',
      url: `${API}/auth/login`,
      payload: { email, password: PASSWORD },
    })
    assert.equal(login.statusCode, 200)
    assert.equal(login.headers['cache-control'], 'no-store')
    const refresh = await app.inject({
      method: 'POST',
      url: `${API}/auth/refresh`,
      payload: { refresh_token: login.json().refresh_token },
    })
    assert.equal(refresh.statusCode, 200)
    assert.equal(refresh.headers['cache-control'], 'no-store')
    const failed = await app.inject({
      method: 'POST',
      url: `${API}/auth/login`,
      payload: { email, password: 'x' },
    })
    assert.equal(failed.headers['cache-control'], 'no-store', 'the route is no-store whatever the outcome')
    const health = await app.inject({ method: 'GET', url: '/health' })
    assert.equal(health.headers['cache-control'], undefined)
  })

  it('marks a future route no-store by its response schema alone', async () => {
    const fresh = await buildTestApp()
    try {
      fresh.get(
        '/test/api-key',
        { schema: { response: { 201: Type.Object({ id: Type.String(), api_key: Type.String() }) } } },
        async (_request, reply) => reply.code(201).send({ id: '1', api_key: 'k' }),
      )
      fresh.get(
        '/test/plain',
        { schema: { response: { 200: Type.Object({ id: Type.String(), token_type: Type.String() }) } } },
        async () => ({ id: '1', token_type: 'bearer' }),
      )
      const keyed = await fresh.inject({ method: 'GET', url: '/test/api-key' })
      assert.equal(keyed.headers['cache-control'], 'no-store')
      const plain = await fresh.inject({ method: 'GET', url: '/test/plain' })
      assert.equal(plain.headers['cache-control'], undefined)
    } finally {
      await fresh.close()
    }
  })
})

describe('TRUST_PROXY', () => {
  const tight = { loginPerAddress: { limit: 2, windowMs: 60_000 } }
  const login = (app: FastifyInstance, forwardedFor: string) =>
    app.inject({
      method: 'POST',
      url: `${API}/auth/login`,
      headers: { 'x-forwarded-for': forwardedFor },
      payload: { email: `nobody-${randomUUID()}@example.test`, password: 'wrong password' },
    })

  it('rate-limits by the forwarded client address only behind a trusted proxy', async () => {
    const trusting = await buildTestApp({ config: { trustProxy: true }, rateLimits: tight })
    const direct = await buildTestApp({ rateLimits: tight })
    try {
      // Behind the proxy: each client has its own budget.
      for (const client of ['203.0.113.7', '203.0.113.7'])
        expectProblem(await login(trusting, client), 401, 'INVALID_CREDENTIALS')
      expectProblem(await login(trusting, '203.0.113.7'), 429, 'RATE_LIMITED')
      expectProblem(await login(trusting, '198.51.100.9'), 401, 'INVALID_CREDENTIALS')
      // Without it, a forged header buys nothing: the socket address is the key.
      expectProblem(await login(direct, '203.0.113.1'), 401, 'INVALID_CREDENTIALS')
      expectProblem(await login(direct, '203.0.113.2'), 401, 'INVALID_CREDENTIALS')
      expectProblem(await login(direct, '203.0.113.3'), 429, 'RATE_LIMITED')
    } finally {
      await trusting.close()
      await direct.close()
    }
  })

  it('reads true, false, a hop count or addresses, and refuses anything else', () => {
    const env = { SECRET_KEY: 'k'.repeat(32) }
    const dir = 'memory://'
    assert.equal(loadConfig(env, dir).trustProxy, false)
    assert.equal(loadConfig({ ...env, TRUST_PROXY: 'true' }, dir).trustProxy, true)
    assert.equal(loadConfig({ ...env, TRUST_PROXY: '2' }, dir).trustProxy, 2)
    assert.deepEqual(loadConfig({ ...env, TRUST_PROXY: '10.0.0.0/8, ::1' }, dir).trustProxy, [
      '10.0.0.0/8',
      '::1',
    ])
    for (const bad of ['yes', '10.0.0.0/33', 'example.com', '0']) {
      assert.throws(() => loadConfig({ ...env, TRUST_PROXY: bad }, dir), ConfigError, bad)
    }
    assert.equal(loadConfig({ ...env, METRICS_ENABLED: 'false' }, dir).metrics.enabled, false)
    assert.throws(() => loadConfig({ ...env, METRICS_ENABLED: 'nope' }, dir), ConfigError)
    assert.throws(() => loadConfig({ ...env, METRICS_TOKEN: 'short' }, dir), ConfigError)
  })
})

describe('logs', () => {
  it('never carry SQL parameters, password hashes, tokens or driver details of a 500', async () => {
    const lines: string[] = []
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean))
        done()
      },
    })
    const config = testConfig({ logLevel: 'info' })
    const app = await buildTestApp({ config, logger: { ...loggerOptions(config, false), stream } })
    const passwordHash = await hashPassword('a password nobody should read')
    const secretEmail = `leak-${randomUUID()}@example.test`
    let user = undefined as unknown as Awaited<ReturnType<typeof register>>
    // A real driver error whose parameters hold a password hash and an email: a duplicate primary key.
    app.post('/test/boom', async () => {
      await app.db.db.insert(users).values({ id: user.id, email: secretEmail, passwordHash, name: 'Leak' })
      return {}
    })
    // A database message that quotes the offending value.
    app.post('/test/cast', async () => {
      await app.db.db.execute(sql`SELECT ${`secret-${user.refreshToken}`}::uuid`)
      return {}
    })
    app.post('/test/log-secrets', async (request) => {
      request.log.info(
        { body: { password: PASSWORD, refresh_token: user.refreshToken }, token: user.token },
        'body',
      )
      return {}
    })
    user = await register(app)
    try {
      for (const url of ['/test/boom', '/test/cast']) {
        const response = await app.inject({
          method: 'POST',
          url,
          headers: { authorization: `Bearer ${user.token}` },
        })
        expectProblem(response, 500, 'INTERNAL_ERROR')
      }
      await app.inject({
        method: 'POST',
        url: '/test/log-secrets',
        headers: { authorization: `Bearer ${user.token}` },
      })
    } finally {
      await app.close()
    }
    const text = lines.join('\n')
    const failures = lines.map((line) => JSON.parse(line)).filter((entry) => entry.msg === 'request failed')
    assert.equal(failures.length, 2, 'both 500s are logged')
    // Still useful: the error type, SQLSTATE and constraint.
    assert.ok(failures.some((entry) => entry.err?.cause?.code === '23505' && entry.err.cause.constraint))
    assert.ok(failures.some((entry) => entry.err?.cause?.code === '22P02'))
    for (const secret of [passwordHash, secretEmail, user.refreshToken, user.token, PASSWORD, user.id]) {
      assert.ok(!text.includes(secret), `log leaks ${secret.slice(0, 24)}…`)
    }
    assert.ok(!/insert into|select .*::uuid|params:|Key \(/i.test(text), 'no SQL text, parameters or detail')
    assert.ok(text.includes('[redacted]'))
    // The application's line is redacted; Fastify's two lines of the same request keep their fields and id.
    const entries = lines.map((line) => JSON.parse(line))
    const secrets = entries.find((entry) => entry.msg === 'body')
    assert.equal(secrets.body.password, '[redacted]')
    assert.equal(secrets.body.refresh_token, '[redacted]')
    assert.equal(secrets.token, '[redacted]')
    const ofRequest = entries.filter((entry) => entry.reqId === secrets.reqId)
    assert.deepEqual(
      ofRequest.map((entry) => entry.msg),
      ['incoming request', 'body', 'request completed'],
    )
    const [incoming, , completed] = ofRequest
    assert.equal(incoming.level, 30)
    assert.deepEqual(
      { method: incoming.req.method, url: incoming.req.url, host: incoming.req.host },
      { method: 'POST', url: '/test/log-secrets', host: 'localhost:80' },
    )
    // Rendered by allow-lists (src/lib/logging.ts), not redacted: no header ever reaches them.
    const allowed = ['method', 'url', 'version', 'host', 'remoteAddress', 'remotePort']
    assert.deepEqual(
      Object.keys(incoming.req).filter((key) => !allowed.includes(key)),
      [],
    )
    assert.deepEqual(completed.res, { statusCode: 200 })
    assert.equal(typeof completed.responseTime, 'number')
  })

  it('are coloured lines on a terminal outside production, JSON otherwise', () => {
    const dev = testConfig({ nodeEnv: 'development' })
    assert.equal(
      (loggerOptions(dev, true) as { transport?: { target: string } }).transport?.target,
      'pino-pretty',
    )
    assert.equal((loggerOptions(dev, false) as { transport?: unknown }).transport, undefined)
    const production = testConfig({ nodeEnv: 'production' })
    assert.equal((loggerOptions(production, true) as { transport?: unknown }).transport, undefined)
  })
})
