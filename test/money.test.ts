import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { AppError } from '../src/lib/errors.js'
import { formatMoney, parseAmount } from '../src/lib/money.js'

describe('parseAmount', () => {
  const valid: [number | string, string][] = [
    [0, '0.00'],
    ['0', '0.00'],
    [1250, '1250.00'],
    ['1250.5', '1250.50'],
    [1250.55, '1250.55'],
    ['0007.10', '7.10'],
    ['9999999999999.99', '9999999999999.99'],
    [' 12.30 ', '12.30'],
  ]
  for (const [input, expected] of valid) {
    it(`accepts ${JSON.stringify(input)} as ${expected}`, () => assert.equal(parseAmount(input), expected))
  }
  const invalid: (number | string)[] = [
    1.234,
    '1.234',
    -1,
    '-1',
    '10000000000000',
    1e13,
    1e21,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    '',
    'abc',
    '1e3',
    '1,5',
    '.5',
  ]
  for (const input of invalid) {
    it(`rejects ${JSON.stringify(input)} with VALIDATION_ERROR`, () => {
      assert.throws(
        () => parseAmount(input),
        (error: unknown) => error instanceof AppError && error.code === 'VALIDATION_ERROR',
      )
    })
  }
})

describe('formatMoney', () => {
  const cases: [string | number | null, string][] = [
    [null, '0.00'],
    ['0', '0.00'],
    ['12', '12.00'],
    ['12.5', '12.50'],
    ['12.345', '12.35'],
    ['12.344', '12.34'],
    ['0.005', '0.01'],
    ['1250.0000000000000000', '1250.00'],
    ['9999999999999.995', '10000000000000.00'],
  ]
  for (const [input, expected] of cases) {
    it(`formats ${JSON.stringify(input)} as ${expected}`, () => assert.equal(formatMoney(input), expected))
  }

  it('gives a two-decimal value as the database sends it the same text as with one more zero', () => {
    // The database's NUMERIC(15,2) text takes the short path; with a third decimal the same value is rounded.
    const values = ['0.00', '-0.50', '7.05', '1250.00', '9999999999999.99', '-12.34']
    for (let i = 0; i < 1000; i++)
      values.push(`${Math.floor(Math.random() * 1e13)}.${i % 100 < 10 ? '0' : ''}${i % 100}`)
    for (const value of values) assert.equal(formatMoney(value), formatMoney(`${value}0`), value)
  })
})
