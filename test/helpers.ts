import { randomBytes, randomUUID } from 'node:crypto'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import { type BuildOptions, buildApp } from '../src/app.js'
import type { Config } from '../src/config.js'
import { openDatabase } from '../src/db/client.js'
import type { Role } from '../src/db/schema.js'

export const API = '/api/v1'
export const PASSWORD = 'correct horse battery'
const UNLIMITED = { limit: 1_000_000, windowMs: 60_000 }

export function testConfig(overrides: Partial<Config> = {}): Config {
  return {
    nodeEnv: 'test',
    databaseUrl: process.env.TEST_DATABASE_URL,
    dataDir: 'memory://',
    redisUrl: undefined,
    secretKey: randomBytes(32).toString('hex'),
    port: 0,
    host: '127.0.0.1',
    accessTokenExpireMinutes: 30,
    refreshTokenExpireDays: 7,
    logLevel: 'silent',
    corsOrigins: [],
    smtpUrl: undefined,
    mailFrom: 'Mini-CRM <no-reply@example.test>',
    publicUrl: 'http://localhost:8000',
    trustProxy: false,
    metrics: { enabled: true, token: undefined },
    // Lifted like the login limits; test/rate-limits.test.ts sets its own.
    rateLimitPerMinute: 0,
    webhookRetryDelays: [5, 300, 1800, 7200, 18000, 36000, 36000],
    webhookAllowPrivateUrls: false,
    ...overrides,
  }
}

/**
 * The whole app on the test database: PostgreSQL (a fresh database made by scripts/test.ts) when
 * TEST_DATABASE_URL is set, otherwise an in-memory PGlite of its own. Rate limits are lifted unless given.
 */
export async function buildTestApp(
  options: Partial<Omit<BuildOptions, 'config'>> & { config?: Partial<Config> } = {},
): Promise<FastifyInstance> {
  const config = testConfig(options.config)
  const database =
    options.database ??
    (await openDatabase({ url: config.databaseUrl, pgliteDataDir: 'memory://', poolSize: 10 }))
  const app = await buildApp({
    ...options,
    config,
    database,
    logger: options.logger ?? false,
    // Off unless a test asks: dispatchers of other test files share the PostgreSQL test database.
    dispatcher: options.dispatcher ?? false,
    // Off unless a test asks: whether web/dist is built must not change what other tests see.
    console: options.console ?? false,
    rateLimits: {
      loginPerAddress: UNLIMITED,
      loginPerEmail: UNLIMITED,
      registerPerAddress: UNLIMITED,
      registerPerEmail: UNLIMITED,
      ...options.rateLimits,
    },
  })
  if (!options.database) app.addHook('onClose', () => database.close())
  return app
}

export function uniqueEmail(prefix = 'user'): string {
  return `${prefix}-${randomUUID()}@example.test`
}

export interface TestUser {
  id: string
  email: string
  name: string
  token: string
  refreshToken: string
  /** The organization created at registration, owned by this user. */
  organizationId: string
}

export async function register(
  app: FastifyInstance,
  overrides: Partial<{ email: string; name: string }> = {},
) {
  const email = overrides.email ?? uniqueEmail()
  const name = overrides.name ?? `User ${email.slice(5, 13)}`
  const response = await app.inject({
    method: 'POST',
    url: `${API}/auth/register`,
    payload: { email, password: PASSWORD, name, organization_name: `Org of ${name}` },
  })
  if (response.statusCode !== 201) throw new Error(`register failed: ${response.statusCode} ${response.body}`)
  const body = response.json()
  const user: TestUser = {
    id: body.user_id,
    email: body.email,
    name: body.name,
    token: body.access_token,
    refreshToken: body.refresh_token,
    organizationId: body.organization_id,
  }
  return user
}

/**
 * Adds `user` to `organizationId` with `role`, acting as `by` (an owner): `by` invites the user's email and the
 * user accepts (members-add only takes users who already share an organization with the caller, spec §15 notes).
 */
