import { AppError } from './errors.js'

// Deliberately plain: one @, no spaces, a dot in the domain. Deliverability is the mail server's business.
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/

export function isEmail(value: string): boolean {
  return value.length <= 254 && EMAIL_PATTERN.test(value)
}

/**
 * The one stored and compared form of an email, for users and contacts alike: trimmed and lower-cased. The
 * `Email` schema (lib/schemas.ts) applies it at the edge; nothing else lower-cases emails.
 */
export function normalizeEmailText(raw: string): string {
  return raw.trim().toLowerCase()
}

/** Normalized and validated, for an email that did not come through the `Email` schema. */
export function normalizeEmail(raw: string, field = 'body.email'): string {
  const email = normalizeEmailText(raw)
  if (!isEmail(email)) {
    throw new AppError('VALIDATION_ERROR', 'email must be a valid email address', {
      errors: [{ field, message: 'must be a valid email address' }],
    })
  }
  return email
}
