import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { eq } from 'drizzle-orm'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { users } from '../db/schema.js'
import { isoTimestamp } from '../lib/dates.js'
import { AppError } from '../lib/errors.js'
import type { RateLimitRule } from '../lib/rate-limit.js'
import { IdParams, problems } from '../lib/schemas.js'
import { register } from './operations.js'
import { changePassword, confirmPasswordReset, schedulePasswordReset } from './password-flows.js'
import { burnPasswordCheck, hashPassword, verifyPassword } from './passwords.js'
import {
  AccessToken,
  ChangePasswordBody,
  LoginBody,
  Me,
  PasswordResetAccepted,
  PasswordResetBody,
  PasswordResetConfirmBody,
  RefreshBody,
  RegisterBody,
  Registered,
  Session,
  TokenPair,
  UpdateMeBody,
} from './schemas.js'
import {
  clearSessionCookie,
  RequiredSessionCookieHeaders,
  refreshTokenFromCookie,
  SessionCookieHeaders,
  setSessionCookie,
  wantsSessionCookie,
} from './session-cookie.js'
import {
  type IssuedSession,
  listSessions,
  ReuseDetected,
  revokeByToken,
  revokeOwnSession,
  rotateRefreshToken,
  type SessionClient,
  startSession,
} from './sessions.js'

async function enforceRateLimits(request: FastifyRequest, checks: [string, RateLimitRule][]): Promise<void> {
  const results = await Promise.all(checks.map(([key, rule]) => request.server.rateLimiter.hit(key, rule)))
  const denied = results.filter((result) => !result.allowed)
  if (denied.length > 0) {
    const retryAfter = Math.max(...denied.map((result) => result.retryAfterSeconds))
    throw new AppError('RATE_LIMITED', `Too many attempts; retry in ${retryAfter} s`, {
      headers: { 'retry-after': String(retryAfter) },
    })
  }
}

function clientOf(request: FastifyRequest): SessionClient {
  const userAgent = request.headers['user-agent']
  return { userAgent: typeof userAgent === 'string' ? userAgent : undefined, ip: request.ip }
}

const PASSWORD_RESET_ANSWER = {
  detail: 'If an account uses this email, a link to reset its password has been sent to it.',
}

const security = [{ bearerAuth: [] }]

