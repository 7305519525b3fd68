import { join } from 'node:path'
import cors from '@fastify/cors'
import type { ErrorObject } from 'ajv'
import Fastify, { type FastifyError, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { authenticate } from './auth/access.js'
import { MembershipCache } from './auth/membership-cache.js'
import { SessionRevocations } from './auth/revocations.js'
import authRoutes from './auth/routes.js'
import { accessTokens } from './auth/tokens.js'
import { watchUserDeletions } from './auth/user-deletions.js'
import type { Config } from './config.js'
import { isConsolePage, registerConsole } from './console/serve.js'
import { type Database, openDatabase } from './db/client.js'
import { migrateUp } from './db/migrate.js'
import { analyticsCache } from './features/analytics/cache.js'
import { type IntegrationOptions, registerIntegrations } from './features/integrations/register.js'
import invitationRoutes from './features/invitations/routes.js'
import organizationRoutes from './features/organizations/routes.js'
import { background } from './lib/background.js'
import { type Clock, systemClock } from './lib/clock.js'
import { isDatabaseUnavailable } from './lib/db-errors.js'
import { registerDrain } from './lib/drain.js'
import { AppError, toProblem } from './lib/errors.js'
import { logFailure } from './lib/failure-log.js'
import { clientErrorHandler, frameworkErrors } from './lib/http-errors.js'
import { registerHttpSecurity, trustProxyOption } from './lib/http-security.js'
import { registerLoadShedding } from './lib/load-shedding.js'
import { AccessLogController, loggerOptions } from './lib/logging.js'
import { createMailer } from './lib/mailer.js'
import { registerMetrics } from './lib/metrics.js'
import {
  DEFAULT_RATE_LIMITS,
  memoryRateLimiter,
  type RateLimits,
  redisRateLimiter,
} from './lib/rate-limit.js'
import { closeRedis, connectRedis, type Redis } from './lib/redis.js'
import { buildSerializer } from './lib/serialization.js'
import { withTimeout } from './lib/timeout.js'
import { fieldErrors, validatorCompiler } from './lib/validation.js'
import { registerApiDocs } from './openapi/document.js'
import { tenantRoutes } from './tenant-routes.js'

export interface BuildOptions {
  config: Config
  /** An open database to use (and not close); by default the app opens one from the config. */
  database?: Database
  /** Apply pending migrations at start (default true). */
  migrate?: boolean
  rateLimits?: Partial<RateLimits>
  logger?: FastifyServerOptions['logger']
  /** The time for expiries the app decides (invitations, reset tokens); tests control it. */
  clock?: Clock
  /** Waits between email delivery attempts (tests make them short). */
  mailRetryDelaysMs?: readonly number[]
  /** How often revocations are re-read from the database as a backstop (default 5 s). */
  revocationPollMs?: number
  dispatcher?: IntegrationOptions['dispatcher']
  /** Serve the web console from `web/dist` when it is built (default true). */
  console?: boolean
}

const BODY_LIMIT = 1024 * 1024
const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/

/**
 * The service, as a short list of named registration steps. Each step is one function below; branches add a
 * step (one line here) rather than editing another's.
 */
export async function buildApp(options: BuildOptions): Promise<FastifyInstance> {
  const app = createServer(options)
  const database = await openAndMigrate(app, options)
  const redis = connectOptionalRedis(app, options.config)
  decorateServices(app, options, database, redis)
  await decorateAccountServices(app, options, database, redis)
  // Before any route: a route keeps the error handler of the moment it is registered.
  registerErrorHandlers(app)
  await registerHttpSecurity(app, options.config)
  await registerMetrics(app)
  await registerCors(app, options.config)
  await registerRequestHooks(app, database)
  registerIntegrations(app, { dispatcher: options.dispatcher })
  await registerApiDocs(app)
  registerServiceRoutes(app, database)
  await registerApi(app)
  if (options.console !== false) await registerConsole(app)
  return app
}

function createServer(options: BuildOptions): FastifyInstance {
  const { config } = options
  const app = Fastify({
    logger: options.logger ?? loggerOptions(config),
    logController: new AccessLogController(),
    trustProxy: trustProxyOption(config.trustProxy),
    // Echo a client's request id when it is safe to log; otherwise make one.
    genReqId: (req) => {
      const incoming = req.headers['x-request-id']
      return typeof incoming === 'string' && REQUEST_ID_PATTERN.test(incoming)
        ? incoming
        : crypto.randomUUID()
    },
    requestIdHeader: false,
    bodyLimit: BODY_LIMIT,
    connectionTimeout: 60_000,
    requestTimeout: 30_000,
    keepAliveTimeout: 72_000,
    // Requests that arrive while closing get our 503 problem body (lib/drain.ts), not Fastify's own JSON.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    routerOptions: { ignoreTrailingSlash: true },
    schemaController: { compilersFactory: { buildSerializer } },
    frameworkErrors,
    clientErrorHandler,
  })
  app.setValidatorCompiler(validatorCompiler)
  return app
}

async function openAndMigrate(app: FastifyInstance, options: BuildOptions): Promise<Database> {
  const { config } = options
  const database =
    options.database ??
    (await openDatabase({ url: config.databaseUrl, pgliteDataDir: join(config.dataDir, 'pglite') }))
  if (!options.database) app.addHook('onClose', () => database.close())
  if (options.migrate ?? true) {
    const applied = await migrateUp(database.db)
    if (applied.length > 0) app.log.info({ applied }, 'migrations applied')
  }
  return database
}

function connectOptionalRedis(app: FastifyInstance, config: Config): Redis | undefined {
  if (!config.redisUrl) return undefined
  const client = connectRedis(config.redisUrl, app.log)
  app.addHook('onClose', () => closeRedis(client))
  return client
}

function decorateServices(
  app: FastifyInstance,
  options: BuildOptions,
  database: Database,
  redis: Redis | undefined,
): void {
  const { config } = options
  app.decorate('config', config)
  app.decorate('db', database)
  app.decorate('redis', redis)
  app.decorate('tokens', accessTokens(config.secretKey, config.accessTokenExpireMinutes))
  const membershipCache = new MembershipCache(redis)
  app.decorate('membershipCache', membershipCache)
  membershipCache.listen(app.log)
  app.addHook('onClose', () => membershipCache.close())
  app.addHook('onClose', watchUserDeletions(database, membershipCache, app.log))
  app.decorate('rateLimiter', redis ? redisRateLimiter(redis) : memoryRateLimiter())
  app.decorate('rateLimits', { ...DEFAULT_RATE_LIMITS, ...options.rateLimits })
  app.decorate('analyticsCache', analyticsCache(redis, app.log))
  app.decorateRequest('userId', '')
  app.decorateRequest('sessionId', '')
  app.decorateRequest('actor', undefined as never)
}

/** Clock, background tasks, mailer and session revocations (spec §15); the revocations load before serving. */
async function decorateAccountServices(
  app: FastifyInstance,
  options: BuildOptions,
  database: Database,
  redis: Redis | undefined,
): Promise<void> {
  const { config } = options
  app.decorate('clock', options.clock ?? systemClock)
  const tasks = background(app.log)
  app.decorate('background', tasks)
  app.addHook('onClose', () => tasks.idle())
  const mailer = createMailer({
    smtpUrl: config.smtpUrl,
    from: config.mailFrom,
    nodeEnv: config.nodeEnv,
    log: app.log,
    ...(options.mailRetryDelaysMs ? { retryDelaysMs: options.mailRetryDelaysMs } : {}),
  })
  app.decorate('mailer', mailer)
  app.addHook('onClose', () => mailer.close())
  const revocations = new SessionRevocations(database.db, redis, {
    accessTokenLifetimeMs: config.accessTokenExpireMinutes * 60_000,
    ...(options.revocationPollMs ? { pollIntervalMs: options.revocationPollMs } : {}),
    log: app.log,
  })
  await revocations.start()
  app.decorate('revocations', revocations)
  app.addHook('onClose', () => revocations.close())
}

/** Before authentication: a CORS preflight carries no token. */
async function registerCors(app: FastifyInstance, config: Config): Promise<void> {
  if (config.corsOrigins === true || config.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: config.corsOrigins,
      exposedHeaders: ['x-request-id', 'retry-after', 'ratelimit', 'ratelimit-policy', 'idempotent-replayed'],
      allowedHeaders: [
        'authorization',
        'content-type',
        'x-organization-id',
        'x-request-id',
        'idempotency-key',
      ],
      methods: ['GET', 'POST', 'PATCH', 'DELETE'],
      maxAge: 600,
    })
  }
}

