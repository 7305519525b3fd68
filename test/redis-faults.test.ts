/**
 * A hung or vanished Redis (issue 8 §3): every Redis call on a request's path is bounded, and rate-limit
 * counts survive the outage. Redis sits behind a TCP proxy that can stall (accept, never answer) or cut.
 * Needs REDIS_URL; skipped otherwise.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import type { Database } from '../src/db/client.js'
import { openDatabase } from '../src/db/client.js'
import {
  API,
  addMember,
  auth,
  buildTestApp,
  expectProblem,
  PASSWORD,
  register,
  uniqueEmail,
} from './helpers.js'
import { tcpProxy } from './tcp-proxy.js'

const REDIS_URL = process.env.REDIS_URL
/** Far above the 1 s bound of one Redis call, far below "hangs". */
const PROMPT_MS = 5_000

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 300 && !condition(); i++) await sleep(20)
  if (!condition()) throw new Error(`timed out waiting until ${what}`)
}

/** Fails the test (instead of hanging it) when `request` takes longer than PROMPT_MS. */
async function prompt<T>(what: string, request: Promise<T>): Promise<T> {
  const started = Date.now()
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} hung with Redis hung`)), PROMPT_MS * 5)
  })
  try {
    const result = await Promise.race([request, late])
    assert.ok(Date.now() - started < PROMPT_MS, `${what} took ${Date.now() - started} ms`)
    return result
  } finally {
    clearTimeout(timer)
  }
}

describe('Redis hung or gone', { skip: !REDIS_URL && 'needs REDIS_URL' }, () => {
  let database: Database
  let proxy: Awaited<ReturnType<typeof tcpProxy>>
  let app: FastifyInstance
  before(async () => {
    const target = new URL(REDIS_URL as string)
    proxy = await tcpProxy(target.hostname, Number(target.port || 6379))
    database = await openDatabase({
      url: process.env.TEST_DATABASE_URL,
      pgliteDataDir: 'memory://',
      poolSize: 4,
    })
    app = await buildTestApp({
      database,
      config: { redisUrl: proxy.via(REDIS_URL as string) },
      rateLimits: { loginPerEmail: { limit: 4, windowMs: 60_000 } },
    })
    await app.ready()
  })
  after(async () => {
    proxy.resume()
    await app.close()
    await database.close()
    await proxy.close()
  })

  const login = (email: string, password = 'wrong password') =>
    app.inject({ method: 'POST', url: `${API}/auth/login`, payload: { email, password } })

  it('login, register and role changes answer promptly while Redis accepts but never answers', async () => {
    await until(() => app.redis?.isReady === true && app.membershipCache !== undefined, 'Redis is ready')
    const owner = await register(app)
    const member = await register(app)
    await addMember(app, owner, owner.organizationId, member, 'member')
    proxy.stall()
    try {
      const registered = await prompt(
        'register',
        app.inject({
          method: 'POST',
          url: `${API}/auth/register`,
          payload: { email: uniqueEmail('hung'), password: PASSWORD, name: 'H', organization_name: 'H' },
        }),
      )
      assert.equal(registered.statusCode, 201, registered.body)
      const loggedIn = await prompt('login', login(owner.email, PASSWORD))
      assert.equal(loggedIn.statusCode, 200, loggedIn.body)
      const changed = await prompt(
        'role change',
        app.inject({
          method: 'PATCH',
          url: `${API}/organizations/${owner.organizationId}/members/${member.id}`,
          headers: auth(owner),
          payload: { role: 'manager' },
        }),
      )
      assert.equal(changed.statusCode, 200, changed.body)
    } finally {
      proxy.resume()
    }
  })

  it('a stall does not reset the login count of an address: the limit holds across it', async () => {
    await until(() => app.redis?.isReady === true, 'Redis is ready')
    const email = uniqueEmail('stall-brute')
    for (let i = 0; i < 3; i++) expectProblem(await login(email), 401, 'INVALID_CREDENTIALS')
    proxy.stall()
    try {
      expectProblem(await prompt('login', login(email)), 401, 'INVALID_CREDENTIALS')
      expectProblem(await prompt('login', login(email)), 429, 'RATE_LIMITED')
    } finally {
      proxy.resume()
    }
    expectProblem(await login(email), 429, 'RATE_LIMITED')
  })

  it('neither does Redis going away and coming back', async () => {
    await until(() => app.redis?.isReady === true, 'Redis is ready')
    const email = uniqueEmail('cut-brute')
    for (let i = 0; i < 3; i++) expectProblem(await login(email), 401, 'INVALID_CREDENTIALS')
    await proxy.cut()
    try {
      await until(() => app.redis?.isReady === false, 'the client sees Redis gone')
      expectProblem(await login(email), 401, 'INVALID_CREDENTIALS')
      // Today's fallback starts counting from zero here and lets four more guesses through.
      expectProblem(await login(email), 429, 'RATE_LIMITED')
    } finally {
      await proxy.restore()
    }
    await until(() => app.redis?.isReady === true, 'Redis is back')
    expectProblem(await login(email), 429, 'RATE_LIMITED')
  })
})
