/**
 * A reason the service cannot start that the operator can fix (database unreachable, data folder in use).
 * `src/server.ts` and `scripts/db.ts` print its message as one line and exit non-zero, without a stack.
 */
export class StartupError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'StartupError'
  }
}

/** The URL without its password, safe to print. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return '(unparseable URL)'
  }
}

/** One line for a connection error: its message (AggregateError has none of its own) and code. */
export function describeError(error: unknown): string {
  const e = error as { message?: string; code?: string; errors?: { message?: string }[] }
  const message = e?.message || e?.errors?.map((inner) => inner.message).join('; ') || String(error)
  const code = typeof e?.code === 'string' && !message.includes(e.code) ? ` (${e.code})` : ''
  return `${message.split('\n')[0]}${code}`
}
