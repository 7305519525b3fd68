import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { AppError, type ErrorCode, type FieldError } from './errors.js'
import { StringEnum } from './schemas.js'

/** Imports take up to 10 MiB of CSV (spec §14; the 1 MiB JSON limit does not apply). */
export const IMPORT_BODY_LIMIT = 10 * 1024 * 1024

/** Only `text/csv` bodies; checked before the body is read, so a large body of another type is refused at once. */
export function requireCsv(request: FastifyRequest, _reply: unknown, done: (error?: Error) => void) {
  const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase()
  if (type !== 'text/csv') {
    done(new AppError('UNSUPPORTED_MEDIA_TYPE', 'The import takes a text/csv body'))
    return
  }
  done()
}

/** A text/csv body as a string (UTF-8), up to IMPORT_BODY_LIMIT; register it in the import routes' scope only. */
export function acceptCsv(app: FastifyInstance) {
  app.addContentTypeParser(
    'text/csv',
    { parseAs: 'string', bodyLimit: IMPORT_BODY_LIMIT },
    (_request, body, done) => done(null, body),
  )
}

export interface CsvRow {
  /** Line of the file where the record starts; the header is line 1. */
  line: number
  /** Cell text by column name; an empty cell is ''. */
  cells: Record<string, string>
}

export interface ImportFailure {
  row: number
  /** An error code of the API (§8). */
  code: ErrorCode
  errors: FieldError[]
}

export interface ImportReport {
  created: number
  updated: number
  unchanged: number
  failed: ImportFailure[]
}

export const ImportResult = Type.Object({
  created: Type.Integer(),
  updated: Type.Integer(),
  unchanged: Type.Integer(),
  failed: Type.Array(
    Type.Object({
      row: Type.Integer({ description: 'Line in the file (the header is line 1)' }),
      code: Type.String(),
      errors: Type.Array(Type.Object({ field: Type.String(), message: Type.String() })),
    }),
  ),
})

export function importQuery<const T extends readonly string[]>(matchOn: T) {
  return Type.Object(
    {
      match_on: Type.Optional(StringEnum(matchOn, { default: matchOn[0] })),
      dry_run: Type.Optional(Type.Boolean({ default: false })),
    },
    { additionalProperties: false },
  )
}

function invalidFile(message: string, field = 'body'): AppError {
  return new AppError('VALIDATION_ERROR', message, { errors: [{ field, message }] })
}

const LINE_BREAK = /\r\n|\n|\r/g

/**
 * Parses an import file with csv-parse (RFC 4180; LF or CRLF records; a UTF-8 BOM is ignored). The header row
 * names the columns: an unknown, repeated or missing required column rejects the whole file (400), as does CSV
 * that cannot be parsed. A record with the wrong number of cells becomes a failed row, not a rejected file.
 */
export async function parseImport(
  text: string,
  allowed: readonly string[],
  required: readonly string[],
): Promise<{ rows: CsvRow[]; badRows: ImportFailure[] }> {
  // Loaded on the first import, not at start-up: most processes never parse CSV (docs/performance.md).
  const { CsvError, parse } = await import('csv-parse/sync')
  let records: { record: string[]; info: { lines: number } }[]
  try {
    records = parse(text, {
      bom: true,
      info: true,
      skip_empty_lines: true,
      relax_column_count: true,
      record_delimiter: ['\r\n', '\n'],
    }) as unknown as { record: string[]; info: { lines: number } }[]
  } catch (error) {
    if (error instanceof CsvError) throw invalidFile(`The CSV cannot be parsed: ${error.message}`)
    throw error
  }
  const [head, ...body] = records
  if (!head) throw invalidFile('The CSV is empty; it needs a header row')
  const columns = head.record.map((name) => name.trim().toLowerCase())
  const unknown = columns.filter((name) => !allowed.includes(name))
  const repeated = columns.filter((name, i) => columns.indexOf(name) !== i)
  const missing = required.filter((name) => !columns.includes(name))
  const errors: FieldError[] = [
    ...unknown.map((name) => ({
      field: `header.${name}`,
      message: `is not a column; use ${allowed.join(', ')}`,
    })),
    ...repeated.map((name) => ({ field: `header.${name}`, message: 'appears twice' })),
    ...missing.map((name) => ({ field: `header.${name}`, message: 'is a required column' })),
  ]
  if (errors.length > 0) {
    throw new AppError('VALIDATION_ERROR', 'The header row does not fit this import; nothing was written', {
      errors,
    })
  }
  const rows: CsvRow[] = []
  const badRows: ImportFailure[] = []
  for (const { record, info } of body) {
    // info.lines is the line the record ends on; a quoted cell may span lines.
    const spanned = record.reduce((sum, cell) => sum + (cell.match(LINE_BREAK)?.length ?? 0), 0)
    const line = info.lines - spanned
    if (record.length !== columns.length) {
      badRows.push({
        row: line,
        code: 'VALIDATION_ERROR',
        errors: [{ field: 'row', message: `has ${record.length} cells; the header has ${columns.length}` }],
      })
      continue
    }
    rows.push({ line, cells: Object.fromEntries(columns.map((name, i) => [name, record[i] ?? ''])) })
  }
  return { rows, badRows }
}
