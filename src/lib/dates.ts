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
