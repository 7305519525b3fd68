import './load-pg.js'
import { createHash } from 'node:crypto'
import { getTableColumns, type SQL, sql } from 'drizzle-orm'
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres'
import { type PgDatabase, PgDialect, type PgQueryResultHKT, type PgTable } from 'drizzle-orm/pg-core'
import pg from 'pg'
import { describeError, redactUrl, StartupError } from '../lib/startup-error.js'
import './pg-transactions.js'
import { columnDecoder } from './row-mapping.js'
import * as schema from './schema.js'

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0]
/** Anything queries can run on: the database or an open transaction. */
export type Executor = Db | Tx

export interface Database {
  db: Db
  /** Connections of a PostgreSQL pool (PGlite has one connection and no pool: undefined). */
  poolStats?(): { total: number; idle: number; waiting: number }
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>
  /** Statements waiting for a connection (PostgreSQL) or their turn (PGlite); load shedding reads it. */
  waiting?(): number
  close(): Promise<void>
}

export interface DatabaseOptions {
  /** PostgreSQL URL; without it the embedded PGlite is used. */
  url?: string | undefined
  /** PGlite data folder, or `memory://` for a throwaway database. */
  pgliteDataDir?: string
  poolSize?: number
  /** Shown in pg_stat_activity (default `mini-crm`); tests use their own to find their sessions. */
  applicationName?: string
}

// NUMERIC stays a string end to end (money must never pass through a float); DATE stays `YYYY-MM-DD`.
pg.types.setTypeParser(pg.types.builtins.DATE, (value) => value)

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.url) {
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize ?? 20,
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: 30_000,
      application_name: options.applicationName ?? 'mini-crm',
    })
    // A client losing its connection (server restart, failover, pg_terminate_backend) emits `error`; with no
    // listener that ends the process. Idle clients report through the pool, checked-out ones (a transaction
    // between two statements) only on themselves. Their queries fail on their own (mapped to 503) and the
    // pool drops the broken client when it is released.
    pool.on('error', () => {})
    pool.on('connect', (client) => {
      client.on('error', () => {})
      cacheStatements(client)
    })
    try {
      await pool.query('SELECT 1')
    } catch (error) {
      await pool.end().catch(() => {})
      throw new StartupError(`Cannot use DATABASE_URL ${redactUrl(options.url)}: ${describeError(error)}`)
    }
    const db = drizzlePg(pool, { schema }) as unknown as Db
    return {
      db,
      poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
      ping: async () => {
        await pool.query('SELECT 1')
      },
      waiting: () => pool.waitingCount,
      close: () => pool.end(),
    }
  }
  // PGlite (its driver, WebAssembly glue and extensions) is loaded only when it is used: a PostgreSQL deployment
  // would otherwise keep its sources in every process's heap.
  const { openEmbeddedDatabase } = await import('./embedded.js')
  return openEmbeddedDatabase(options.pgliteDataDir ?? 'memory://')
}

/** Statements one connection keeps prepared at most; past it, new texts are sent unnamed (parsed each time). */
const STATEMENTS_PER_CONNECTION = 256
/** Longer texts (multi-row inserts of an import) are rarely sent twice: not worth a slot. */
const MAX_CACHED_TEXT = 16_384
const statementNames = new Map<string, string>()

/**
 * Prepares every parameterized statement once per connection. Drizzle sends its queries unnamed, so PostgreSQL
 * parsed and planned each one on every call, and the client sent its whole text every time (the deal PATCH is
 * one ~4 KB statement with its triggers' effects): a name derived from the text makes the server keep the
 * parsed statement and the client send only Bind/Execute. Bounded per connection, as the texts come from code
 * (their number is the number of query shapes); statements without parameters keep the simple protocol.
 */
function cacheStatements(client: pg.PoolClient): void {
  const prepared = new Set<string>()
  const query = client.query.bind(client) as (...args: unknown[]) => unknown
  ;(client as unknown as { query: (...args: unknown[]) => unknown }).query = (config: unknown, ...rest) => {
    const statement = config as { text?: unknown; name?: unknown; values?: unknown; submit?: unknown } | null
    if (
      statement &&
      typeof statement === 'object' &&
      typeof statement.submit !== 'function' &&
      typeof statement.text === 'string' &&
      statement.text.length <= MAX_CACHED_TEXT &&
      statement.name === undefined &&
      hasValues(Array.isArray(statement.values) ? statement.values : rest[0])
    ) {
      const name = statementName(statement.text)
      if (prepared.has(name) || prepared.size < STATEMENTS_PER_CONNECTION) {
        prepared.add(name)
        return query({ ...statement, name }, ...rest)
      }
    }
    return query(config, ...rest)
  }
}

