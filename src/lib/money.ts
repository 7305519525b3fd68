import { Type } from 'typebox'
import { AppError } from './errors.js'

/** Request schema for `amount`: a JSON number or a numeric string; `parseAmount` checks range and scale. */
export const AmountInput = Type.Union([Type.Number(), Type.String({ maxLength: 32 })], {
  description: 'Decimal, 0 <= amount < 10^13, at most two decimals (number or numeric string)',
  examples: ['1250.00', 1250],
})

/** Response schema for money: a string with exactly two decimals. */
export const Money = Type.String({ pattern: '^-?\\d+\\.\\d{2}$', examples: ['1250.00'] })

const AMOUNT_PATTERN = /^(\d{1,13})(?:\.(\d{1,2}))?$/

/**
 * Validates an amount exactly, without floating point: at most two decimals (more is a 400, never rounded),
 * 0 <= amount < 10^13. Returns the canonical two-decimal string stored in NUMERIC(15,2).
 */
export function parseAmount(input: number | string, field = 'body.amount'): string {
  const text = typeof input === 'number' ? numberToPlainString(input) : input.trim()
  const match = text === undefined ? null : AMOUNT_PATTERN.exec(text)
  if (!match) {
    throw new AppError(
      'VALIDATION_ERROR',
      'amount must be a decimal with at most two decimals, 0 <= amount < 10^13',
      {
        errors: [{ field, message: 'must be a decimal 0 <= amount < 10^13 with at most two decimals' }],
      },
    )
  }
  const whole = (match[1] as string).replace(/^0+(?=\d)/, '')
  return `${whole}.${(match[2] ?? '').padEnd(2, '0')}`
}

function numberToPlainString(value: number): string | undefined {
  if (!Number.isFinite(value) || value < 0) return undefined
  const text = String(value)
  // Exponent notation only appears for values far outside the allowed range or scale.
  return /e/i.test(text) ? undefined : text
}

/** Formats a NUMERIC value from the database (string, possibly with more scale) as a two-decimal string. */
export function formatMoney(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '0.00'
  // NUMERIC(15,2) columns and round(…, 2) arrive with exactly two decimals: as they are (~20 ns, not ~320).
  if (typeof value === 'string' && value.length >= 4 && value.charCodeAt(value.length - 3) === 46)
    return value
  const text = String(value)
  const negative = text.startsWith('-')
  const [whole = '0', fraction = ''] = (negative ? text.slice(1) : text).split('.')
  if (fraction.length <= 2) return `${negative ? '-' : ''}${whole}.${fraction.padEnd(2, '0')}`
  // Round half away from zero on the decimal digits, as PostgreSQL's round() does for NUMERIC.
  const cents = BigInt(whole + fraction.slice(0, 2)) + (Number(fraction[2]) >= 5 ? 1n : 0n)
  const digits = cents.toString().padStart(3, '0')
  return `${negative ? '-' : ''}${digits.slice(0, -2)}.${digits.slice(-2)}`
}
