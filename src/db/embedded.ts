import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { dirname, join, normalize, resolve } from 'node:path'
import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import { gunzipSync } from 'node:zlib'
import { PGlite, type PGliteOptions } from '@electric-sql/pglite'
import { sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/pglite'
import { PglitePreparedQuery } from 'drizzle-orm/pglite/session'
import { describeError, StartupError } from '../lib/startup-error.js'
import type { Database, Db } from './client.js'
import { lockDataDir } from './data-lock.js'
import { PGLITE_EXTENSIONS } from './extensions.js'
import { mapWithPlan } from './row-mapping.js'
import * as schema from './schema.js'

/**
 * The embedded database (PGlite), which runs PostgreSQL inside this process: every statement executes
 * synchronously on the event loop, one at a time. This module is imported only when it is used (db/client.ts),
 * so a PostgreSQL deployment never loads PGlite. Its runtime care:
 *
 * - Bounded queue: at most MAX_WAITING top-level statements/transactions wait; beyond that a call fails at
 *   once with SQLSTATE 53300 (answered 503 + Retry-After), so overload sheds instead of queueing for seconds.
 * - Fairness: each queued call yields one event-loop turn before it runs, so PGlite's queue never drains in one
 *   long microtask chain that starves new connections and `/health`.
 * - Upkeep: PGlite has no autovacuum; after every VACUUM_EVERY_WRITES write statements it runs
 *   `VACUUM ANALYZE` once the queue is idle (the migrator ANALYZEs after applying migrations).
 * - Memory: shared_buffers of 32 MB instead of 128 MB (the page cache of the host still caches the files).
 */
export const MAX_WAITING = Number(process.env.PGLITE_MAX_WAITING ?? 64)
export const VACUUM_EVERY_WRITES = 10_000
const SHARED_BUFFERS = '32MB'
const WRITE = /^\s*(insert|update|delete|with\b[\s\S]*\b(insert|update|delete)\b)/i

export class DatabaseBusyError extends Error {
  /** insufficient_resources / too_many_connections: read as "unavailable, retry" by isDatabaseUnavailable. */
  readonly code = '53300'
  constructor() {
    super('The embedded database is overloaded')
    this.name = 'DatabaseBusyError'
  }
}

mapWithPlan(PglitePreparedQuery.prototype as unknown as Parameters<typeof mapWithPlan>[0])

/** Opens (creating when missing) the embedded database in `dataDir`, or `memory://` for a throwaway one. */
export async function openEmbeddedDatabase(dataDir: string): Promise<Database> {
  const onDisk = !dataDir.includes('://')
  if (onDisk) mkdirSync(dataDir, { recursive: true })
  const lock = onDisk ? lockDataDir(dataDir) : undefined
  let client: PGlite
  try {
    client = await PGlite.create(dataDir, embeddedStartOptions(dataDir))
  } catch (error) {
    lock?.release()
    throw new StartupError(`Cannot open the embedded database ${dataDir}: ${describeError(error)}`)
  }
  const guard = guardEmbedded(client)
  const db = drizzle(client, { schema }) as unknown as Db
  return {
    db,
    ping: async () => {
      await db.execute(sql`SELECT 1`)
    },
    waiting: () => Math.max(0, guard.pending - 1),
    close: async () => {
      guard.stop()
      try {
        await client.close()
      } finally {
        lock?.release()
      }
    },
  }
}

export function embeddedStartOptions(dataDir: string): PGliteOptions {
  return {
    startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${SHARED_BUFFERS}`],
    extensions: PGLITE_EXTENSIONS,
    ...templateOption(dataDir),
  }
}

export interface EmbeddedGuard {
  /** Statements and transactions started and not yet finished. */
  readonly pending: number
  writes: number
  stop(): void
}

export function guardEmbedded(client: PGlite): EmbeddedGuard {
  const query = client.query.bind(client)
  const exec = client.exec.bind(client)
  const transaction = client.transaction.bind(client)
  let stopped = false
  let vacuuming = false
  const state = { pending: 0, writes: 0, stop: () => {} }

  const maybeVacuum = () => {
    if (stopped || vacuuming || state.pending > 0 || state.writes < VACUUM_EVERY_WRITES) return
    vacuuming = true
    state.writes = 0
    exec('VACUUM ANALYZE')
      .catch(() => {})
      .finally(() => {
        vacuuming = false
      })
  }

  // biome-ignore lint/suspicious/noExplicitAny: wraps three PGlite methods of different signatures
  type Method = (...args: any[]) => Promise<unknown>
  const guarded =
    (run: Method, writes: (first: unknown) => number) =>
    async (...args: unknown[]): Promise<unknown> => {
      if (state.pending >= MAX_WAITING) throw new DatabaseBusyError()
      state.pending += 1
      try {
        if (state.pending > 1) await yieldToEventLoop()
        const result = await run(...args)
        state.writes += writes(args[0])
        return result
      } finally {
        state.pending -= 1
        if (state.pending === 0 && state.writes >= VACUUM_EVERY_WRITES) setImmediate(maybeVacuum)
      }
    }

  const isWrite = (sql: unknown) => (typeof sql === 'string' && WRITE.test(sql) ? 1 : 0)
  client.query = guarded(query, isWrite) as typeof client.query
  client.exec = guarded(exec, isWrite) as typeof client.exec
  client.transaction = guarded(transaction, () => 1) as typeof client.transaction
  state.stop = () => {
    stopped = true
  }
  return state
}

/**
 * A freshly initialised data folder, packed (`npm run db:template`): loading it skips initdb, which inside
 * WebAssembly peaks near 900 MB of RSS. Only used when it was made by the installed PGlite version; without
 * it PGlite runs initdb as before.
 */
export const TEMPLATE_FILE = resolve(import.meta.dirname, '../../data-template/pglite.tar.gz')
export const TEMPLATE_VERSION_FILE = resolve(import.meta.dirname, '../../data-template/pglite-version')

export function installedPgliteVersion(): string {
  const manifest = resolve(import.meta.dirname, '../../node_modules/@electric-sql/pglite/package.json')
  try {
    return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version
  } catch {
    return 'unknown'
  }
}

export function templateMatches(): boolean {
  return (
    existsSync(TEMPLATE_FILE) &&
    existsSync(TEMPLATE_VERSION_FILE) &&
    readFileSync(TEMPLATE_VERSION_FILE, 'utf8').trim() === installedPgliteVersion()
  )
}

/**
 * A folder without a cluster is unpacked from the template here, before PGlite opens it as on any later start
 * (PGlite's own `loadDataDir` unpacks through WebAssembly memory and peaks ~170 MB higher). `memory://`
 * databases (tests) load it through PGlite, which is still far quicker than initdb.
 */
function templateOption(dataDir: string): Pick<PGliteOptions, 'loadDataDir'> {
  if (!templateMatches()) return {}
  if (dataDir.startsWith('memory://')) return { loadDataDir: new Blob([readFileSync(TEMPLATE_FILE)]) }
  if (!dataDir.includes('://') && isEmptyFolder(dataDir)) unpackTemplate(dataDir)
  return {}
}

function isEmptyFolder(dir: string): boolean {
  return !existsSync(dir) || readdirSync(dir).length === 0
}

/** Unpacks the template's plain ustar archive (files and folders only) into `dataDir`, atomically. */
function unpackTemplate(dataDir: string): void {
  const archive = gunzipSync(readFileSync(TEMPLATE_FILE))
  const staging = `${dataDir}.unpacking-${process.pid}`
  rmSync(staging, { recursive: true, force: true })
  mkdirSync(staging, { recursive: true, mode: 0o700 })
  const field = (offset: number, length: number, at: number) =>
    archive
      .subarray(at + offset, at + offset + length)
      .toString('latin1')
      .replace(/\0.*$/s, '')
  let at = 0
  while (at + 512 <= archive.length && archive[at] !== 0) {
    const name = `${field(345, 155, at)}${field(0, 100, at)}`
    const size = Number.parseInt(field(124, 12, at).trim() || '0', 8)
    const type = field(156, 1, at) || '0'
    const target = resolve(staging, `.${normalize(`/${name}`)}`)
    if (!target.startsWith(staging)) throw new Error(`template entry outside the folder: ${name}`)
    if (type === '5') mkdirSync(target, { recursive: true, mode: 0o700 })
    else if (type === '0') {
      mkdirSync(dirname(target), { recursive: true, mode: 0o700 })
      writeFileSync(target, archive.subarray(at + 512, at + 512 + size), { mode: 0o600 })
    } else throw new Error(`unexpected template entry type ${type} (${name})`)
    at += 512 + Math.ceil(size / 512) * 512
  }
  if (!existsSync(join(staging, 'PG_VERSION'))) throw new Error('the template holds no cluster')
  if (existsSync(dataDir)) rmdirSync(dataDir)
  renameSync(staging, dataDir)
}
