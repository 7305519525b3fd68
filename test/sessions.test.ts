/**
 * Spec §15 sessions: `sid` in access tokens, the list and delete routes, and every way a session ends (logout,
 * delete, refresh-token reuse, password change, password reset) making its access tokens fail at once: on the
 * instance that ended it, on a new instance started afterwards, on another instance through Redis, and with
 * Redis unreachable or cut off (the database is asked instead).
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import { type Database, openDatabase } from '../src/db/client.js'
import { bearer, buildAccountsApp, login, me, post, sessionIdOf } from './accounts-kit.js'
import { API, as, expectProblem, PASSWORD, register, type TestUser } from './helpers.js'
import { linkToken, startMailServer, type TestMailServer } from './smtp.js'

const REDIS_URL = process.env.REDIS_URL
const NEW_PASSWORD = 'a brand new password'

let app: FastifyInstance
let mail: TestMailServer
before(async () => {
  mail = await startMailServer()
  app = await buildAccountsApp({ mail })
})
after(async () => {
  await app.close()
  await mail.close()
})

const sessions = (instance: FastifyInstance, token: string) =>
  instance.inject({ method: 'GET', url: `${API}/auth/sessions`, headers: bearer(token) })
const deleteSession = (instance: FastifyInstance, token: string, id: string) =>
  instance.inject({ method: 'DELETE', url: `${API}/auth/sessions/${id}`, headers: bearer(token) })

async function expectEnded(instance: FastifyInstance, token: string) {
  const body = expectProblem(await me(instance, token), 401, 'INVALID_TOKEN')
  assert.match(body.detail, /session/)
}

/** One way of ending a session, acting on `on`; returns the access tokens that must now fail. */
type Ending = (on: FastifyInstance, user: TestUser) => Promise<{ dead: string[]; alive?: string[] }>

const endings: [string, Ending][] = [
  [
    'logout',
    async (on, user) => {
      const other = await login(on, user, PASSWORD)
      assert.equal((await post(on, '/auth/logout', { refresh_token: user.refreshToken })).statusCode, 204)
      return { dead: [user.token], alive: [other.token] }
    },
  ],
  [
    'DELETE /auth/sessions/{id}',
    async (on, user) => {
      const other = await login(on, user, PASSWORD)
      const response = await deleteSession(on, other.token, sessionIdOf(user.token))
      assert.equal(response.statusCode, 204)
      return { dead: [user.token], alive: [other.token] }
    },
  ],
  [
    'refresh-token reuse',
    async (on, user) => {
      const rotated = (await post(on, '/auth/refresh', { refresh_token: user.refreshToken })).json()
      expectProblem(
        await post(on, '/auth/refresh', { refresh_token: user.refreshToken }),
        401,
        'INVALID_TOKEN',
      )
      // Both the token from before the rotation and the one after it belong to the ended session.
      return { dead: [user.token, rotated.access_token] }
    },
  ],
  [
    'password change',
    async (on, user) => {
      const other = await login(on, user, PASSWORD)
      const response = await post(
        on,
        '/auth/password',
        { current_password: PASSWORD, new_password: NEW_PASSWORD },
        bearer(user.token),
      )
      assert.equal(response.statusCode, 200)
      return { dead: [user.token, other.token], alive: [response.json().access_token] }
    },
  ],
  [
    'password reset',
    async (on, user) => {
      const other = await login(on, user, PASSWORD)
      const earlier = mail.to(user.email).length
      assert.equal((await post(on, '/auth/password-reset', { email: user.email })).statusCode, 202)
      const token = linkToken(await mail.waitFor(user.email, { skip: earlier }), '/reset-password')
      const response = await post(on, '/auth/password-reset/confirm', { token, new_password: NEW_PASSWORD })
      assert.equal(response.statusCode, 204)
      return { dead: [user.token, other.token] }
    },
  ],
]

