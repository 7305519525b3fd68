import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { eq } from 'drizzle-orm'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { users } from '../db/schema.js'
import { normalizeEmail } from '../lib/email.js'
import { AppError } from '../lib/errors.js'
import type { RateLimitRule } from '../lib/rate-limit.js'
import { problems } from '../lib/schemas.js'
import { register } from './operations.js'
import { burnPasswordCheck, hashPassword, verifyPassword } from './passwords.js'
import { LoginBody, Me, RefreshBody, RegisterBody, Registered, TokenPair } from './schemas.js'
import { issueRefreshToken, revokeByToken, rotateRefreshToken } from './sessions.js'

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

export default async function authRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { config, tokens } = app
  const tokenPair = async (userId: string, refreshToken: string) => ({
    access_token: await tokens.sign(userId),
    refresh_token: refreshToken,
    token_type: 'bearer' as const,
    expires_in: tokens.expiresInSeconds,
  })

  app.post(
    '/register',
    {
      config: { public: true },
      schema: {
        tags: ['auth'],
        summary: 'Register a user with a new organization they own',
        body: RegisterBody,
        response: { 201: Registered, ...problems(400, 409, 413, 429) },
      },
    },
    async (request, reply) => {
      const email = normalizeEmail(request.body.email)
      const limits = app.rateLimits
      await enforceRateLimits(request, [
        [`register:ip:${request.ip}`, limits.registerPerAddress],
        [`register:email:${email}`, limits.registerPerEmail],
      ])
      const { name, organization_name: organizationName } = request.body
      const passwordHash = await hashPassword(request.body.password)
      const { userId, organizationId, refreshToken } = await register(app.db.db, {
        email,
        passwordHash,
        name,
        organizationName,
        refreshTokenDays: config.refreshTokenExpireDays,
      })
      return reply.code(201).send({
        user_id: userId,
        email,
        name,
        organization_id: organizationId,
        organization_name: organizationName,
        ...(await tokenPair(userId, refreshToken)),
      })
    },
  )

  app.post(
    '/login',
    {
      config: { public: true },
      schema: {
        tags: ['auth'],
        summary: 'Log in with email and password',
        body: LoginBody,
        response: { 200: TokenPair, ...problems(400, 401, 429) },
      },
    },
    async (request) => {
      const email = normalizeEmail(request.body.email)
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
      return tokenPair(user.id, await issueRefreshToken(app.db.db, user.id, config.refreshTokenExpireDays))
    },
  )

  app.post(
    '/refresh',
    {
      config: { public: true },
      schema: {
        tags: ['auth'],
        summary: 'Exchange a refresh token for a new pair (the old token stops working)',
        body: RefreshBody,
        response: { 200: TokenPair, ...problems(400, 401) },
      },
    },
    async (request) => {
      const { userId, refreshToken } = await rotateRefreshToken(
        app.db.db,
        request.body.refresh_token,
        config.refreshTokenExpireDays,
      )
      return tokenPair(userId, refreshToken)
    },
  )

  app.post(
    '/logout',
    {
      config: { public: true },
      schema: {
        tags: ['auth'],
        summary: 'Revoke the session (the refresh token family)',
        body: RefreshBody,
        response: { 204: { type: 'null', description: 'Logged out' }, ...problems(400) },
      },
    },
    async (request, reply) => {
      await revokeByToken(app.db.db, request.body.refresh_token)
      return reply.code(204).send(null)
    },
  )

  app.get(
    '/me',
    {
      schema: {
        tags: ['auth'],
        summary: 'The current user',
        security: [{ bearerAuth: [] }],
        response: { 200: Me, ...problems(401) },
      },
    },
    async (request) => {
      const [user] = await app.db.db
        .select({ id: users.id, email: users.email, name: users.name, createdAt: users.createdAt })
        .from(users)
        .where(eq(users.id, request.userId))
      if (!user) throw new AppError('UNAUTHORIZED', 'The user of this token no longer exists')
      return { id: user.id, email: user.email, name: user.name, created_at: user.createdAt.toISOString() }
    },
  )
}
