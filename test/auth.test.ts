import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { sql } from 'drizzle-orm'
import type { FastifyInstance } from 'fastify'
import { SignJWT } from 'jose'
import { queryRows } from '../src/db/client.js'
import { uuidv7 } from '../src/lib/uuid.js'
import {
  API,
  as,
  buildTestApp,
  expectProblem,
  PASSWORD,
  register,
  type TestUser,
  uniqueEmail,
  withoutRequestId,
} from './helpers.js'

let app: FastifyInstance
before(async () => {
  app = await buildTestApp()
})
after(() => app.close())

const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url: `${API}${url}`, payload: payload as object, headers })
const registration = (email: string) => ({
  email,
  password: PASSWORD,
  name: 'Ann',
  organization_name: 'Acme',
})

describe('POST /auth/register', () => {
  it('creates the user, an organization they own, and a token pair', async () => {
    const email = uniqueEmail('Reg')
    const response = await post('/auth/register', { ...registration(`  ${email.toUpperCase()} `) })
    assert.equal(response.statusCode, 201)
    const body = response.json()
    assert.deepEqual(Object.keys(body).sort(), [
      'access_token',
      'email',
      'expires_in',
      'name',
      'organization_id',
      'organization_name',
      'refresh_token',
      'token_type',
      'user_id',
    ])
    assert.equal(body.email, email.toLowerCase())
    assert.equal(body.organization_name, 'Acme')
    assert.equal(body.token_type, 'bearer')
    assert.equal(body.expires_in, 1800)
    assert.ok(body.refresh_token.length >= 32)
    const user = { token: body.access_token } as TestUser
    const orgs = (await as(app, user).get('/organizations/me')).json()
    assert.deepEqual(
      orgs.map((o: { id: string; name: string; role: string }) => [o.id, o.name, o.role]),
      [[body.organization_id, 'Acme', 'owner']],
    )
  })

  it('stores an argon2id hash with the OWASP parameters, never the password', async () => {
    const user = await register(app)
    const [row] = await queryRows<{ password_hash: string }>(
      app.db.db,
      sql`SELECT password_hash FROM users WHERE id = ${user.id}`,
    )
    assert.match(row?.password_hash ?? '', /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
  })

  it('answers 409 EMAIL_ALREADY_EXISTS for a taken email in any case', async () => {
    const email = uniqueEmail()
    assert.equal((await post('/auth/register', registration(email))).statusCode, 201)
    expectProblem(
      await post('/auth/register', registration(` ${email.toUpperCase()}`)),
      409,
      'EMAIL_ALREADY_EXISTS',
    )
  })

  it('gives one 201 and seven 409 for 8 parallel registrations of one email', async () => {
    const email = uniqueEmail('race')
    const responses = await Promise.all(
      Array.from({ length: 8 }, () => post('/auth/register', registration(email))),
    )
    const statuses = responses.map((r) => r.statusCode).sort()
    assert.deepEqual(statuses, [201, 409, 409, 409, 409, 409, 409, 409])
    for (const r of responses.filter((r) => r.statusCode === 409))
      expectProblem(r, 409, 'EMAIL_ALREADY_EXISTS')
    const rows = await queryRows<{ n: number }>(
      app.db.db,
      sql`SELECT count(*)::int AS n FROM users WHERE email = ${email}`,
    )
    assert.equal(rows[0]?.n, 1)
  })

  const invalid: [string, Record<string, unknown>, string][] = [
    ['a short password', { password: 'short' }, 'body.password'],
    ['a 129-character password', { password: 'p'.repeat(129) }, 'body.password'],
    ['an empty name', { name: '' }, 'body.name'],
    ['a 256-character organization name', { organization_name: 'o'.repeat(256) }, 'body.organization_name'],
    ['an invalid email', { email: 'not-an-email' }, 'body.email'],
    ['a null name', { name: null }, 'body.name'],
    ['a number as password', { password: 12345678 }, 'body.password'],
    ['an unknown field', { role: 'admin' }, 'body.role'],
  ]
  for (const [what, change, field] of invalid) {
    it(`rejects ${what} with 400 VALIDATION_ERROR naming ${field}`, async () => {
      const body = expectProblem(
        await post('/auth/register', { ...registration(uniqueEmail()), ...change }),
        400,
        'VALIDATION_ERROR',
      )
      assert.ok(
        body.errors.some((e: { field: string }) => e.field === field),
        `errors ${JSON.stringify(body.errors)} should name ${field}`,
      )
    })
  }

  it('rejects a missing field naming it', async () => {
    const { name: _name, ...rest } = registration(uniqueEmail())
    const body = expectProblem(await post('/auth/register', rest), 400, 'VALIDATION_ERROR')
    assert.deepEqual(body.errors, [{ field: 'body.name', message: 'is required' }])
  })
})

describe('POST /auth/login', () => {
  it('returns a working token pair', async () => {
    const user = await register(app)
    const response = await post('/auth/login', { email: ` ${user.email.toUpperCase()} `, password: PASSWORD })
    assert.equal(response.statusCode, 200)
    const body = response.json()
    assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'refresh_token', 'token_type'])
    const me = await as(app, { ...user, token: body.access_token }).get('/auth/me')
    assert.equal(me.json().id, user.id)
  })

  it('answers a wrong password and an unknown email with the same 401 INVALID_CREDENTIALS', async () => {
    const user = await register(app)
    const wrong = expectProblem(
      await post('/auth/login', { email: user.email, password: 'wrong password' }),
      401,
      'INVALID_CREDENTIALS',
    )
    const unknown = expectProblem(
      await post('/auth/login', { email: uniqueEmail(), password: 'wrong password' }),
      401,
      'INVALID_CREDENTIALS',
    )
    assert.deepEqual(withoutRequestId(wrong), withoutRequestId(unknown))
  })
})

