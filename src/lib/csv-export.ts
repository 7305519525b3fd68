import { Readable } from 'node:stream'
import type { FastifyReply } from 'fastify'
import { type TObject, type TProperties, Type } from 'typebox'
import type { CursorValue } from './cursor.js'
import { keysetRows, type ListSource } from './list.js'
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

export interface ExportSpec<Row> extends ListSource<Row> {
  /** The JSON field names, in the API's order (`id` first): the header row. */
  columns: string[]
  valuesOf: (row: Row) => CursorValue[]
  toJson: (row: Row) => Record<string, unknown>
}

const CSV_OPTIONS = { record_delimiter: 'windows' } as const

/**
 * Every matching row in the list's order as CSV text, one chunk per keyset batch: the header, then each batch
 * formatted at once (csv-stringify's sync API: a stream per record cost about a third of the export's time).
 * The next batch is already being read while this one is formatted and sent.
 */
async function* exportChunks<Row>(spec: ExportSpec<Row>): AsyncGenerator<string> {
  // Loaded on the first export, not at start-up: most processes never write CSV (docs/performance.md).
  const { stringify } = await import('csv-stringify/sync')
  yield stringify([spec.columns], CSV_OPTIONS)
  const read = (position: CursorValue[] | undefined) => {
    const batch = keysetRows(spec, position, EXPORT_BATCH)
    // A consumer that stops early never awaits the read ahead: its failure must not go unhandled.
    batch.catch(() => {})
    return batch
  }
  let pending = read(undefined)
  for (;;) {
    const rows = await pending
    const last = rows[rows.length - 1]
    const more = rows.length === EXPORT_BATCH && last !== undefined
    if (more) pending = read(spec.valuesOf(last))
    if (rows.length > 0) {
      const records = rows.map((row) => {
        const body = spec.toJson(row)
        return spec.columns.map((column) => csvCell(body[column]))
      })
      yield stringify(records, CSV_OPTIONS)
    }
    if (!more) return
  }
}

/**
 * Streams the list as RFC 4180 CSV (CRLF records, quotes doubled, fields with separators quoted). Backpressure
 * from the socket pauses the generator, so memory stays flat (two batches) whatever the size of the list.
 */
export function sendCsv<Row>(reply: FastifyReply, filename: string, spec: ExportSpec<Row>) {
  return reply
    .type('text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${filename}"`)
    .send(Readable.from(exportChunks(spec), { objectMode: false }))
}
