/**
 * Spec §15 password change and reset, with the reset link read from a real SMTP server: single use, 60-minute
 * expiry on a controlled clock, every session ending, equal answers and timing for unknown emails, rate limits,
 * and a mail server that is down or refusing (still 202, the email retried in the background).
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { sql } from 'drizzle-orm'
import type { FastifyInstance } from 'fastify'
import { queryRows } from '../src/db/client.js'
import { bearer, buildAccountsApp, compareTimings, login, me, post, testClock } from './accounts-kit.js'
import {
  API,
  expectProblem,
  PASSWORD,
  register,
  type TestUser,
  uniqueEmail,
  withoutRequestId,
} from './helpers.js'
import { linkToken, startMailServer, type TestMailServer } from './smtp.js'

const NEW_PASSWORD = 'a brand new password'
const MINUTE = 60_000

let app: FastifyInstance
let mail: TestMailServer
const clock = testClock()
before(async () => {
  mail = await startMailServer()
  app = await buildAccountsApp({ mail, clock })
})
after(async () => {
  await app.close()
  await mail.close()
})

const canLogIn = async (instance: FastifyInstance, email: string, password: string) =>
  (await post(instance, '/auth/login', { email, password })).statusCode === 200

/** Asks for a reset and returns the token from the delivered email. */
async function resetToken(user: TestUser, instance = app, mailbox = mail): Promise<string> {
  const earlier = mailbox.to(user.email).length
  const response = await post(instance, '/auth/password-reset', { email: user.email })
  assert.equal(response.statusCode, 202)
  return linkToken(await mailbox.waitFor(user.email, { skip: earlier }), '/reset-password')
}

const confirm = (token: string, password = NEW_PASSWORD, instance = app) =>
  post(instance, '/auth/password-reset/confirm', { token, new_password: password })

describe('POST /auth/password (change)', () => {
  it('sets the new password, ends every earlier session and returns a new pair', async () => {
    const user = await register(app)
    const other = await login(app, user, PASSWORD)
    const response = await post(
      app,
      '/auth/password',
      { current_password: PASSWORD, new_password: NEW_PASSWORD },
      bearer(user.token),
    )
    assert.equal(response.statusCode, 200)
    const pair = response.json()
    assert.deepEqual(Object.keys(pair).sort(), ['access_token', 'expires_in', 'refresh_token', 'token_type'])
    assert.equal((await me(app, pair.access_token)).statusCode, 200)
    for (const token of [user.token, other.token]) expectProblem(await me(app, token), 401, 'INVALID_TOKEN')
    for (const refresh of [user.refreshToken, other.refreshToken]) {
      expectProblem(await post(app, '/auth/refresh', { refresh_token: refresh }), 401, 'INVALID_TOKEN')
    }
    assert.equal((await post(app, '/auth/refresh', { refresh_token: pair.refresh_token })).statusCode, 200)
    const sessions = (
      await app.inject({ method: 'GET', url: `${API}/auth/sessions`, headers: bearer(pair.access_token) })
    ).json()
    assert.equal(sessions.length, 1)
    assert.equal(await canLogIn(app, user.email, PASSWORD), false)
    assert.equal(await canLogIn(app, user.email, NEW_PASSWORD), true)
  })

  it('answers 400 INVALID_CURRENT_PASSWORD for a wrong current password and changes nothing', async () => {
    const user = await register(app)
    expectProblem(
      await post(
        app,
        '/auth/password',
        { current_password: 'not it at all', new_password: NEW_PASSWORD },
        bearer(user.token),
      ),
      400,
      'INVALID_CURRENT_PASSWORD',
    )
    assert.equal((await me(app, user.token)).statusCode, 200)
    assert.equal(await canLogIn(app, user.email, PASSWORD), true)
  })

  it('validates the body and needs a token', async () => {
    const user = await register(app)
    const change = (payload: unknown) => post(app, '/auth/password', payload, bearer(user.token))
    expectProblem(
      await change({ current_password: PASSWORD, new_password: 'short' }),
      400,
      'VALIDATION_ERROR',
    )
    expectProblem(await change({ current_password: PASSWORD }), 400, 'VALIDATION_ERROR')
    expectProblem(
      await change({ current_password: PASSWORD, new_password: NEW_PASSWORD, x: 1 }),
      400,
      'VALIDATION_ERROR',
    )
    expectProblem(
      await post(app, '/auth/password', { current_password: PASSWORD, new_password: NEW_PASSWORD }),
      401,
      'UNAUTHORIZED',
    )
  })

  it('is rate limited per user', async () => {
    const limited = await buildAccountsApp({
      database: app.db,
      rateLimits: { passwordChangePerUser: { limit: 2, windowMs: 60_000 } },
    })
    try {
      const user = await register(limited)
      const wrong = () =>
        post(
          limited,
          '/auth/password',
          { current_password: 'wrong guess', new_password: NEW_PASSWORD },
          bearer(user.token),
        )
      expectProblem(await wrong(), 400, 'INVALID_CURRENT_PASSWORD')
      expectProblem(await wrong(), 400, 'INVALID_CURRENT_PASSWORD')
      const refused = expectProblem(await wrong(), 429, 'RATE_LIMITED')
      assert.ok(refused)
    } finally {
      await limited.close()
    }
  })
})