describe('sessions', () => {
  it('puts the session in the access token (sid) and lists it as current', async () => {
    const user = await register(app)
    const sid = sessionIdOf(user.token)
    const second = await login(app, user, PASSWORD, 'Second Browser/1.0')
    const response = await sessions(app, user.token)
    assert.equal(response.statusCode, 200)
    const list = response.json()
    assert.equal(list.length, 2)
    for (const session of list) {
      assert.deepEqual(Object.keys(session).sort(), [
        'created_at',
        'current',
        'id',
        'ip',
        'last_used_at',
        'user_agent',
      ])
    }
    const [newest, oldest] = list
    assert.equal(newest.id, sessionIdOf(second.token))
    assert.equal(newest.user_agent, 'Second Browser/1.0')
    assert.equal(newest.ip, '127.0.0.1')
    assert.equal(newest.current, false)
    assert.equal(oldest.id, sid)
    assert.equal(oldest.current, true)
    // From the other session's point of view, the other one is current.
    const seenBySecond = (await sessions(app, second.token)).json()
    assert.deepEqual(
      seenBySecond.map((s: { id: string; current: boolean }) => [s.id, s.current]),
      [
        [sessionIdOf(second.token), true],
        [sid, false],
      ],
    )
  })

  it('keeps the session across refreshes and updates last_used_at', async () => {
    const user = await register(app)
    const [before] = (await sessions(app, user.token)).json()
    await sleep(5)
    const pair = (await post(app, '/auth/refresh', { refresh_token: user.refreshToken })).json()
    assert.equal(sessionIdOf(pair.access_token), sessionIdOf(user.token))
    const [after] = (await sessions(app, pair.access_token)).json()
    assert.equal(after.id, before.id)
    assert.equal(after.created_at, before.created_at)
    assert.ok(after.last_used_at > before.last_used_at)
  })

  it("shows only the caller's live sessions", async () => {
    const [ann, bob] = await Promise.all([register(app), register(app)])
    const extra = await login(app, ann, PASSWORD)
    await post(app, '/auth/logout', { refresh_token: extra.refreshToken })
    const list = (await sessions(app, ann.token)).json()
    assert.deepEqual(
      list.map((s: { id: string }) => s.id),
      [sessionIdOf(ann.token)],
    )
    assert.ok(!list.some((s: { id: string }) => s.id === sessionIdOf(bob.token)))
  })

  it('answers 404 SESSION_NOT_FOUND for another user’s, an unknown or an ended session; 400 for a bad id', async () => {
    const [ann, bob] = await Promise.all([register(app), register(app)])
    expectProblem(await deleteSession(app, ann.token, sessionIdOf(bob.token)), 404, 'SESSION_NOT_FOUND')
    assert.equal((await me(app, bob.token)).statusCode, 200, "bob's session was not touched")
    expectProblem(
      await deleteSession(app, ann.token, '018f0000-0000-7000-8000-000000000000'),
      404,
      'SESSION_NOT_FOUND',
    )
    const extra = await login(app, ann, PASSWORD)
    assert.equal((await deleteSession(app, ann.token, sessionIdOf(extra.token))).statusCode, 204)
    expectProblem(await deleteSession(app, ann.token, sessionIdOf(extra.token)), 404, 'SESSION_NOT_FOUND')
    expectProblem(await deleteSession(app, ann.token, 'not-a-uuid'), 400, 'VALIDATION_ERROR')
    expectProblem(await app.inject({ method: 'GET', url: `${API}/auth/sessions` }), 401, 'UNAUTHORIZED')
  })

  it('ends the calling session itself on DELETE of its own id, refresh token included', async () => {
    const user = await register(app)
    assert.equal((await deleteSession(app, user.token, sessionIdOf(user.token))).statusCode, 204)
    await expectEnded(app, user.token)
    expectProblem(
      await post(app, '/auth/refresh', { refresh_token: user.refreshToken }),
      401,
      'INVALID_TOKEN',
    )
  })

  it('never leaves a live token behind when a refresh races the end of its session', async () => {
    for (let round = 0; round < 5; round++) {
      const user = await register(app)
      const other = await login(app, user, PASSWORD)
      const [refreshed, deleted] = await Promise.all([
        post(app, '/auth/refresh', { refresh_token: user.refreshToken }),
        deleteSession(app, other.token, sessionIdOf(user.token)),
      ])
      assert.equal(deleted.statusCode, 204)
      await expectEnded(app, user.token)
      if (refreshed.statusCode === 200) {
        const pair = refreshed.json()
        await expectEnded(app, pair.access_token)
        expectProblem(
          await post(app, '/auth/refresh', { refresh_token: pair.refresh_token }),
          401,
          'INVALID_TOKEN',
        )
      } else {
        expectProblem(refreshed, 401, 'INVALID_TOKEN')
      }
    }
  })
})

