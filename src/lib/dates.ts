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
