/**
 * isoTimestamp (src/lib/dates.ts) formats the timestamps of every record the API serves in place of
 * Date#toISOString: it must give the builtin's text for every time value, and fall back to it where it does
 * not format itself (years outside 0000–9999, invalid dates).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isoTimestamp, parseTimestamptz } from '../src/lib/dates.js'

/** ECMAScript's time values: ±8.64e15 ms around the epoch. */
const MAX_TIME = 8.64e15

function same(time: number) {
  const date = new Date(time)
  assert.equal(isoTimestamp(date), date.toISOString(), `time value ${time}`)
}

describe('isoTimestamp', () => {
  it('equals toISOString at the edges of its range, of days, leap years and centuries', () => {
    const edges = [
      -62_167_219_200_000, // 0000-01-01T00:00:00.000Z
      -62_167_219_200_001, // a millisecond before: a six-digit year, the builtin's
      253_402_300_799_999, // 9999-12-31T23:59:59.999Z
      253_402_300_800_000, // +010000-01-01
      0,
      -1,
      Date.UTC(2000, 1, 29, 23, 59, 59, 999), // leap day of a leap century
      Date.UTC(1900, 1, 28, 12), // 1900 is not a leap year
      Date.UTC(2100, 2, 1),
      Date.UTC(999, 11, 31, 23, 59, 59, 999), // three-digit year, padded
      Date.UTC(2026, 11, 3, 6, 37, 38, 313),
      MAX_TIME,
      -MAX_TIME,
    ]
    for (const time of edges) same(time)
  })

  it('equals toISOString for 200,000 random time values over the whole range and near today', () => {
    for (let i = 0; i < 100_000; i++) same(Math.floor((Math.random() * 2 - 1) * MAX_TIME))
    const now = Date.now()
    for (let i = 0; i < 100_000; i++) same(now + Math.floor((Math.random() * 2 - 1) * 1e12))
  })

  it('throws as toISOString does for an invalid date', () => {
    assert.throws(() => isoTimestamp(new Date(Number.NaN)), RangeError)
  })
})

/** PostgreSQL's text of a timestamptz in a UTC session (DateStyle ISO), with `fraction` digits of the millisecond. */
function postgresText(time: number, fraction: number): string {
  const iso = new Date(time).toISOString() // YYYY-MM-DDTHH:MM:SS.mmmZ
  const millis = iso.slice(20, 23).slice(0, fraction).replace(/0+$/, '')
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${millis ? `.${millis}` : ''}+00`
}

describe('parseTimestamptz', () => {
  function sameDate(text: string) {
    assert.equal(parseTimestamptz(text).getTime(), new Date(text).getTime(), text)
  }

  it('gives the Date of new Date(text) for PostgreSQL texts: random times, every fraction length, leap days', () => {
    for (let i = 0; i < 100_000; i++) {
      const time =
        Date.UTC(100, 0, 1) + Math.floor(Math.random() * (Date.UTC(9999, 11, 31) - Date.UTC(100, 0, 1)))
      sameDate(postgresText(time, i % 4))
    }
    for (const text of [
      '2024-02-29 23:59:59.999+00',
      '2000-02-29 00:00:00+00',
      '2026-12-31 23:59:59.9+00',
      '2026-01-31 12:00:00.05+00',
      '2026-04-30 00:00:00+00',
    ]) {
      sameDate(text)
    }
  })

  it('leaves every other form to new Date: offsets, microseconds, early years, impossible days, infinity, BC', () => {
    for (const text of [
      '2026-10-28 23:57:33.926+05:30',
      '2026-10-28 23:57:33-08',
      '2026-10-28 23:57:33.926123+00',
      '0099-01-01 00:00:00+00',
      '2026-02-29 00:00:00+00',
      '2026-04-31 00:00:00+00',
      '2026-13-01 00:00:00+00',
      '2026-10-28T23:57:33.926Z',
      'infinity',
      '-infinity',
      '0044-03-15 12:00:00+00 BC',
      '',
    ]) {
      sameDate(text)
    }
  })
})