describe('ending a session kills its access tokens at once (one instance)', () => {
  for (const [how, end] of endings) {
    it(`by ${how}`, async () => {
      const user = await register(app)
      assert.equal((await me(app, user.token)).statusCode, 200)
      const { dead, alive = [] } = await end(app, user)
      for (const token of dead) await expectEnded(app, token)
      for (const token of alive) assert.equal((await me(app, token)).statusCode, 200)
      // Every route refuses it, not only /auth/me.
      for (const token of dead) {
        expectProblem(await as(app, { ...user, token }).get('/organizations/me'), 401, 'INVALID_TOKEN')
        expectProblem(
          await as(app, { ...user, token }, user.organizationId).get('/contacts'),
          401,
          'INVALID_TOKEN',
        )
      }
    })
  }

  it('and an instance started afterwards refuses them too (revocations are loaded at start)', async () => {
    const user = await register(app)
    await post(app, '/auth/logout', { refresh_token: user.refreshToken })
    const later = await buildAccountsApp({ database: app.db, config: { secretKey: app.config.secretKey } })
    try {
      await expectEnded(later, user.token)
    } finally {
      await later.close()
    }
  })
})

/** On PGlite, the instances of every test share one in-memory database (made once: it is slow to start). */
let sharedPglite: Promise<Database> | undefined
after(async () => {
  if (sharedPglite) await (await sharedPglite).close()
})

/** Instances of the app on one database (PostgreSQL: TEST_DATABASE_URL; PGlite: one shared in-memory database). */
async function instances(redisUrls: (string | undefined)[], revocationPollMs?: number) {
  const secretKey = randomBytes(32).toString('hex')
  let shared: Database | undefined
  if (!process.env.TEST_DATABASE_URL) {
    sharedPglite ??= openDatabase({ pgliteDataDir: 'memory://' })
    shared = await sharedPglite
  }
  const apps: FastifyInstance[] = []
  for (const redisUrl of redisUrls) {
    apps.push(
      await buildAccountsApp({
        mail,
        config: { redisUrl, secretKey },
        ...(shared ? { database: shared } : {}),
        ...(revocationPollMs ? { revocationPollMs } : {}),
      }),
    )
  }
  return {
    apps,
    close: async () => {
      for (const instance of apps) await instance.close()
    },
  }
}

async function until(condition: () => boolean, what: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await sleep(10)
  }
}

/**
 * Redis delivers a publish to the other instance's subscriber a moment after the publisher's reply: allow it
 * that moment (bounded: 500 ms), then the token must fail on every request.
 */
async function expectEndedOn(instance: FastifyInstance, token: string) {
  const deadline = Date.now() + 500
  while ((await me(instance, token)).statusCode === 200) {
    if (Date.now() > deadline) assert.fail('the other instance still accepts the token after 500 ms')
    await sleep(5)
  }
  await expectEnded(instance, token)
}

describe('across instances sharing Redis', { skip: !REDIS_URL && 'needs REDIS_URL' }, () => {
  for (const [how, end] of endings) {
    it(`ending by ${how} on one instance kills the tokens on the other`, async () => {
      const { apps, close } = await instances([REDIS_URL, REDIS_URL])
      const [first, second] = apps as [FastifyInstance, FastifyInstance]
      try {
        await until(
          () => first.revocations.trusted && second.revocations.trusted,
          'both instances subscribed',
        )
        const user = await register(first)
        // The second instance has seen (and remembered as verified) the token before it ends.
        assert.equal((await me(second, user.token)).statusCode, 200)
        const { dead, alive = [] } = await end(first, user)
        for (const token of dead) await expectEndedOn(second, token)
        for (const token of alive) assert.equal((await me(second, token)).statusCode, 200)
      } finally {
        await close()
      }
    })
  }
})

