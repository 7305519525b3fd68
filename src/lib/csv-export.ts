import { Readable } from 'node:stream'
import { stringify } from 'csv-stringify'
import type { SQL } from 'drizzle-orm'
import type { FastifyReply } from 'fastify'
import { type TObject, type TProperties, Type } from 'typebox'
import type { CursorValue } from './cursor.js'
import { keysetRows, type Ordering, type RowQuery } from './list.js'
import { Defaulted } from './schemas.js'

/** Rows per query: large enough that round trips do not dominate, small enough that memory stays flat. */
const EXPORT_BATCH = 2_000
const FORMULA_START = /^[=+\-@\t\r]/

/**
 * A cell as spreadsheets may safely open it (OWASP CSV injection): a text starting with =, +, -, @, tab or
 * carriage return gets a leading apostrophe. null is an empty cell; everything else is its JSON text form.
 */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return ''
  const text =
    typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value)
  return FORMULA_START.test(text) ? `'${text}` : text
}

/** An export's query string: the list's filters and order, without its paging (page, page_size, cursor, count). */
export function exportQuery<P extends TProperties>(listQuery: TObject<P>) {
  const {
    page: _page,
    page_size: _pageSize,
    cursor: _cursor,
    count: _count,
    ...filters
  } = listQuery.properties
  return Defaulted(Type.Object(filters, { additionalProperties: false }))
}

export interface ExportSpec<Row> {
  /** The JSON field names, in the API's order (`id` first): the header row. */
  columns: string[]
  base: SQL[]
  ordering: Ordering
  run: RowQuery<Row>
  valuesOf: (row: Row) => CursorValue[]
  toJson: (row: Row) => Record<string, unknown>
}

/** Every matching row in the list's order, read in keyset batches as the consumer asks for them. */
async function* exportRecords<Row>(spec: ExportSpec<Row>): AsyncGenerator<string[]> {
  let position: CursorValue[] | undefined
  for (;;) {
    const rows = await keysetRows(spec.run, spec.base, spec.ordering, position, EXPORT_BATCH)
    for (const row of rows) {
      const body = spec.toJson(row)
      yield spec.columns.map((column) => csvCell(body[column]))
    }
    const last = rows[rows.length - 1]
    if (rows.length < EXPORT_BATCH || last === undefined) return
    position = spec.valuesOf(last)
  }
}

/**
 * Streams the list as RFC 4180 CSV (CRLF records, quotes doubled, fields with separators quoted). Backpressure
 * from the socket pauses the generator, so memory stays flat whatever the size of the list.
 */
export function sendCsv<Row>(reply: FastifyReply, filename: string, spec: ExportSpec<Row>) {
  const csv = stringify({ header: true, columns: spec.columns, record_delimiter: 'windows' })
  const source = Readable.from(exportRecords(spec))
  source.on('error', (error) => csv.destroy(error))
  source.pipe(csv)
  return reply
    .type('text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${filename}"`)
    .send(csv)
}
