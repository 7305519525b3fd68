import './load-pg.js'
import * as drizzle from 'drizzle-orm'
import { Column, is, SQL, Subquery } from 'drizzle-orm'
import { NodePgPreparedQuery } from 'drizzle-orm/node-postgres/session'
import { parseTimestamptz } from '../lib/dates.js'

/**
 * drizzle-orm 0.45 turns each row of a select into its object with `mapResultRow`, which, for every column of
 * every row, finds the column's decoder again through `is()` (a prototype walk for every field that is not a
 * column) and walks the field's path with an iterator: on a page of 20 deals it was the service's largest single
 * cost after the database (12 % of the W1 profile). The decoders and paths depend on the selection only, so this
 * finds them once per statement and then builds each row with plain loops. The objects are the same as
 * drizzle's: same nesting and key order, same decoders. Selections with an outer join (where drizzle turns an
 * all-null joined table into `null`) keep drizzle's own mapping. Covered by test/row-mapping.test.ts.
 */
type Field = { path: string[]; field: unknown }
interface Decoder {
  mapFromDriverValue(value: unknown): unknown
}
interface PreparedInternals {
  fields?: Field[]
  joinsNotNullableMap?: Record<string, boolean>
  customResultMapper?: (rows: unknown[][]) => unknown
  execute(placeholderValues?: Record<string, unknown>): Promise<unknown>
}

/** drizzle's own row mapping: exported at run time, marked internal in its types. */
export const mapResultRow = (
  drizzle as unknown as {
    mapResultRow(fields: Field[], row: unknown[], joins?: Record<string, boolean>): Record<string, unknown>
  }
).mapResultRow

type Decoded = { decoder: Decoder }

/** drizzle's decoder of a `timestamp with time zone` column (mode date) is `new Date(text)`: the same, faster. */
const TIMESTAMPTZ: Decoder = {
  mapFromDriverValue: (value) => (typeof value === 'string' ? parseTimestamptz(value) : value),
}

/** A column's decoder: its own, except timestamptz columns read as Dates (`TIMESTAMPTZ`). */
export function columnDecoder(column: Column): Decoder {
  const { columnType, withTimezone } = column as Column & { withTimezone?: boolean }
  return columnType === 'PgTimestamp' && withTimezone === true ? TIMESTAMPTZ : column
}

/** The field's decoder, found as `mapResultRow` finds it. */
function decoderOf(field: unknown): Decoder {
  if (is(field, Column)) return columnDecoder(field)
  if (is(field, SQL)) return (field as unknown as Decoded).decoder
  if (is(field, Subquery)) return (field as unknown as { _: { sql: Decoded } })._.sql.decoder
  return (field as unknown as { sql: Decoded }).sql.decoder
}

/** The rows as drizzle's `mapResultRow` builds them, with each field's decoder and path found once. */
export function mapRows(
  fields: Field[],
  rows: unknown[][],
  joinsNotNullableMap?: Record<string, boolean>,
): Record<string, unknown>[] {
  if (joinsNotNullableMap && Object.values(joinsNotNullableMap).some((notNull) => !notNull)) {
    return rows.map((row) => mapResultRow(fields, row, joinsNotNullableMap))
  }
  const count = fields.length
  const decoders = fields.map(({ field }) => decoderOf(field))
  const paths = fields.map(({ path }) => path)
  const mapped: Record<string, unknown>[] = new Array(rows.length)
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r] as unknown[]
    const result: Record<string, unknown> = {}
    for (let i = 0; i < count; i++) {
      const path = paths[i] as string[]
      let node = result
      const last = path.length - 1
      for (let p = 0; p < last; p++) {
        const key = path[p] as string
        if (!(key in node)) node[key] = {}
        node = node[key] as Record<string, unknown>
      }
      const raw = row[i]
      node[path[last] as string] = raw === null ? null : (decoders[i] as Decoder).mapFromDriverValue(raw)
    }
    mapped[r] = result
  }
  return mapped
}

/** Makes a driver's prepared queries map rows with a plan (PGlite's is patched when it is loaded: db/embedded.ts). */
export function mapWithPlan(prototype: PreparedInternals): void {
  const execute = prototype.execute
  prototype.execute = function (this: PreparedInternals, placeholderValues) {
    // drizzle runs a query with fields in array row mode and hands the rows to `customResultMapper` when set.
    if (this.fields && !this.customResultMapper) {
      const { fields, joinsNotNullableMap } = this
      this.customResultMapper = (rows) => mapRows(fields, rows, joinsNotNullableMap)
    }
    return execute.call(this, placeholderValues)
  }
}

mapWithPlan(NodePgPreparedQuery.prototype as unknown as PreparedInternals)