describe('password reset', () => {
  it('emails a link to PUBLIC_URL/reset-password (text and HTML); the token sets the password once', async () => {
    const user = await register(app)
    const other = await login(app, user, PASSWORD)
    const earlier = mail.to(user.email).length
    const response = await post(app, '/auth/password-reset', { email: ` ${user.email.toUpperCase()} ` })
    assert.equal(response.statusCode, 202)
    const delivered = await mail.waitFor(user.email, { skip: earlier })
    assert.equal(delivered.from, 'no-reply@example.test')
    assert.match(delivered.mail.subject ?? '', /reset/i)
    assert.match(delivered.mail.text ?? '', /https:\/\/crm\.example\.test\/reset-password\?token=/)
    const token = linkToken(delivered, '/reset-password')
    assert.ok(Buffer.from(token, 'base64url').length >= 16, 'at least 128 bits')
    assert.ok(String(delivered.mail.html).includes(`https://crm.example.test/reset-password?token=${token}`))
    // Only the hash is stored.
    const stored = await queryRows<{ token_hash: string }>(
      app.db.db,
      sql`SELECT token_hash FROM password_resets pr JOIN users u ON u.id = pr.user_id WHERE u.email = ${user.email}`,
    )
    assert.ok(stored.length > 0 && stored.every((row) => row.token_hash !== token))

    const confirmed = await confirm(token)
    assert.equal(confirmed.statusCode, 204)
    assert.equal(confirmed.body, '')
    for (const token of [user.token, other.token]) expectProblem(await me(app, token), 401, 'INVALID_TOKEN')
    expectProblem(
      await post(app, '/auth/refresh', { refresh_token: user.refreshToken }),
      401,
      'INVALID_TOKEN',
    )
    assert.equal(await canLogIn(app, user.email, PASSWORD), false)
    assert.equal(await canLogIn(app, user.email, NEW_PASSWORD), true)
    // Single use.
    expectProblem(await confirm(token, 'yet another password'), 400, 'INVALID_RESET_TOKEN')
    assert.equal(await canLogIn(app, user.email, NEW_PASSWORD), true)
  })

  it('answers an unknown email exactly like a known one, and sends nothing', async () => {
    const user = await register(app)
    const unknown = uniqueEmail('nobody')
    const known = await post(app, '/auth/password-reset', { email: user.email })
    const missing = await post(app, '/auth/password-reset', { email: unknown })
    assert.equal(known.statusCode, 202)
    assert.equal(missing.statusCode, 202)
    assert.deepEqual(missing.json(), known.json())
    assert.equal(missing.headers['content-type'], known.headers['content-type'])
    assert.equal(missing.headers['content-length'], known.headers['content-length'])
    await mail.waitFor(user.email)
    await app.background.idle()
    await app.mailer.idle()
    assert.equal(mail.to(unknown).length, 0)
  })

  it('takes about the same time for known and unknown emails (as login does)', async () => {
    const timed = await buildAccountsApp({ database: app.db, mail })
    try {
      const user = await register(timed)
      const unknown = uniqueEmail('timing')
      // The known email's lookup, token and mail run after its 202 (on PGlite, on this event loop): waited for
      // between samples, so they cannot land in the next request's time.
      const reset = await compareTimings(
        20,
        () => post(timed, '/auth/password-reset', { email: user.email }),
        () => post(timed, '/auth/password-reset', { email: unknown }),
        async () => {
          await timed.background.idle()
          await timed.mailer.idle()
        },
      )
      assert.ok(reset.similar, `reset: known ${reset.first} ms vs unknown ${reset.second} ms`)
      const loginTimes = await compareTimings(
        16,
        () => post(timed, '/auth/login', { email: user.email, password: 'wrong password' }),
        () => post(timed, '/auth/login', { email: unknown, password: 'wrong password' }),
      )
      assert.ok(loginTimes.similar, `login: known ${loginTimes.first} ms vs unknown ${loginTimes.second} ms`)
      await timed.background.idle()
    } finally {
      await timed.close()
    }
  })

  it('refuses a bad token with 400 INVALID_RESET_TOKEN', async () => {
    for (const token of ['nonsense', 'a'.repeat(43)]) {
      expectProblem(await confirm(token), 400, 'INVALID_RESET_TOKEN')
    }
    const user = await register(app)
    // Another kind of token is not a reset token.
    expectProblem(await confirm(user.refreshToken), 400, 'INVALID_RESET_TOKEN')
  })

  it('expires after 60 minutes (controlled clock)', async () => {
    const [early, late] = await Promise.all([register(app), register(app)])
    const earlyToken = await resetToken(early)
    const lateToken = await resetToken(late)
    try {
      clock.advance(59 * MINUTE)
      assert.equal((await confirm(earlyToken)).statusCode, 204)
      clock.advance(2 * MINUTE)
      expectProblem(await confirm(lateToken), 400, 'INVALID_RESET_TOKEN')
      assert.equal(await canLogIn(app, late.email, PASSWORD), true)
    } finally {
      clock.reset()
    }
  })

  it('one reset (or a password change) makes the other outstanding links useless', async () => {
    const user = await register(app)
    const first = await resetToken(user)
    const second = await resetToken(user)
    assert.notEqual(first, second)
    assert.equal((await confirm(second)).statusCode, 204)
    expectProblem(await confirm(first, 'some other password'), 400, 'INVALID_RESET_TOKEN')

    const changer = await register(app)
    const pending = await resetToken(changer)
    const changed = await post(
      app,
      '/auth/password',
      { current_password: PASSWORD, new_password: NEW_PASSWORD },
      bearer(changer.token),
    )
    assert.equal(changed.statusCode, 200)
    expectProblem(await confirm(pending, 'some other password'), 400, 'INVALID_RESET_TOKEN')
  })

  it('gives exactly one success for parallel confirmations of one token', async () => {
    const user = await register(app)
    const token = await resetToken(user)
    const responses = await Promise.all(
      Array.from({ length: 6 }, (_, i) => confirm(token, `parallel password ${i}`)),
    )
    const statuses = responses.map((r) => r.statusCode).sort()
    assert.deepEqual(statuses, [204, 400, 400, 400, 400, 400])
    const winner = responses.findIndex((r) => r.statusCode === 204)
    assert.equal(await canLogIn(app, user.email, `parallel password ${winner}`), true)
  })

  it('validates both bodies', async () => {
    expectProblem(await post(app, '/auth/password-reset', { email: 'not-an-email' }), 400, 'VALIDATION_ERROR')
    expectProblem(await post(app, '/auth/password-reset', {}), 400, 'VALIDATION_ERROR')
    expectProblem(
      await post(app, '/auth/password-reset', { email: uniqueEmail(), x: 1 }),
      400,
      'VALIDATION_ERROR',
    )
    expectProblem(await confirm('token', 'short'), 400, 'VALIDATION_ERROR')
    expectProblem(await post(app, '/auth/password-reset/confirm', { token: 'x' }), 400, 'VALIDATION_ERROR')
  })

  it('is rate limited per email (5 per 15 minutes) and per address, known and unknown emails alike', async () => {
    const limited = await buildAccountsApp({
      database: app.db,
      mail,
      rateLimits: {
        passwordResetPerEmail: { limit: 5, windowMs: 15 * MINUTE },
        passwordResetPerAddress: { limit: 30, windowMs: MINUTE },
        passwordResetConfirmPerAddress: { limit: 3, windowMs: MINUTE },
      },
    })
    try {
      const user = await register(limited)
      const ask = (email: string, remoteAddress: string) =>
        limited.inject({
          method: 'POST',
          url: `${API}/auth/password-reset`,
          payload: { email },
          remoteAddress,
        })
      for (const email of [user.email, uniqueEmail('limited')]) {
        for (let i = 0; i < 5; i++) assert.equal((await ask(email, `10.9.0.${i}`)).statusCode, 202)
        const refused = expectProblem(await ask(email, '10.9.0.99'), 429, 'RATE_LIMITED')
        assert.ok(refused)
      }
      for (let i = 0; i < 30; i++) assert.equal((await ask(uniqueEmail('a'), '10.9.1.1')).statusCode, 202)
      const byAddress = await ask(uniqueEmail('a'), '10.9.1.1')
      expectProblem(byAddress, 429, 'RATE_LIMITED')
      assert.ok(Number(byAddress.headers['retry-after']) >= 1)
      const confirmFrom = (remoteAddress: string) =>
        limited.inject({
          method: 'POST',
          url: `${API}/auth/password-reset/confirm`,
          payload: { token: 'guess', new_password: NEW_PASSWORD },
          remoteAddress,
        })
      for (let i = 0; i < 3; i++) expectProblem(await confirmFrom('10.9.2.1'), 400, 'INVALID_RESET_TOKEN')
      expectProblem(await confirmFrom('10.9.2.1'), 429, 'RATE_LIMITED')
      await limited.background.idle()
      await limited.mailer.idle()
    } finally {
      await limited.close()
    }
  })
})

