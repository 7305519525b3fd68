import { mkdirSync } from 'node:fs'
import { PGlite } from '@electric-sql/pglite'
import { type SQL, sql } from 'drizzle-orm'
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite'
import pg from 'pg'
import { PGLITE_EXTENSIONS } from './extensions.js'
import * as schema from './schema.js'

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0]
/** Anything queries can run on: the database or an open transaction. */
export type Executor = Db | Tx

export interface Database {
  db: Db
  kind: 'postgres' | 'pglite'
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>
  close(): Promise<void>
}

export interface DatabaseOptions {
  /** PostgreSQL URL; without it the embedded PGlite is used. */
  url?: string | undefined
  /** PGlite data folder, or `memory://` for a throwaway database. */
  pgliteDataDir?: string
  poolSize?: number
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
      application_name: 'mini-crm',
    })
    // An idle client losing its connection must not crash the process; the pool replaces it.
    pool.on('error', () => {})
    const db = drizzlePg(pool, { schema }) as unknown as Db
    return {
      db,
      kind: 'postgres',
      ping: async () => {
        await pool.query('SELECT 1')
      },
      close: () => pool.end(),
    }
  }
  const dataDir = options.pgliteDataDir ?? 'memory://'
  if (!dataDir.includes('://')) mkdirSync(dataDir, { recursive: true })
  const client = await PGlite.create(dataDir, { extensions: PGLITE_EXTENSIONS })
  const db = drizzlePglite(client, { schema }) as unknown as Db
  return {
    db,
    kind: 'pglite',
    ping: async () => {
      await db.execute(sql`SELECT 1`)
    },
    close: () => client.close(),
  }
}

/** Runs raw SQL and returns its rows (both drivers answer `{rows}`; drizzle types them as unknown). */
export async function queryRows<T>(db: Executor, query: SQL): Promise<T[]> {
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

/** `(a, b, c)` column names for a raw INSERT's column list (a `${table.column}` renders qualified there). */
export function columnList(...columns: { name: string }[]): SQL {
  return sql`(${sql.join(
    columns.map((column) => sql.identifier(column.name)),
    sql`, `,
  )})`
}
