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

/** True when the database could not be reached (as opposed to a query that failed). */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (const e of chain(error)) {
    const code = typeof e.code === 'string' ? e.code : ''
    // 08: connection lost; 57P01-03: server shutting down or starting; 53: out of disk, memory or connections
    // (also the embedded database's full queue), which pass once the resource returns.
    if (NETWORK_CODES.has(code) || /^(08|53|57P0[123])/.test(code)) return true
    const message = typeof e.message === 'string' ? e.message : ''
    if (
      /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/.test(
        message,
      )
    ) {
      return true
    }
  }
  return false
}
