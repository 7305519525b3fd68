/** Calendar dates as `YYYY-MM-DD` strings, the form DATE columns are read and written in. */

/** Today's date in UTC, the calendar the API's date rules use. */
export function todayUtc(now: Date = new Date()): string {
  return now.toISOString().slice(0, 10)
}

/** `date` moved by `days` calendar days (negative goes back). */
export function addDays(date: string, days: number): string {
  const moved = new Date(`${date}T00:00:00.000Z`)
  moved.setUTCDate(moved.getUTCDate() + days)
  return todayUtc(moved)
}

const DAY_MS = 86_400_000
/** 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z: the years toISOString prints as four digits. */
const FIRST_FOUR_DIGIT_YEAR_MS = -62_167_219_200_000
const LAST_FOUR_DIGIT_YEAR_MS = 253_402_300_799_999
const TWO_DIGITS = Array.from({ length: 100 }, (_, n) => String(n).padStart(2, '0'))
const THREE_DIGITS = Array.from({ length: 1000 }, (_, n) => String(n).padStart(3, '0'))

/**
 * `date.toISOString()`, the same text, about four times faster: V8's builtin (C++, printf-style) cost ~800 ns
 * per call on the project's machine, and a page of 20 deals formats ~70 timestamps (docs/performance.md,
 * session 17). Years outside 0000–9999 (printed with a sign and six digits) and invalid dates go to the builtin.
 * Days to a civil date: H. Hinnant's `civil_from_days` (proleptic Gregorian, as ECMAScript's time values).
 */
export function isoTimestamp(date: Date): string {
  const time = date.getTime()
  if (!(time >= FIRST_FOUR_DIGIT_YEAR_MS && time <= LAST_FOUR_DIGIT_YEAR_MS)) return date.toISOString()
  const days = Math.floor(time / DAY_MS)
  let ms = time - days * DAY_MS
  const z = days + 719_468
  const era = Math.floor(z / 146_097)
  const dayOfEra = z - era * 146_097
  const yearOfEra = Math.floor(
    (dayOfEra -
      Math.floor(dayOfEra / 1460) +
      Math.floor(dayOfEra / 36_524) -
      Math.floor(dayOfEra / 146_096)) /
      365,
  )
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100))
  const shiftedMonth = Math.floor((5 * dayOfYear + 2) / 153)
  const day = dayOfYear - Math.floor((153 * shiftedMonth + 2) / 5) + 1
  const month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
  const hours = Math.floor(ms / 3_600_000)
  ms -= hours * 3_600_000
  const minutes = Math.floor(ms / 60_000)
  ms -= minutes * 60_000
  const seconds = Math.floor(ms / 1000)
  ms -= seconds * 1000
  return (
    (year >= 1000 ? String(year) : String(year).padStart(4, '0')) +
    '-' +
    TWO_DIGITS[month] +
    '-' +
    TWO_DIGITS[day] +
    'T' +
    TWO_DIGITS[hours] +
    ':' +
    TWO_DIGITS[minutes] +
    ':' +
    TWO_DIGITS[seconds] +
    '.' +
    THREE_DIGITS[ms] +
    'Z'
  )
}

/** The value of the ASCII digit at `index` of `text`, or a number above 9 when it is not a digit. */
function digitAt(text: string, index: number): number {
  return (text.charCodeAt(index) - 48) >>> 0
}

/**
 * A `timestamptz` as PostgreSQL sends it to a UTC session (`2026-10-28 23:57:33.926+00`, DateStyle ISO) into the
 * Date `new Date(text)` makes, several times faster: drizzle's decoder goes through V8's legacy date parser
 * (~200 ns here), and a page of 20 deals decodes ~80 timestamps. Any other form (another offset, more than
 * millisecond digits, years before 100 or after 9999, BC, infinity) goes to `new Date(text)` itself.
 */
export function parseTimestamptz(text: string): Date {
  const length = text.length
  if (
    length >= 22 &&
    length <= 26 &&
    length !== 23 &&
    text.charCodeAt(length - 3) === 43 && // +
    text.charCodeAt(length - 2) === 48 &&
    text.charCodeAt(length - 1) === 48 &&
    text.charCodeAt(4) === 45 && // -
    text.charCodeAt(7) === 45 &&
    text.charCodeAt(10) === 32 && // space
    text.charCodeAt(13) === 58 && // :
    text.charCodeAt(16) === 58 &&
    (length === 22 || text.charCodeAt(19) === 46) // .
  ) {
    const y0 = digitAt(text, 0)
    const y1 = digitAt(text, 1)
    const y2 = digitAt(text, 2)
    const y3 = digitAt(text, 3)
    const mo0 = digitAt(text, 5)
    const mo1 = digitAt(text, 6)
    const d0 = digitAt(text, 8)
    const d1 = digitAt(text, 9)
    const h0 = digitAt(text, 11)
    const h1 = digitAt(text, 12)
    const mi0 = digitAt(text, 14)
    const mi1 = digitAt(text, 15)
    const s0 = digitAt(text, 17)
    const s1 = digitAt(text, 18)
    // Fraction digits: 20 .. length - 4 (none, 1, 2 or 3), scaled to milliseconds.
    const f0 = length > 23 ? digitAt(text, 20) : 0
    const f1 = length > 24 ? digitAt(text, 21) : 0
    const f2 = length > 25 ? digitAt(text, 22) : 0
    // Each must be a digit (0..9): an OR of digits can reach 15, so each is compared.
    if (
      y0 <= 9 &&
      y1 <= 9 &&
      y2 <= 9 &&
      y3 <= 9 &&
      mo0 <= 9 &&
      mo1 <= 9 &&
      d0 <= 9 &&
      d1 <= 9 &&
      h0 <= 9 &&
      h1 <= 9 &&
      mi0 <= 9 &&
      mi1 <= 9 &&
      s0 <= 9 &&
      s1 <= 9 &&
      f0 <= 9 &&
      f1 <= 9 &&
      f2 <= 9
    ) {
      const year = y0 * 1000 + y1 * 100 + y2 * 10 + y3
      const month = mo0 * 10 + mo1
      const day = d0 * 10 + d1
      const hours = h0 * 10 + h1
      const minutes = mi0 * 10 + mi1
      const seconds = s0 * 10 + s1
      if (
        year >= 100 &&
        month >= 1 &&
        month <= 12 &&
        day >= 1 &&
        day <=
          (month === 2
            ? year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
              ? 29
              : 28
            : 30 + ((month + (month >> 3)) & 1)) &&
        hours <= 23 &&
        minutes <= 59 &&
        seconds <= 59
      ) {
        // Days from the epoch: H. Hinnant's `days_from_civil` (Date.UTC itself costs more than the parsing).
        const y = month <= 2 ? year - 1 : year
        const era = Math.floor(y / 400)
        const yearOfEra = y - era * 400
        const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1
        const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear
        const days = era * 146_097 + dayOfEra - 719_468
        return new Date(
          days * DAY_MS + hours * 3_600_000 + minutes * 60_000 + seconds * 1000 + f0 * 100 + f1 * 10 + f2,
        )
      }
    }
  }
  return new Date(text)
}