describe('POST /auth/refresh', () => {
  it('rotates: the new pair works and the old refresh token stops working', async () => {
    const user = await register(app)
    const first = await post('/auth/refresh', { refresh_token: user.refreshToken })
    assert.equal(first.statusCode, 200)
    const pair = first.json()
    assert.notEqual(pair.refresh_token, user.refreshToken)
    assert.equal((await as(app, { ...user, token: pair.access_token }).get('/auth/me')).statusCode, 200)
    const second = await post('/auth/refresh', { refresh_token: pair.refresh_token })
    assert.equal(second.statusCode, 200)
  })

  it('treats a rotated token as reuse: 401 and the whole family is revoked', async () => {
    const user = await register(app)
    const rotated = (await post('/auth/refresh', { refresh_token: user.refreshToken })).json()
    expectProblem(await post('/auth/refresh', { refresh_token: user.refreshToken }), 401, 'INVALID_TOKEN')
    // The descendant issued before the reuse is revoked too.
    expectProblem(await post('/auth/refresh', { refresh_token: rotated.refresh_token }), 401, 'INVALID_TOKEN')
  })

  it('revokes only the family of the reused token, not other sessions', async () => {
    const user = await register(app)
    const other = (await post('/auth/login', { email: user.email, password: PASSWORD })).json()
    await post('/auth/refresh', { refresh_token: user.refreshToken })
    await post('/auth/refresh', { refresh_token: user.refreshToken })
    assert.equal((await post('/auth/refresh', { refresh_token: other.refresh_token })).statusCode, 200)
  })

  it('gives exactly one success for two parallel refreshes with one token', async () => {
    const user = await register(app)
    const responses = await Promise.all([
      post('/auth/refresh', { refresh_token: user.refreshToken }),
      post('/auth/refresh', { refresh_token: user.refreshToken }),
    ])
    assert.deepEqual(responses.map((r) => r.statusCode).sort(), [200, 401])
  })

  it('rejects an unknown token, an access token, and an expired one', async () => {
    const user = await register(app)
    expectProblem(await post('/auth/refresh', { refresh_token: 'nonsense' }), 401, 'INVALID_TOKEN')
    expectProblem(await post('/auth/refresh', { refresh_token: user.token }), 401, 'INVALID_TOKEN')
    await app.db.db.execute(sql`UPDATE refresh_tokens SET expires_at = now() - interval '1 second'
      WHERE user_id = ${user.id}`)
    expectProblem(await post('/auth/refresh', { refresh_token: user.refreshToken }), 401, 'INVALID_TOKEN')
  })

  it('validates the body', async () => {
    expectProblem(await post('/auth/refresh', {}), 400, 'VALIDATION_ERROR')
    expectProblem(await post('/auth/refresh', { refresh_token: 'x', extra: 1 }), 400, 'VALIDATION_ERROR')
    expectProblem(await post('/auth/refresh', { refresh_token: null }), 400, 'VALIDATION_ERROR')
  })
})

