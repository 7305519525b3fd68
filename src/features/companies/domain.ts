import { AppError } from '../../lib/errors.js'

// Labels of 1..63 letters, digits or hyphens, not starting or ending with a hyphen; at least two labels.
const HOST_NAME = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/

/**
 * A company's domain as spec §11 defines it: trimmed, lower-cased, an ASCII host name with at least one dot,
 * no trailing dot, <= 253 characters. Anything else (a URL, an address, a bare word) is 400 VALIDATION_ERROR.
 */
export function normalizeDomain(input: string, field = 'body.domain'): string {
  const domain = domainOf(input)
  if (domain === undefined) {
    throw new AppError('VALIDATION_ERROR', `${field} must be a host name such as acme.com`, {
      errors: [{ field, message: 'must be a host name such as acme.com' }],
    })
  }
  return domain
}

/** `input` as a company's domain (trimmed, lower-cased), or undefined when it is none (see normalizeDomain). */
export function domainOf(input: string): string | undefined {
  const domain = input.trim().toLowerCase()
  return domain.length > 253 || !HOST_NAME.test(domain) ? undefined : domain
}
