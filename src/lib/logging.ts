import { createRequire } from 'node:module'
import {
  type FastifyBaseLogger,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
  LogController,
} from 'fastify'
import type { Config } from '../config.js'

/**
 * Log settings of the service. Two layers keep secrets out of the logs:
 * - pino redaction of the known secret-carrying paths (headers, password and token fields), for anything that
 *   logs a request, a body or a record;
 * - an error serializer that keeps only an allow-list of error fields, so a driver error's SQL text,
 *   parameters (password hashes, emails, token hashes), `detail` ("Key (email)=(…)") and `where` never reach
 *   a log line, however deep in the `cause` chain they sit.
 */

const SECRET_FIELDS = [
  'password',
  'password_hash',
  'passwordHash',
  'access_token',
  'refresh_token',
  'token',
  'tokenHash',
  'token_hash',
  'secret',
  'secretKey',
  'api_key',
]

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  ...SECRET_FIELDS,
  ...SECRET_FIELDS.map((field) => `*.${field}`),
  ...SECRET_FIELDS.map((field) => `*.*.${field}`),
]

const CENSOR = '[redacted]'

/**
 * The two lines Fastify writes per request ("incoming request", "request completed") go through a child logger
 * that renders the request and reply with these allow-lists (Fastify's own fields) instead of redacting them.
 * pino's redaction (`@pinojs/redact` in pino 10) clones and walks every line a path applies to, and the wildcard
 * paths (`*.password`, `*.*.password`) apply to every line: a Fastify app at `info` writing to /dev/null spent
 * 116-120 us of CPU per request with them on these lines, 80-84 with this logger, 67-70 at `warn`.
 */
const accessSerializers = {
  req: (request: FastifyRequest) => ({
    method: request.method,
    url: request.url,
    version: request.headers['accept-version'],
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  }),
  res: (reply: FastifyReply) => ({ statusCode: reply.statusCode }),
}

const accessLoggers = new WeakMap<FastifyBaseLogger, FastifyBaseLogger>()

/** The access-line logger beside `logger`: its child, with the request's id as a field instead of a binding. */
function accessLogger(logger: FastifyBaseLogger): FastifyBaseLogger {
  let access = accessLoggers.get(logger)
  if (access === undefined) {
    access = logger.child({}, { redact: { paths: [] }, serializers: accessSerializers })
    accessLoggers.set(logger, access)
  }
  return access
}

/**
 * Fastify's per-request lines, the same fields and messages, through `accessLogger`. Everything else (errors,
 * the application's own lines through `request.log`) keeps the full redaction.
 */
export class AccessLogController extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    if (this.isLogDisabled(request)) return
    const log = accessLogger(request.server.log)
    log.info({ [this.requestIdLogLabel]: request.id, req: request }, 'incoming request')
  }

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    if (error) {
      super.requestCompleted(error, request, reply)
      return
    }
    if (this.isLogDisabled(request)) return
    const log = accessLogger(request.server.log)
    log.info(
      { [this.requestIdLogLabel]: request.id, res: reply, responseTime: reply.elapsedTime },
      'request completed',
    )
  }
}

/** Error fields that never hold a value taken from a request or a row. */
const SAFE_FIELDS = [
  'code',
  'statusCode',
  'status',
  'severity',
  'routine',
  'constraint',
  'table',
  'column',
  'schema',
  'dataType',
  'errno',
  'syscall',
]
const MAX_CAUSE_DEPTH = 5

export interface SafeError {
  type: string
  message: string
  stack: string
  cause?: SafeError
  [field: string]: unknown
}

/**
 * The message without values: drizzle's "Failed query: <sql>\nparams: <values>" keeps only its first words,
 * and a database message's quoted value at its end ('invalid input syntax for type uuid: "…"') is elided.
 */
export function safeMessage(message: string): string {
  if (message.startsWith('Failed query:')) return 'Failed query (SQL text and parameters not logged)'
  return message.replace(/\n\s*params:[\s\S]*$/, '').replace(/: "[^"]*"$/, ': "…"')
}

function safeStack(stack: unknown, header: string): string {
  if (typeof stack !== 'string') return header
  const frames = stack.split('\n').filter((line) => /^\s+at /.test(line))
  return [header, ...frames].join('\n')
}

/** Serializes an error for the logs, dropping every field not known to be free of request or row values. */
export function serializeError(error: unknown, depth = 0): SafeError {
  if (!(error instanceof Error) && !(error && typeof error === 'object' && 'message' in error)) {
    const message = typeof error === 'string' ? safeMessage(error) : typeof error
    return { type: 'NonError', message, stack: message }
  }
  const source = error as Error & Record<string, unknown>
  const type = (source.constructor as { name?: string } | undefined)?.name || source.name || 'Error'
  const message = safeMessage(String(source.message ?? ''))
  const safe: SafeError = { type, message, stack: safeStack(source.stack, `${type}: ${message}`) }
  for (const field of SAFE_FIELDS) {
    const value = source[field]
    if (typeof value === 'string' || typeof value === 'number') safe[field] = value
  }
  if (source.cause !== undefined && depth < MAX_CAUSE_DEPTH) {
    safe.cause = serializeError(source.cause, depth + 1)
  }
  return safe
}

const require = createRequire(import.meta.url)

function prettyAvailable(): boolean {
  try {
    require.resolve('pino-pretty')
    return true
  } catch {
    return false
  }
}

/**
 * Fastify logger options: JSON lines, redacted; in development on a terminal, coloured single lines through
 * pino-pretty (a dev dependency: without it, for instance in an image without dev packages, stay on JSON).
 */
export function loggerOptions(
  config: Pick<Config, 'logLevel' | 'nodeEnv'>,
  terminal = Boolean(process.stdout.isTTY),
): Exclude<FastifyServerOptions['logger'], boolean | undefined> {
  const pretty = terminal && config.nodeEnv !== 'production' && prettyAvailable()
  return {
    level: config.logLevel,
    redact: { paths: REDACT_PATHS, censor: CENSOR },
    serializers: { err: serializeError, error: serializeError },
    ...(pretty
      ? {
          transport: {
            target: 'pino-pretty',
            options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' },
          },
        }
      : {}),
  }
}
