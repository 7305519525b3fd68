import { AppError } from './errors.js'

// Deliberately plain: one @, no spaces, a dot in the domain. Deliverability is the mail server's business.
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/

export function isEmail(value: string): boolean {
  return EMAIL_PATTERN.test(value)
}

/** Trimmed, lower-cased, validated: the stored and compared form of a user's email. */
export function normalizeEmail(raw: string, field = 'body.email'): string {
  const email = raw.trim().toLowerCase()
  if (email.length > 254 || !isEmail(email)) {
    throw new AppError('VALIDATION_ERROR', 'email must be a valid email address', {
      errors: [{ field, message: 'must be a valid email address' }],
    })
  }
  return email
}
