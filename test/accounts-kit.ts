/** Shared pieces of the accounts tests (sessions, passwords, invitations): a clock, a mail server, apps. */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import type { BuildOptions } from '../src/app.js'
import type { Config } from '../src/config.js'
import type { Database } from '../src/db/client.js'
import { API, buildTestApp, type TestUser } from './helpers.js'
import type { TestMailServer } from './smtp.js'

const UNLIMITED = { limit: 1_000_000, windowMs: 60_000 }

export const LIFTED_ACCOUNT_LIMITS = {
  passwordResetPerEmail: UNLIMITED,
  passwordResetPerAddress: UNLIMITED,
  passwordResetConfirmPerAddress: UNLIMITED,
  passwordChangePerUser: UNLIMITED,
}

/** A clock tests move forward: `clock.advance(ms)`; `clock.reset()` goes back to real time. */
export function testClock() {
  let offsetMs = 0
  const now = () => new Date(Date.now() + offsetMs)
  return {
    now,
    advance(ms: number) {
      offsetMs += ms
    },
    reset() {
      offsetMs = 0
    },
  }
}

export async function buildAccountsApp(
  options: {
    mail?: TestMailServer
    clock?: ReturnType<typeof testClock>
    database?: Database
    config?: Partial<Config>
  } & Partial<Pick<BuildOptions, 'rateLimits' | 'mailRetryDelaysMs' | 'revocationPollMs'>> = {},
): Promise<FastifyInstance> {
  return buildTestApp({
    ...(options.database ? { database: options.database } : {}),
    config: {
      ...(options.mail ? { smtpUrl: options.mail.url } : {}),
      publicUrl: 'https://crm.example.test',
      ...options.config,
    },
    rateLimits: { ...LIFTED_ACCOUNT_LIMITS, ...options.rateLimits },
    mailRetryDelaysMs: options.mailRetryDelaysMs ?? [50, 100],
    ...(options.clock ? { clock: options.clock.now } : {}),
    ...(options.revocationPollMs ? { revocationPollMs: options.revocationPollMs } : {}),
  })
}

/** The `sid` claim of an access token. */
export function sessionIdOf(accessToken: string): string {
  const payload = accessToken.split('.')[1] ?? ''
  return JSON.parse(Buffer.from(payload, 'base64url').toString()).sid
}

export function bearer(token: string) {
  return { authorization: `Bearer ${token}` }
}

/** GET /auth/me with a bare access token. */
export function me(app: FastifyInstance, token: string): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'GET', url: `${API}/auth/me`, headers: bearer(token) })
}

export function post(
  app: FastifyInstance,
  url: string,
  payload: unknown,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: `${API}${url}`, payload: payload as object, headers })
}

export async function login(
  app: FastifyInstance,
  user: TestUser,
  password: string,
  userAgent = 'test-agent',
) {
  const response = await post(
    app,
    '/auth/login',
    { email: user.email, password },
    { 'user-agent': userAgent },
  )
  if (response.statusCode !== 200) throw new Error(`login failed: ${response.statusCode} ${response.body}`)
  const pair = response.json()
  return { token: pair.access_token as string, refreshToken: pair.refresh_token as string }
}

/**
 * Times two kinds of request, interleaved, and compares their fastest runs (ms). The fastest run is the
 * request's own work: other test files sharing the two cores only ever add time, which made medians of a few
 * samples differ by 2x on a loaded machine. A path that skips the password hash is still several times faster
 * than one that does it (about 10x here), whatever the load. The tolerance (login and password reset alike): the
 * fastest runs differ by at most half of the slower one, or 5 ms when both are that fast. A third proved too
 * tight for a loaded CI box (fastest 22.8 vs 14.1 ms with three test files on two cores; equal when quiet).
 */
export async function compareTimings(
  samples: number,
  first: () => Promise<unknown>,
  second: () => Promise<unknown>,
  /** Awaited after each timed call, untimed: work a request leaves behind must not slow the next one's timing. */
  settle: () => Promise<unknown> = async () => {},
) {
  const a: number[] = []
  const b: number[] = []
  await first()
  await second()
  for (let i = 0; i < samples; i++) {
    for (const [run, into] of i % 2
      ? ([
          [second, b],
          [first, a],
        ] as const)
      : ([
          [first, a],
          [second, b],
        ] as const)) {
      const started = performance.now()
      await run()
      into.push(performance.now() - started)
      await settle()
    }
  }
  const fastest = { first: Math.min(...a), second: Math.min(...b) }
  const allowed = Math.max(5, Math.max(fastest.first, fastest.second) / 2)
  return { ...fastest, similar: Math.abs(fastest.first - fastest.second) <= allowed, allowed }
}