describe('POST /auth/logout', () => {
  it('revokes the session: its refresh token and every descendant stop working', async () => {
    const user = await register(app)
    const rotated = (await post('/auth/refresh', { refresh_token: user.refreshToken })).json()
    const response = await post('/auth/logout', { refresh_token: rotated.refresh_token })
    assert.equal(response.statusCode, 204)
    assert.equal(response.body, '')
    expectProblem(await post('/auth/refresh', { refresh_token: rotated.refresh_token }), 401, 'INVALID_TOKEN')
  })

  it('is idempotent for unknown tokens', async () => {
    assert.equal((await post('/auth/logout', { refresh_token: 'unknown' })).statusCode, 204)
  })
})

describe('access tokens', () => {
  const secret = () => new TextEncoder().encode(app.config.secretKey)
  const craft = async (
    claims: Record<string, unknown>,
    options: { alg?: string; key?: Uint8Array; exp?: number; iss?: string; aud?: string; sub?: string } = {},
  ) => {
    const now = Math.floor(Date.now() / 1000)
    let jwt = new SignJWT({ typ: 'access', ...claims })
      .setProtectedHeader({ alg: options.alg ?? 'HS256' })
      .setIssuedAt(now)
      .setExpirationTime(options.exp ?? now + 600)
      .setIssuer(options.iss ?? 'mini-crm')
      .setAudience(options.aud ?? 'mini-crm-api')
      .setJti(uuidv7())
    if (options.sub !== undefined) jwt = jwt.setSubject(options.sub)
    return jwt.sign(options.key ?? secret())
  }
  const me = (token: string) =>
    app.inject({ method: 'GET', url: `${API}/auth/me`, headers: { authorization: `Bearer ${token}` } })

  /** The session (`sid`) of a registered user's real access token. */
  const sessionOf = (user: TestUser): string =>
    JSON.parse(Buffer.from(user.token.split('.')[1] ?? '', 'base64url').toString()).sid

  it('accepts a well-formed token (the crafting below is valid unless changed)', async () => {
    const user = await register(app)
    assert.equal((await me(await craft({ sid: sessionOf(user) }, { sub: user.id }))).statusCode, 200)
  })

  const cases: [string, (userId: string, sid: string) => Promise<string>][] = [
    ['an expired token', (sub, sid) => craft({ sid }, { sub, exp: Math.floor(Date.now() / 1000) - 10 })],
    ['another key', (sub, sid) => craft({ sid }, { sub, key: new TextEncoder().encode('k'.repeat(40)) })],
    ['another algorithm (HS512)', (sub, sid) => craft({ sid }, { sub, alg: 'HS512' })],
    ['the wrong typ', (sub, sid) => craft({ typ: 'refresh', sid }, { sub })],
    ['the wrong issuer', (sub, sid) => craft({ sid }, { sub, iss: 'evil' })],
    ['the wrong audience', (sub, sid) => craft({ sid }, { sub, aud: 'other' })],
    ['no subject', (_sub, sid) => craft({ sid })],
    ['no session (sid)', (sub) => craft({}, { sub })],
    ['a session (sid) that is not a UUID', (sub) => craft({ sid: 'session' }, { sub })],
    ['a subject that is not a UUID', (_sub, sid) => craft({ sid }, { sub: 'admin' })],
    [
      'alg none',
      async (sub, sid) => {
        const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
        const now = Math.floor(Date.now() / 1000)
        return `${enc({ alg: 'none' })}.${enc({ typ: 'access', sub, sid, iat: now, exp: now + 60, iss: 'mini-crm', aud: 'mini-crm-api', jti: 'x' })}.`
      },
    ],
    [
      'a tampered payload',
      async (sub, sid) => {
        const [h, , s] = (await craft({ sid }, { sub })).split('.')
        return `${h}.${Buffer.from(JSON.stringify({ sub: uuidv7(), sid, typ: 'access' })).toString('base64url')}.${s}`
      },
    ],
  ]
  for (const [what, make] of cases) {
    it(`rejects ${what} with 401 INVALID_TOKEN`, async () => {
      const user = await register(app)
      expectProblem(await me(await make(user.id, sessionOf(user))), 401, 'INVALID_TOKEN')
    })
  }

  it('rejects a refresh token used as an access token', async () => {
    const user = await register(app)
    expectProblem(await me(user.refreshToken), 401, 'INVALID_TOKEN')
  })

  it('answers 401 UNAUTHORIZED without a token or with a malformed header', async () => {
    expectProblem(await app.inject({ method: 'GET', url: `${API}/auth/me` }), 401, 'UNAUTHORIZED')
    for (const authorization of ['Basic abc', 'Bearer', 'Bearer a b', 'token']) {
      expectProblem(
        await app.inject({ method: 'GET', url: `${API}/auth/me`, headers: { authorization } }),
        401,
        'UNAUTHORIZED',
      )
    }
  })

  it('answers 401 UNAUTHORIZED for the token of a user that no longer exists', async () => {
    const user = await register(app)
    await app.db.db.execute(sql`DELETE FROM users WHERE id = ${user.id}`)
    expectProblem(await as(app, user).get('/auth/me'), 401, 'UNAUTHORIZED')
    expectProblem(await as(app, user).get('/organizations/me'), 401, 'UNAUTHORIZED')
    expectProblem(
      await as(app, user).get(`/organizations/${user.organizationId}/members`),
      401,
      'UNAUTHORIZED',
    )
  })
})