/** In this order: the request id (every answer carries it), closing, overload, then who is asking. */
async function registerRequestHooks(app: FastifyInstance, database: Database): Promise<void> {
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id)
  })
  registerDrain(app)
  await registerLoadShedding(app, database)
  app.addHook('onRequest', authenticate)
}

function registerErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | AppError, request, reply) => {
    const appError = toAppError(error)
    logFailure(request, error, appError)
    if (appError.headers) reply.headers(appError.headers)
    return reply.code(appError.status).type('application/problem+json').send(toProblem(appError, request.id))
  })
  app.setNotFoundHandler((request, reply) =>
    app.consoleIndex && isConsolePage(request)
      ? app.consoleIndex(reply)
      : reply
          .code(404)
          .type('application/problem+json')
          .send(
            toProblem(new AppError('NOT_FOUND', `No route ${request.method} ${request.url}`), request.id),
          ),
  )
}

function registerServiceRoutes(app: FastifyInstance, database: Database): void {
  app.get(
    '/health',
    {
      config: { public: true },
      schema: {
        tags: ['service'],
        operationId: 'getHealth',
        summary: 'Liveness',
        description: 'Answers 200 while the process runs, without touching the database.',
        response: { 200: { type: 'object', properties: { status: { type: 'string' } } } },
      },
    },
    async () => ({ status: 'ok' }),
  )
  app.get(
    '/ready',
    {
      config: { public: true },
      schema: {
        tags: ['service'],
        operationId: 'getReady',
        summary: 'Readiness: 200 when the database answers, 503 otherwise',
        description:
          'For load balancers and orchestrators: 503 while the database does not answer within 2 s.',
        response: {
          200: { type: 'object', properties: { status: { type: 'string' } } },
          503: { $ref: 'Problem' },
        },
      },
    },
    async () => {
      try {
        await withTimeout(database.ping(), 2_000)
      } catch {
        throw new AppError('SERVICE_UNAVAILABLE', 'The database is not reachable')
      }
      return { status: 'ready' }
    },
  )
}