/** A TCP hop in front of Redis that can drop every connection (Redis gone) and come back. */
async function redisProxy(target: string) {
  const upstreamUrl = new URL(target)
  const pairs = new Set<{ client: Socket; upstream: Socket }>()
  const server: Server = createServer((client) => {
    const upstream = tcpConnect(Number(upstreamUrl.port || 6379), upstreamUrl.hostname)
    const pair = { client, upstream }
    pairs.add(pair)
    client.pipe(upstream)
    upstream.pipe(client)
    const close = () => {
      pairs.delete(pair)
      client.destroy()
      upstream.destroy()
    }
    for (const socket of [client, upstream]) {
      socket.on('error', close)
      socket.on('close', close)
    }
  })
  const listen = (port: number) => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  await listen(0)
  const port = (server.address() as { port: number }).port
  const url = new URL(target)
  url.hostname = '127.0.0.1'
  url.port = String(port)
  return {
    url: url.toString(),
    async cut() {
      const closed = new Promise((resolve) => server.close(resolve))
      for (const { client, upstream } of pairs) {
        client.destroy()
        upstream.destroy()
      }
      await closed
    },
    restore: () => listen(port),
    close: () => new Promise((resolve) => server.close(resolve)),
  }
}

describe('fail safe without the revocation channel', () => {
  it('an instance whose Redis is unreachable asks the database, so it misses no revocation', async () => {
    const { apps, close } = await instances([undefined, 'redis://127.0.0.1:1'])
    const [first, cutOff] = apps as [FastifyInstance, FastifyInstance]
    try {
      assert.equal(cutOff.revocations.trusted, false)
      const user = await register(first)
      assert.equal((await me(cutOff, user.token)).statusCode, 200)
      await post(first, '/auth/logout', { refresh_token: user.refreshToken })
      // No message can reach it, yet it refuses the token on the very next request.
      await expectEnded(cutOff, user.token)
    } finally {
      await close()
    }
  })

  it('Redis going away mid-run: the instance falls back to the database, then resyncs when it returns', {
    skip: !REDIS_URL && 'needs REDIS_URL',
  }, async () => {
    const proxy = await redisProxy(REDIS_URL as string)
    const { apps, close } = await instances([REDIS_URL, proxy.url])
    const [first, behindProxy] = apps as [FastifyInstance, FastifyInstance]
    try {
      await until(() => first.revocations.trusted && behindProxy.revocations.trusted, 'both subscribed')
      const [ann, bob] = await Promise.all([register(first), register(first)])
      assert.equal((await me(behindProxy, ann.token)).statusCode, 200)
      await proxy.cut()
      await until(() => !behindProxy.revocations.trusted, 'the instance notices that Redis is gone')
      // Published while the instance cannot hear it: the database check catches it.
      await post(first, '/auth/logout', { refresh_token: ann.refreshToken })
      await expectEnded(behindProxy, ann.token)
      assert.equal((await me(behindProxy, bob.token)).statusCode, 200)
      await proxy.restore()
      await until(() => behindProxy.revocations.trusted, 'the instance resubscribed and reloaded')
      await expectEnded(behindProxy, ann.token)
      await post(first, '/auth/logout', { refresh_token: bob.refreshToken })
      await expectEndedOn(behindProxy, bob.token)
    } finally {
      await close()
      await proxy.close()
    }
  })

  it('without Redis, other instances learn revocations from the periodic database poll', async () => {
    const { apps, close } = await instances([undefined, undefined], 50)
    const [first, second] = apps as [FastifyInstance, FastifyInstance]
    try {
      const user = await register(first)
      assert.equal((await me(second, user.token)).statusCode, 200)
      await post(first, '/auth/logout', { refresh_token: user.refreshToken })
      const deadline = Date.now() + 3_000
      while ((await me(second, user.token)).statusCode === 200) {
        if (Date.now() > deadline) assert.fail('the poll did not bring the revocation within 3 s')
        await sleep(20)
      }
      await expectEnded(second, user.token)
    } finally {
      await close()
    }
  })
})