describe('rate limits', () => {
  it('limits login per email with 429 RATE_LIMITED and Retry-After', async () => {
    const limited = await buildTestApp({
      database: app.db,
      migrate: false,
      rateLimits: { loginPerEmail: { limit: 3, windowMs: 60_000 } },
    })
    try {
      const user = await register(limited)
      const login = (remoteAddress: string) =>
        limited.inject({
          method: 'POST',
          url: `${API}/auth/login`,
          payload: { email: user.email, password: 'wrong password' },
          remoteAddress,
        })
      for (let i = 0; i < 3; i++) expectProblem(await login(`10.0.0.${i}`), 401, 'INVALID_CREDENTIALS')
      const response = await login('10.0.0.9')
      expectProblem(response, 429, 'RATE_LIMITED')
      const retryAfter = Number(response.headers['retry-after'])
      assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${response.headers['retry-after']}`)
      // Correct credentials are refused too while limited; other emails are not affected.
      const other = await register(limited)
      const ok = await limited.inject({
        method: 'POST',
        url: `${API}/auth/login`,
        payload: { email: other.email, password: PASSWORD },
        remoteAddress: '10.0.0.9',
      })
      assert.equal(ok.statusCode, 200)
    } finally {
      await limited.close()
    }
  })

  it('limits register per client address', async () => {
    const limited = await buildTestApp({
      database: app.db,
      migrate: false,
      rateLimits: { registerPerAddress: { limit: 2, windowMs: 60_000 } },
    })
    try {
      const attempt = (remoteAddress: string) =>
        limited.inject({
          method: 'POST',
          url: `${API}/auth/register`,
          payload: registration(uniqueEmail()),
          remoteAddress,
        })
      assert.equal((await attempt('10.1.0.1')).statusCode, 201)
      assert.equal((await attempt('10.1.0.1')).statusCode, 201)
      const refused = await attempt('10.1.0.1')
      expectProblem(refused, 429, 'RATE_LIMITED')
      assert.ok(Number(refused.headers['retry-after']) >= 1)
      assert.equal((await attempt('10.1.0.2')).statusCode, 201)
    } finally {
      await limited.close()
    }
  })

  it('limits login per client address across emails', async () => {
    const limited = await buildTestApp({
      database: app.db,
      migrate: false,
      rateLimits: { loginPerAddress: { limit: 2, windowMs: 60_000 } },
    })
    try {
      const attempt = () =>
        limited.inject({
          method: 'POST',
          url: `${API}/auth/login`,
          payload: { email: uniqueEmail(), password: 'whatever1' },
          remoteAddress: '10.2.0.1',
        })
      expectProblem(await attempt(), 401, 'INVALID_CREDENTIALS')
      expectProblem(await attempt(), 401, 'INVALID_CREDENTIALS')
      expectProblem(await attempt(), 429, 'RATE_LIMITED')
    } finally {
      await limited.close()
    }
  })
})

describe('rate limits with Redis', () => {
  it('are shared by every instance through Redis', {
    skip: !process.env.REDIS_URL && 'needs REDIS_URL',
  }, async () => {
    const options = {
      database: app.db,
      migrate: false,
      config: { redisUrl: process.env.REDIS_URL },
      rateLimits: { loginPerEmail: { limit: 2, windowMs: 60_000 } },
    }
    const first = await buildTestApp(options)
    const second = await buildTestApp(options)
    try {
      await first.ready()
      await second.ready()
      for (let i = 0; i < 50 && !(first.redis?.isReady && second.redis?.isReady); i++) {
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      const email = uniqueEmail('shared-limit')
      const login = (instance: FastifyInstance) =>
        instance.inject({
          method: 'POST',
          url: `${API}/auth/login`,
          payload: { email, password: 'wrong password' },
        })
      expectProblem(await login(first), 401, 'INVALID_CREDENTIALS')
      expectProblem(await login(second), 401, 'INVALID_CREDENTIALS')
      expectProblem(await login(first), 429, 'RATE_LIMITED')
      expectProblem(await login(second), 429, 'RATE_LIMITED')
    } finally {
      await first.close()
      await second.close()
    }
  })

  it('fall back to memory while Redis is unreachable', async () => {
    const limited = await buildTestApp({
      database: app.db,
      migrate: false,
      config: { redisUrl: 'redis://127.0.0.1:1' },
      rateLimits: { loginPerEmail: { limit: 1, windowMs: 60_000 } },
    })
    try {
      const email = uniqueEmail('no-redis')
      const login = () =>
        limited.inject({
          method: 'POST',
          url: `${API}/auth/login`,
          payload: { email, password: 'wrong password' },
        })
      expectProblem(await login(), 401, 'INVALID_CREDENTIALS')
      expectProblem(await login(), 429, 'RATE_LIMITED')
    } finally {
      await limited.close()
    }
  })
})

describe('GET /auth/me', () => {
  it('returns exactly the public fields of the caller', async () => {
    const user = await register(app)
    const response = await as(app, user).get('/auth/me')
    assert.equal(response.statusCode, 200)
    const body = response.json()
    assert.deepEqual(Object.keys(body).sort(), ['created_at', 'email', 'id', 'name'])
    assert.equal(body.id, user.id)
    assert.match(body.created_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
  })
})
