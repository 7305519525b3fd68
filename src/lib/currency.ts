import { Type } from 'typebox'

/**
 * Every currency the API accepts (spec §10): an active ISO 4217 code as the runtime lists it, in any case,
 * stored upper-case. The check is the ajv format `iso4217` (registered in validation.ts), so a bad code is a
 * schema error like any other (400 VALIDATION_ERROR with its field).
 */
export const CURRENCIES: ReadonlySet<string> = new Set(Intl.supportedValuesOf('currency'))

export function isCurrency(value: string): boolean {
  return value.length === 3 && CURRENCIES.has(value.toUpperCase())
}

export const CurrencyInput = Type.String({
  format: 'iso4217',
  minLength: 3,
  maxLength: 3,
  description: "ISO 4217 code listed by Intl.supportedValuesOf('currency'); any case, stored upper-case",
  examples: ['USD', 'eur'],
})

export const CurrencyCode = Type.String({ pattern: '^[A-Z]{3}$', examples: ['USD'] })