/** The prepared-statement name of a text: derived from it, so every connection (and the bench floor) agrees. */
export function statementName(text: string): string {
  let name = statementNames.get(text)
  if (name === undefined) {
    name = `s${createHash('sha1').update(text).digest('base64url')}`
    if (statementNames.size >= 4 * STATEMENTS_PER_CONNECTION) statementNames.clear()
    statementNames.set(text, name)
  }
  return name
}

/** Drizzle passes the values beside the config (`query(config, values)`), pg's own callers inside it. */
function hasValues(values: unknown): boolean {
  return Array.isArray(values) && values.length > 0
}

const dialect = new PgDialect()
type CompiledQuery = ReturnType<PgDialect['sqlToQuery']>

/** Rows of compiled raw SQL, its `sql.placeholder(name)`s filled from `values`. */
async function rowsWithValues<T>(db: Executor, query: CompiledQuery, values: Record<string, unknown>) {
  const result = await db._.session.prepareQuery(query, undefined, undefined, false).execute(values)
  return (result as unknown as { rows: T[] }).rows
}

/**
 * Runs raw SQL and returns its rows (both drivers answer `{rows}`; drizzle types them as unknown). With `values`,
 * the SQL's `sql.placeholder(name)`s are filled from them (`db.execute` would refuse a placeholder).
 */
export async function queryRows<T>(db: Executor, query: SQL, values?: Record<string, unknown>): Promise<T[]> {
  if (values) return rowsWithValues<T>(db, dialect.sqlToQuery(query), values)
  const result = (await db.execute(query)) as unknown as { rows: T[] }
  return result.rows
}

const preparedStatements = new WeakMap<Db, Map<string, unknown>>()

/**
 * A named prepared statement of `db`, built once: PostgreSQL parses and plans it once per connection instead
 * of on every call, and drizzle skips building its SQL. For hot single-row reads outside transactions.
 */
export function prepared<T>(db: Db, name: string, build: (db: Db) => T): T {
  let statements = preparedStatements.get(db)
  if (!statements) {
    statements = new Map()
    preparedStatements.set(db, statements)
  }
  let statement = statements.get(name) as T | undefined
  if (statement === undefined) {
    statement = build(db)
    statements.set(name, statement)
  }
  return statement
}

/** A named value of a fixed statement (below), filled in on each call. */
export const param = (name: string) => sql.placeholder(name)

/** A statement whose text never changes: run with the values of its named placeholders. */
export type FixedStatement = (
  db: Executor,
  values: Record<string, unknown>,
) => Promise<Record<string, unknown>[]>

/**
 * A raw statement built and compiled once: `build` returns SQL whose values are all `sql.placeholder(name)`,
 * and each call only fills them in. Drizzle otherwise walks the whole SQL tree on every call (the deal PATCH's
 * statement with its effects cost ~270 us of the service's CPU per request to build), and one text means one
 * prepared statement per connection. For hot raw statements; query builders have `.prepare()` (see `prepared`).
 */
export function fixedStatement(build: () => SQL): FixedStatement {
  let compiled: CompiledQuery | undefined
  return (db, values) => {
    compiled ??= dialect.sqlToQuery(build())
    return rowsWithValues<Record<string, unknown>>(db, compiled, values)
  }
}

/**
 * One statement for a write and its effects: `WITH <name> AS (<write>), effect0 AS (…), … <select>`, where
 * `effects` are data-modifying CTE members over `<name>` (the written rows; none when the write matched none).
 * Atomic without a transaction and one round trip: the hot writes (contact create, deal PATCH) use it.
 */
export function writeWithEffects(name: string, write: SQL, effects: (rows: SQL) => SQL[], select: SQL): SQL {
  const members = effects(sql.raw(name)).map(
    (statement, i) => sql`, ${sql.raw(`effect${i}`)} AS (${statement})`,
  )
  return sql`WITH ${sql.raw(name)} AS (${write})${sql.join(members, sql``)} ${select}`
}

/** A row of `table` read with raw SQL (the database's column names), in the shape drizzle returns. */
export function rowFromSql<T extends PgTable>(table: T, row: Record<string, unknown>): T['$inferSelect'] {
  const mapped: Record<string, unknown> = {}
  for (const [key, column] of Object.entries(getTableColumns(table))) {
    const value = row[column.name]
    mapped[key] =
      value === null || value === undefined ? null : columnDecoder(column).mapFromDriverValue(value)
  }
  return mapped as T['$inferSelect']
}

/** `(a, b, c)` column names for a raw INSERT's column list (a `${table.column}` renders qualified there). */
export function columnList(...columns: { name: string }[]): SQL {
  return sql`(${sql.join(
    columns.map((column) => sql.identifier(column.name)),
    sql`, `,
  )})`
}