describe('password reset when mail has trouble', () => {
  it('still answers 202, the same body as for an unknown email, with the mail server down', async () => {
    const down = await buildAccountsApp({ database: app.db, config: { smtpUrl: 'smtp://127.0.0.1:1' } })
    try {
      const user = await register(down)
      const response = await post(down, '/auth/password-reset', { email: user.email })
      assert.equal(response.statusCode, 202)
      assert.deepEqual(
        response.json(),
        (await post(down, '/auth/password-reset', { email: uniqueEmail() })).json(),
      )
      await down.background.idle()
      await down.mailer.idle()
    } finally {
      await down.close()
    }
  })

  it('delivers the link after temporary refusals (retried in the background)', async () => {
    const user = await register(app)
    mail.refuseNext(2)
    const token = await resetToken(user)
    assert.equal((await confirm(token)).statusCode, 204)
  })

  it('without SMTP_URL (development) the flow works from the link in the log', async () => {
    const lines: { msg?: string; mail?: { text: string; to: string } }[] = []
    const { buildApp } = await import('../src/app.js')
    const { testConfig } = await import('./helpers.js')
    const logged = await buildApp({
      config: testConfig({ nodeEnv: 'development', publicUrl: 'http://localhost:8000' }),
      database: app.db,
      migrate: false,
      logger: { level: 'info', stream: { write: (line: string) => lines.push(JSON.parse(line)) } },
    })
    try {
      const user = await register(logged)
      assert.equal((await post(logged, '/auth/password-reset', { email: user.email })).statusCode, 202)
      await logged.background.idle()
      await logged.mailer.idle()
      const entry = lines.find((line) => line.mail?.to === user.email)
      assert.ok(entry?.mail, 'the email is in the log')
      const token = /reset-password\?token=([A-Za-z0-9_-]+)/.exec(entry.mail.text)?.[1]
      assert.ok(token)
      assert.equal((await confirm(token, NEW_PASSWORD, logged)).statusCode, 204)
    } finally {
      await logged.close()
    }
  })
})

describe('no enumeration', () => {
  it('gives identical problem bodies for rate-limited known and unknown emails', async () => {
    const limited = await buildAccountsApp({
      database: app.db,
      rateLimits: { passwordResetPerEmail: { limit: 1, windowMs: 15 * MINUTE } },
    })
    try {
      const user = await register(limited)
      const unknown = uniqueEmail()
      for (const email of [user.email, unknown]) await post(limited, '/auth/password-reset', { email })
      const a = expectProblem(
        await post(limited, '/auth/password-reset', { email: user.email }),
        429,
        'RATE_LIMITED',
      )
      const b = expectProblem(
        await post(limited, '/auth/password-reset', { email: unknown }),
        429,
        'RATE_LIMITED',
      )
      assert.deepEqual(withoutRequestId(a), withoutRequestId(b))
      await limited.background.idle()
    } finally {
      await limited.close()
    }
  })
})
