/** Helpers that read PostgreSQL errors through the wrappers drizzle puts around them. */

interface PgLikeError {
  code?: unknown
  constraint?: unknown
  message?: unknown
  cause?: unknown
}

function* chain(error: unknown): Generator<PgLikeError> {
  let current = error
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    yield current as PgLikeError
    current = (current as PgLikeError).cause
  }
}

export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  for (const e of chain(error)) {
    if (e.code === '23505') return constraint === undefined || e.constraint === constraint
  }
  return false
}

export function isForeignKeyViolation(error: unknown, constraint?: string): boolean {
  for (const e of chain(error)) {
    if (e.code === '23503') return constraint === undefined || e.constraint === constraint
  }
  return false
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EPIPE',
  'EHOSTUNREACH',
])

/**
 * SQLSTATEs of a server that will not serve us now, whatever the query: connection exceptions (08), refused
 * authorization (28: pg_hba or a role that may not log in), a missing database (3D000), insufficient
 * resources (53: too many connections, disk full, out of memory), operator intervention (57P01-57P05:
 * shutdown, crash recovery, idle session timeout).
 */
function isUnavailableState(code: string): boolean {
  return /^(08|28|53|57P0)/.test(code) || code === '3D000'
}

/** True when the database could not be reached (as opposed to a query that failed). */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (const e of chain(error)) {
    const code = typeof e.code === 'string' ? e.code : ''
    if (NETWORK_CODES.has(code) || isUnavailableState(code)) return true
    const message = typeof e.message === 'string' ? e.message : ''
    if (
      // pg's client-side failures; 55000 "database … is not currently accepting connections" (ALLOW_CONNECTIONS
      // false); the embedded database after it was closed.
      /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|is not currently accepting connections|PGlite is closed/.test(
        message,
      )
    ) {
      return true
    }
  }
  return false
}
