import type { FastifyRequest } from 'fastify'
import type { AppError } from './errors.js'

/**
 * How a 5xx is logged. A 503 (database or Redis away, overload, shutting down) is an expected state of the
 * outside world: one `warn` line with the cause's code and first message line, never the failed SQL or its
 * parameters (drizzle puts both in its error), so an outage does not flood the log with request data.
 * Anything else stays an `error` with the error attached.
 */
export function logFailure(request: FastifyRequest, error: unknown, appError: AppError): void {
  if (appError.status < 500 || appError.logged) return
  if (appError.code === 'SERVICE_UNAVAILABLE') {
    request.log.warn({ cause: summarize(error) }, appError.message)
    return
  }
  request.log.error({ err: error }, 'request failed')
}

function summarize(error: unknown): { code?: string; message: string } {
  let current = error as { code?: unknown; message?: unknown; cause?: unknown } | undefined
  // The innermost cause is the driver's own error; drizzle's wrapper message starts with the SQL.
  for (let depth = 0; depth < 5 && current?.cause; depth++) current = current.cause as typeof current
  const message = typeof current?.message === 'string' ? current.message.split('\n')[0] : String(current)
  const code = typeof current?.code === 'string' ? current.code : undefined
  return code ? { code, message: message ?? '' } : { message: message ?? '' }
}