async function registerApi(app: FastifyInstance): Promise<void> {
  await app.register(
    async (api) => {
      await api.register(authRoutes, { prefix: '/auth' })
      await api.register(organizationRoutes, { prefix: '/organizations' })
      await api.register(invitationRoutes)
      await api.register(tenantRoutes)
    },
    { prefix: '/api/v1' },
  )
}

/** Every error leaves through here, as one of the spec's codes; a 5xx never carries the cause's text. */
function toAppError(error: FastifyError | AppError): AppError {
  if (error instanceof AppError) return error
  const fastifyError = error as FastifyError & { validation?: ErrorObject[] }
  if (fastifyError.validation) {
    const errors = fieldErrors(fastifyError.validation, fastifyError.validationContext)
    return new AppError(
      'VALIDATION_ERROR',
      `Invalid request: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}`,
      {
        errors,
      },
    )
  }
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('PAYLOAD_TOO_LARGE', `Request body is larger than ${BODY_LIMIT} bytes`)
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('UNSUPPORTED_MEDIA_TYPE', 'Request body must be application/json')
  }
  if (isDatabaseUnavailable(error)) {
    return new AppError('SERVICE_UNAVAILABLE', 'The database is not reachable; retry shortly', {
      headers: { 'retry-after': '1' },
    })
  }
  const status = fastifyError.statusCode ?? 500
  if (status === 404) return new AppError('NOT_FOUND')
  if (status === 405) return new AppError('METHOD_NOT_ALLOWED')
  if (status >= 400 && status < 500) {
    // Fastify's own client errors (malformed JSON, empty body with a JSON content type, bad header values).
    return new AppError('VALIDATION_ERROR', fastifyError.message)
  }
  return new AppError('INTERNAL_ERROR', 'An unexpected error occurred')
}