export async function addMember(
  app: FastifyInstance,
  by: TestUser,
  organizationId: string,
  user: TestUser,
  role: Role,
): Promise<void> {
  const invited = await app.inject({
    method: 'POST',
    url: `${API}/organizations/${organizationId}/invitations`,
    headers: auth(by),
    payload: { email: user.email, role },
  })
  if (invited.statusCode !== 201)
    throw new Error(`add member (invite) failed: ${invited.statusCode} ${invited.body}`)
  const accepted = await app.inject({
    method: 'POST',
    url: `${API}/invitations/${invited.json().id}/accept`,
    headers: auth(user),
  })
  if (accepted.statusCode !== 200)
    throw new Error(`add member (accept) failed: ${accepted.statusCode} ${accepted.body}`)
}

/** An organization (owned by a fresh user) with one user for each role. */
export async function organizationWithRoles(app: FastifyInstance) {
  const owner = await register(app, { name: 'Owner' })
  const [admin, manager, member, outsider] = await Promise.all([
    register(app, { name: 'Admin' }),
    register(app, { name: 'Manager' }),
    register(app, { name: 'Member' }),
    register(app, { name: 'Outsider' }),
  ])
  const organizationId = owner.organizationId
  await addMember(app, owner, organizationId, admin, 'admin')
  await addMember(app, owner, organizationId, manager, 'manager')
  await addMember(app, owner, organizationId, member, 'member')
  return { organizationId, owner, admin, manager, member, outsider }
}

export function auth(user: TestUser, organizationId?: string): Record<string, string> {
  const headers: Record<string, string> = { authorization: `Bearer ${user.token}` }
  if (organizationId) headers['x-organization-id'] = organizationId
  return headers
}

/** `app.inject` as `user` (with X-Organization-Id when given). */
export function as(app: FastifyInstance, user: TestUser, organizationId?: string) {
  const send = (
    method: InjectOptions['method'],
    url: string,
    payload?: unknown,
  ): Promise<LightMyRequestResponse> =>
    app.inject({
      method,
      url: `${API}${url}`,
      headers: auth(user, organizationId),
      ...(payload === undefined ? {} : { payload: payload as InjectOptions['payload'] }),
    })
  return {
    get: (url: string) => send('GET', url),
    post: (url: string, payload?: unknown) => send('POST', url, payload ?? {}),
    patch: (url: string, payload?: unknown) => send('PATCH', url, payload ?? {}),
    delete: (url: string) => send('DELETE', url),
  }
}

/** A problem body without its request_id, for comparing two answers that must be the same. */
export function withoutRequestId(body: Record<string, unknown>): Record<string, unknown> {
  const { request_id: _requestId, ...rest } = body
  return rest
}

/** Asserts an RFC 9457 body with the given status and code; returns the parsed body. */
export function expectProblem(response: LightMyRequestResponse, status: number, code: string) {
  if (response.statusCode !== status) {
    throw new Error(`expected ${status} ${code}, got ${response.statusCode}: ${response.body}`)
  }
  if (!String(response.headers['content-type']).startsWith('application/problem+json')) {
    throw new Error(`expected application/problem+json, got ${response.headers['content-type']}`)
  }
  const body = response.json()
  if (body.code !== code) throw new Error(`expected code ${code}, got ${body.code}: ${response.body}`)
  if (body.status !== status || typeof body.request_id !== 'string' || typeof body.title !== 'string') {
    throw new Error(`malformed problem body: ${response.body}`)
  }
  if (body.request_id !== response.headers['x-request-id'])
    throw new Error('request_id differs from X-Request-Id')
  return body
}

/** Creates a contact through the API as `user` in `organizationId`; returns the response body. */
export async function createContact(
  app: FastifyInstance,
  user: TestUser,
  organizationId: string,
  fields: Record<string, unknown> = {},
) {
  const response = await as(app, user, organizationId).post('/contacts', { name: 'Contact', ...fields })
  if (response.statusCode !== 201)
    throw new Error(`create contact failed: ${response.statusCode} ${response.body}`)
  return response.json()
}

/** Creates a deal (on a new contact unless `contact_id` is given) through the API; returns the body. */
export async function createDeal(
  app: FastifyInstance,
  user: TestUser,
  organizationId: string,
  fields: Record<string, unknown> = {},
) {
  const contactId = fields.contact_id ?? (await createContact(app, user, organizationId)).id
  const response = await as(app, user, organizationId).post('/deals', {
    title: 'Deal',
    ...fields,
    contact_id: contactId,
  })
  if (response.statusCode !== 201)
    throw new Error(`create deal failed: ${response.statusCode} ${response.body}`)
  return response.json()
}