export default async function authRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { config, tokens } = app
  const tokenPair = async (userId: string, session: IssuedSession) => ({
    access_token: await tokens.sign(userId, session.sessionId),
    refresh_token: session.refreshToken,
    token_type: 'bearer' as const,
    expires_in: tokens.expiresInSeconds,
  })
  const secureCookie = config.publicUrl.startsWith('https:')
  /** The console's opt-in: the refresh token also goes into the httpOnly session cookie. */
  const offerSessionCookie = (request: FastifyRequest, reply: FastifyReply, refreshToken: string) => {
    if (wantsSessionCookie(request))
      setSessionCookie(reply, refreshToken, config.refreshTokenExpireDays, secureCookie)
  }
  /** After a revocation commits: its access tokens fail at once, here and on every instance. */
  const announce = (ended: string[]) => app.revocations.ended(ended)
  const rotate = async (request: FastifyRequest, refreshToken: string) => {
    try {
      return await rotateRefreshToken(
        app.db.db,
        refreshToken,
        config.refreshTokenExpireDays,
        clientOf(request),
      )
    } catch (error) {
      // Reuse ended the session: its access tokens must stop too.
      if (error instanceof ReuseDetected) await announce(error.endedSessions)
      throw error
    }
  }

  app.post(
    '/register',
    {
      config: { public: true, errorCodes: ['EMAIL_ALREADY_EXISTS', 'RATE_LIMITED'] },
      schema: {
        tags: ['auth'],
        operationId: 'register',
        summary:
          'Register a user, optionally with a new organization they own and/or an invitation to accept',
        description:
          'Creates the user and a new organization in one transaction; the user becomes its owner. Answers the user, the organization and a token pair (`Cache-Control: no-store`). Rate-limited per client address and per email (429 with `Retry-After`).',
        headers: SessionCookieHeaders,
        body: RegisterBody,
        response: { 201: Registered, ...problems(400, 404, 409, 413, 429) },
      },
    },
    async (request, reply) => {
      const { email } = request.body // trimmed and lower-cased by the Email schema
      const limits = app.rateLimits
      await enforceRateLimits(request, [
        [`register:ip:${request.ip}`, limits.registerPerAddress],
        [`register:email:${email}`, limits.registerPerEmail],
      ])
      const { name, organization_name: organizationName, invitation_token: invitationToken } = request.body
      const passwordHash = await hashPassword(request.body.password)
      const { userId, organizationId, session } = await register(app.db.db, {
        email,
        passwordHash,
        name,
        organizationName,
        invitationToken,
        refreshTokenDays: config.refreshTokenExpireDays,
        client: clientOf(request),
        now: app.clock(),
      })
      offerSessionCookie(request, reply, session.refreshToken)
      return reply.code(201).send({
        user_id: userId,
        email,
        name,
        organization_id: organizationId,
        organization_name: organizationName ?? null,
        ...(await tokenPair(userId, session)),
      })
    },
  )

  app.post(
    '/login',
    {
      config: { public: true, errorCodes: ['INVALID_CREDENTIALS', 'RATE_LIMITED'] },
      schema: {
        tags: ['auth'],
        operationId: 'login',
        summary: 'Log in with email and password (starts a session)',
        description:
          'Answers a token pair: a short-lived JWT access token for `Authorization: Bearer` and an opaque refresh token. An unknown email and a wrong password get the same 401. Rate-limited per client address and per email.',
        headers: SessionCookieHeaders,
        body: LoginBody,
        response: { 200: TokenPair, ...problems(400, 401, 429) },
      },
    },
    async (request, reply) => {
      const { email } = request.body // trimmed and lower-cased by the Email schema
      const limits = app.rateLimits
      await enforceRateLimits(request, [
        [`login:ip:${request.ip}`, limits.loginPerAddress],
        [`login:email:${email}`, limits.loginPerEmail],
      ])
      const [user] = await app.db.db
        .select({ id: users.id, passwordHash: users.passwordHash })
        .from(users)
        .where(eq(users.email, email))
      // Same work and the same answer whether the email is unknown or the password wrong.
      if (!user) {
        await burnPasswordCheck(request.body.password)
        throw new AppError('INVALID_CREDENTIALS', 'Email or password is incorrect')
      }
      if (!(await verifyPassword(user.passwordHash, request.body.password))) {
        throw new AppError('INVALID_CREDENTIALS', 'Email or password is incorrect')
      }
      const session = await startSession(app.db.db, user.id, config.refreshTokenExpireDays, clientOf(request))
      offerSessionCookie(request, reply, session.refreshToken)
      return tokenPair(user.id, session)
    },
  )

  app.post(
    '/refresh',
    {
      config: { public: true, errorCodes: ['INVALID_TOKEN'] },
      schema: {
        tags: ['auth'],
        operationId: 'refreshTokens',
        summary: 'Exchange a refresh token for a new pair (the old token stops working)',
        description:
          'Rotates the refresh token: the old one stops working. Presenting an already-used refresh token revokes its whole session (reuse detection) and answers 401.',
        body: RefreshBody,
        response: { 200: TokenPair, ...problems(400, 401) },
      },
    },
    async (request) => {
      const rotated = await rotate(request, request.body.refresh_token)
      return tokenPair(rotated.userId, rotated)
    },
  )

  app.post(
    '/logout',
    {
      config: { public: true },
      schema: {
        tags: ['auth'],
        operationId: 'logout',
        summary: 'End the session of a refresh token (its access tokens stop working at once)',
        description:
          'Revokes the session the refresh token belongs to (every token issued from the same login). An unknown or already revoked token also answers 204.',
        body: RefreshBody,
        response: { 204: { type: 'null', description: 'Logged out' }, ...problems(400) },
      },
    },
    async (request, reply) => {
      await announce(await revokeByToken(app.db.db, request.body.refresh_token))
      return reply.code(204).send(null)
    },
  )

  app.post(
    '/session/refresh',
    {
      config: { public: true, errorCodes: ['INVALID_TOKEN'] },
      schema: {
        tags: ['auth'],
        operationId: 'refreshSessionCookie',
        summary: "Exchange the httpOnly session cookie for a new access token (the console's refresh)",
        description:
          'For browsers that logged in with `X-Session-Cookie: 1`: rotates the refresh token held in the httpOnly `mc_refresh` cookie (setting the new one) and answers only an access token, so the refresh token never reaches a script. No cookie, or a used one, is 401.',
        headers: RequiredSessionCookieHeaders,
        response: { 200: AccessToken, ...problems(400, 401) },
      },
    },
    async (request, reply) => {
      const refreshToken = refreshTokenFromCookie(request)
      if (!refreshToken) throw new AppError('INVALID_TOKEN', 'No session cookie: log in again')
      const rotated = await rotate(request, refreshToken)
      setSessionCookie(reply, rotated.refreshToken, config.refreshTokenExpireDays, secureCookie)
      const { refresh_token: _kept, ...access } = await tokenPair(rotated.userId, rotated)
      return access
    },
  )

  app.post(
    '/session/logout',
    {
      config: { public: true },
      schema: {
        tags: ['auth'],
        operationId: 'logoutSessionCookie',
        summary: 'End the session of the httpOnly session cookie and clear it',
        description:
          'Revokes the session whose refresh token the `mc_refresh` cookie holds (its access tokens stop at once) and clears the cookie. Without a cookie it also answers 204.',
        headers: RequiredSessionCookieHeaders,
        response: { 204: { type: 'null', description: 'Logged out' }, ...problems(400) },
      },
    },
    async (request, reply) => {
      const refreshToken = refreshTokenFromCookie(request)
      if (refreshToken) await announce(await revokeByToken(app.db.db, refreshToken))
      clearSessionCookie(reply, secureCookie)
      return reply.code(204).send(null)
    },
  )

  const meOf = (user: { id: string; email: string; name: string; createdAt: Date }) => ({
    id: user.id,
    email: user.email,
    name: user.name,
    created_at: isoTimestamp(user.createdAt),
  })
  const meColumns = { id: users.id, email: users.email, name: users.name, createdAt: users.createdAt }

  app.get(
    '/me',
    {
      schema: {
        tags: ['auth'],
        operationId: 'getCurrentUser',
        summary: 'The current user',
        description: 'The user the access token belongs to.',
        security: [{ bearerAuth: [] }],
        response: { 200: Me, ...problems(401) },
      },
    },
    async (request) => {
      const [user] = await app.db.db.select(meColumns).from(users).where(eq(users.id, request.userId))
      if (!user) throw new AppError('UNAUTHORIZED', 'The user of this token no longer exists')
      return meOf(user)
    },
  )

  app.patch(
    '/me',
    {
      schema: {
        tags: ['auth'],
        operationId: 'updateCurrentUser',
        summary: "Change the current user's name",
        description: 'Changes the name of the user the access token belongs to.',
        security,
        body: UpdateMeBody,
        response: { 200: Me, ...problems(400, 401) },
      },
    },
    async (request) => {
      const { name } = request.body
      const [user] =
        name === undefined
          ? await app.db.db.select(meColumns).from(users).where(eq(users.id, request.userId))
          : await app.db.db
              .update(users)
              .set({ name })
              .where(eq(users.id, request.userId))
              .returning(meColumns)
      if (!user) throw new AppError('UNAUTHORIZED', 'The user of this token no longer exists')
      return meOf(user)
    },
  )

  app.get(
    '/sessions',
    {
      schema: {
        tags: ['auth'],
        operationId: 'listSessions',
        summary: "The current user's live sessions, newest first",
        description:
          'Lists the live sessions (refresh-token families) of the caller, newest first; `current` marks the one of this access token.',
        security,
        response: { 200: { type: 'array', items: Session }, ...problems(401) },
      },
    },
    async (request) => {
      const rows = await listSessions(app.db.db, request.userId)
      return rows.map((row) => ({
        id: row.id,
        created_at: isoTimestamp(row.createdAt),
        last_used_at: isoTimestamp(row.lastUsedAt),
        user_agent: row.userAgent,
        ip: row.ip,
        current: row.id === request.sessionId,
      }))
    },
  )

  app.delete(
    '/sessions/:id',
    {
      schema: {
        tags: ['auth'],
        operationId: 'deleteSession',
        summary: 'End one of your sessions (its tokens stop working at once)',
        description:
          "Ends one of the caller's sessions: its refresh token and its access tokens stop working at once, on every instance. Another user's session is 404 SESSION_NOT_FOUND.",
        security,
        params: IdParams,
        response: { 204: { type: 'null', description: 'Ended' }, ...problems(400, 401, 404) },
      },
    },
    async (request, reply) => {
      const ended = await revokeOwnSession(app.db.db, request.userId, request.params.id.toLowerCase())
      if (ended.length === 0) throw new AppError('SESSION_NOT_FOUND', 'You have no live session with this id')
      await announce(ended)
      return reply.code(204).send(null)
    },
  )

  app.post(
    '/password',
    {
      schema: {
        tags: ['auth'],
        operationId: 'changePassword',
        summary: 'Change the password: every session ends, a new one starts (its tokens are returned)',
        description:
          'Checks the current password (400 INVALID_CURRENT_PASSWORD), sets the new one, ends every session of the user (this one included) and answers a token pair of a new session.',
        security,
        body: ChangePasswordBody,
        response: { 200: TokenPair, ...problems(400, 401, 429) },
      },
    },
    async (request) => {
      await enforceRateLimits(request, [
        [`password-change:user:${request.userId}`, app.rateLimits.passwordChangePerUser],
      ])
      const session = await changePassword(
        app,
        request.userId,
        { currentPassword: request.body.current_password, newPassword: request.body.new_password },
        clientOf(request),
      )
      return tokenPair(request.userId, session)
    },
  )

  app.post(
    '/password-reset',
    {
      config: { public: true },
      schema: {
        tags: ['auth'],
        operationId: 'requestPasswordReset',
        summary: 'Email a password reset link (202 whether or not the email belongs to an account)',
        description:
          'Answers 202 with the same body whatever the email; a registered user gets an email with a single-use link valid 60 minutes. Rate-limited per email and per client address.',
        body: PasswordResetBody,
        response: { 202: PasswordResetAccepted, ...problems(400, 429) },
      },
    },
    async (request, reply) => {
      const { email } = request.body // normalized by the Email schema
      await enforceRateLimits(request, [
        [`password-reset:ip:${request.ip}`, app.rateLimits.passwordResetPerAddress],
        [`password-reset:email:${email}`, app.rateLimits.passwordResetPerEmail],
      ])
      schedulePasswordReset(app, email)
      reply.code(202)
      return PASSWORD_RESET_ANSWER
    },
  )

  app.post(
    '/password-reset/confirm',
    {
      config: { public: true },
      schema: {
        tags: ['auth'],
        operationId: 'confirmPasswordReset',
        summary: 'Set a new password with a reset token (single use, 60 minutes); every session ends',
        description:
          'Sets a new password with the token of a reset email and ends every session of the user. A bad, used or expired token is 400 INVALID_RESET_TOKEN.',
        body: PasswordResetConfirmBody,
        response: { 204: { type: 'null', description: 'Password set' }, ...problems(400, 429) },
      },
    },
    async (request, reply) => {
      await enforceRateLimits(request, [
        [`password-reset-confirm:ip:${request.ip}`, app.rateLimits.passwordResetConfirmPerAddress],
      ])
      await confirmPasswordReset(app, request.body.token, request.body.new_password)
      return reply.code(204).send(null)
    },
  )
}
