/**
 * `npm run bench -- --scale 1000,100000,1000000`: how the cost of the list, search, feed, analytics, export and
 * import requests grows with the data. For each scale N: one organization with N deals, N/5 contacts, N/2 tasks,
 * 3N activities (plus a noise organization a tenth of its size), seeded by SQL, then VACUUM (ANALYZE) — the state
 * autovacuum keeps a database in (this machine's server runs with autovacuum off) — then sequential requests
 * against the compiled service (production mode, child process): p50/p99 per request kind.
 * Meaning of every number: bench/README.md ("Scale").
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import type { SQL } from 'drizzle-orm'
import { PgDialect } from 'drizzle-orm/pg-core'
import pg from 'pg'
import { PGLITE_EXTENSIONS } from '../src/db/extensions.js'
import {
  forecastQuery,
  stageStatusQuery,
  summaryByStatusQuery,
  velocityQuery,
} from '../src/features/analytics/queries.js'
import { cursorCodec } from '../src/lib/cursor.js'
import { freePort, type NodeChild, serviceEnv, startNode, stopAll } from './processes.js'
import { type ScaleShape, scaleShape, seedScaleOrganization } from './scale-seed.js'
import type { Sql } from './seed.js'
import { API } from './workloads.js'

const ROOT = resolve(import.meta.dirname, '..')
const RESULTS_DIR = join(ROOT, 'bench', 'results')
const PASSWORD = 'bench-password-1234'

export interface ScaleOptions {
  scales: number[]
  pglite: boolean
  /** Keep (and reuse when present) databases named `<db>_<scale>` instead of throwaway ones. */
  db?: string | undefined
  requests: number
  label: string
  log: (message: string) => void
}

interface Tenant {
  email: string
  organizationId: string
  userId: string
}
interface Meta {
  secretKey: string
  main: Tenant
  noise: Tenant
  shape: ScaleShape
  seededSeconds: number
}

export interface Timing {
  name: string
  p50: number | null
  p99: number | null
  requests: number
  note?: string
}

interface ScaleResult {
  database: 'postgresql' | 'pglite'
  scale: number
  seed: Meta['shape'] & { seconds: number; reused: boolean }
  timings: Timing[]
  export?: {
    list: string
    rows: number
    seconds: number
    rowsPerSecond: number
    peakRssMb: number
    baseRssMb: number
  }[]
  import?: { rows: number; seconds: number; status: number; body: string }
}

const cleanups: (() => Promise<unknown>)[] = []

async function startService(workdir: string, databaseUrl: string | undefined, secretKey: string) {
  const port = await freePort()
  return startNode({
    name: 'service',
    entry: join(ROOT, 'dist', 'server.js'),
    cwd: workdir,
    env: serviceEnv(port, databaseUrl, secretKey, { RATE_LIMIT_PER_MINUTE: '0' }), // one user's sequential requests, not abuse
    port,
    readyPath: '/ready',
    // Migrations that build indexes over millions of rows run at start-up.
    readyTimeoutMs: 60 * 60_000,
  })
}

async function register(baseUrl: string, label: string): Promise<Tenant> {
  const email = `scale-${label}-${randomBytes(4).toString('hex')}@example.com`
  const response = await fetch(`${baseUrl}${API}/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      email,
      password: PASSWORD,
      name: `Scale ${label}`,
      organization_name: `Scale ${label}`,
    }),
  })
  if (response.status !== 201) throw new Error(`register: ${response.status} ${await response.text()}`)
  const body = (await response.json()) as { organization_id: string; user_id: string }
  return { email, organizationId: body.organization_id, userId: body.user_id }
}

async function login(baseUrl: string, email: string): Promise<string> {
  const response = await fetch(`${baseUrl}${API}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: PASSWORD }),
  })
  if (response.status !== 200) throw new Error(`login: ${response.status} ${await response.text()}`)
  return ((await response.json()) as { access_token: string }).access_token
}

/** A SQL runner on the database, open only while `fn` runs (PGlite allows one process at a time). */
async function withSql<T>(
  databaseUrl: string | undefined,
  pgliteDir: string,
  fn: (sql: Sql) => Promise<T>,
): Promise<T> {
  if (databaseUrl) {
    const client = new pg.Client({ connectionString: databaseUrl })
    await client.connect()
    try {
      return await fn(async (text, params) => (await client.query(text, params)).rows)
    } finally {
      await client.end()
    }
  }
  const client = await PGlite.create(pgliteDir, { extensions: PGLITE_EXTENSIONS })
  try {
    return await fn(async <R>(text: string, params?: unknown[]) => (await client.query<R>(text, params)).rows)
  } finally {
    await client.close()
  }
}

function percentile(sorted: number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return Math.round((sorted[index] ?? 0) * 100) / 100
}

/** Sequential requests (one at a time): warm-up, then `count` timed ones; every answer must be 200. */
async function timeRequests(
  name: string,
  baseUrl: string,
  headers: Record<string, string>,
  paths: () => string,
  count: number,
): Promise<Timing> {
  const run = async () => {
    const path = paths()
    const started = performance.now()
    const response = await fetch(`${baseUrl}${API}${path}`, { headers })
    const body = await response.text()
    const elapsed = performance.now() - started
    if (response.status !== 200) throw new Error(`${response.status} ${body.slice(0, 300)} (GET ${path})`)
    return elapsed
  }
  try {
    for (let i = 0; i < Math.min(5, count); i++) await run()
    const times: number[] = []
    for (let i = 0; i < count; i++) times.push(await run())
    times.sort((a, b) => a - b)
    return { name, p50: percentile(times, 50), p99: percentile(times, 99), requests: count }
  } catch (error) {
    return { name, p50: null, p99: null, requests: 0, note: (error as Error).message.slice(0, 200) }
  }
}

function rotate<T>(values: T[]): () => T {
  let next = 0
  return () => values[next++ % values.length] as T
}

function readStatus(pid: number, field: string): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, 'm').exec(status)
  return match?.[1] ? Number(match[1]) / 1024 : 0
}

/** Streams one export to the end, counting rows; the service's peak RSS is reset first (clear_refs 5). */
async function measureExport(service: NodeChild, headers: Record<string, string>, list: string, query = '') {
  try {
    writeFileSync(`/proc/${service.pid}/clear_refs`, '5')
  } catch {
    // Not Linux, or not allowed: the peak then covers the whole run.
  }
  const baseRssMb = readStatus(service.pid, 'VmRSS')
  const started = performance.now()
  const response = await fetch(`${service.baseUrl}${API}/${list}/export${query}`, { headers })
  if (response.status !== 200 || !response.body) {
    throw new Error(`export ${list}: ${response.status} ${(await response.text()).slice(0, 200)}`)
  }
  let newlines = 0
  for await (const chunk of response.body) {
    const bytes = chunk as Uint8Array
    for (let i = 0; i < bytes.length; i++) if (bytes[i] === 10) newlines++
  }
  const seconds = (performance.now() - started) / 1000
  const rows = newlines - 1
  return {
    list,
    rows,
    seconds: Math.round(seconds * 100) / 100,
    rowsPerSecond: Math.round(rows / seconds),
    peakRssMb: Math.round(readStatus(service.pid, 'VmHWM')),
    baseRssMb: Math.round(baseRssMb),
  }
}

async function measureImport(service: NodeChild, headers: Record<string, string>, rows: number, tag: string) {
  const lines = ['name,email,phone']
  for (let i = 0; i < rows; i++)
    lines.push(`Imported ${tag} ${i},imported.${tag}.${i}@import.test,+1-555-${i % 10000}`)
  const started = performance.now()
  const response = await fetch(`${service.baseUrl}${API}/contacts/import?match_on=email`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'text/csv' },
    body: `${lines.join('\n')}\n`,
  })
  const body = await response.text()
  return {
    rows,
    seconds: Math.round(((performance.now() - started) / 1000) * 100) / 100,
    status: response.status,
    body: body.slice(0, 200),
  }
}

async function prepareDatabase(
  database: 'postgresql' | 'pglite',
  scale: number,
  options: ScaleOptions,
): Promise<{ databaseUrl?: string; pgliteDir: string; workdir: string; reused: boolean }> {
  const workdir = mkdtempSync(join(tmpdir(), 'mini-crm-scale-'))
  cleanups.push(async () => rmSync(workdir, { recursive: true, force: true }))
  mkdirSync(join(workdir, 'data'))
  let pgliteDir = join(workdir, 'data', 'pglite')
  if (database === 'pglite') {
    if (options.db) {
      // A kept PGlite database lives in bench/results/<db>_<scale>; the service is pointed at it by a symlink.
      const kept = join(RESULTS_DIR, `${options.db}_${scale}_pglite`)
      mkdirSync(RESULTS_DIR, { recursive: true })
      const reused = (() => {
        try {
          return readFileSync(join(kept, 'PG_VERSION'), 'utf8').length > 0
        } catch {
          return false
        }
      })()
      execFileSync('ln', ['-s', kept, pgliteDir])
      pgliteDir = kept
      return { pgliteDir, workdir, reused }
    }
    return { pgliteDir, workdir, reused: false }
  }
  const serverUrl = process.env.DATABASE_URL
  if (!serverUrl) throw new Error('DATABASE_URL is required for --scale on PostgreSQL (or add --pglite)')
  const name = options.db ? `${options.db}_${scale}` : `mini_crm_scale_${Date.now()}_${scale}`
  const admin = new pg.Client({ connectionString: serverUrl })
  await admin.connect()
  const exists = (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1
  if (!exists) await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  if (!options.db) {
    cleanups.push(async () => {
      const client = new pg.Client({ connectionString: serverUrl })
      await client.connect()
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await client.end()
    })
  }
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  const databaseUrl = url.toString()
  let reused = false
  if (exists) {
    reused = await withSql(databaseUrl, pgliteDir, async (sql) => {
      const [row] = await sql<{ found: boolean }>(
        "SELECT to_regclass('bench_scale_meta') IS NOT NULL AS found",
      )
      return row?.found === true
    })
  }
  return { databaseUrl, pgliteDir, workdir, reused }
}

async function scaleRun(database: 'postgresql' | 'pglite', scale: number, options: ScaleOptions) {
  const { log } = options
  log(`\n=== ${database}, ${scale} deals ===`)
  const { databaseUrl, pgliteDir, workdir, reused } = await prepareDatabase(database, scale, options)
  let meta: Meta
  if (reused) {
    meta = await withSql(databaseUrl, pgliteDir, async (sql) => {
      const [row] = await sql<{ value: Meta }>("SELECT value FROM bench_scale_meta WHERE key = 'meta'")
      if (!row) throw new Error('bench_scale_meta has no meta row')
      return row.value
    })
    log(`reusing the seeded database (${JSON.stringify(meta.shape)}); applying migrations`)
    const first = await startService(workdir, databaseUrl, meta.secretKey)
    await first.stop()
  } else {
    const secretKey = randomBytes(32).toString('hex')
    const first = await startService(workdir, databaseUrl, secretKey)
    const main = await register(first.baseUrl, 'main')
    const noise = await register(first.baseUrl, 'noise')
    await first.stop()
    const shape = scaleShape(scale)
    const started = Date.now()
    await withSql(databaseUrl, pgliteDir, async (sql) => {
      log('seeding the main organization')
      await seedScaleOrganization(sql, main.organizationId, main.userId, shape, log)
      log('seeding the noise organization')
      await seedScaleOrganization(
        sql,
        noise.organizationId,
        noise.userId,
        scaleShape(Math.ceil(scale / 10)),
        log,
      )
    })
    meta = { secretKey, main, noise, shape, seededSeconds: (Date.now() - started) / 1000 }
    await withSql(databaseUrl, pgliteDir, async (sql) => {
      await sql('CREATE TABLE bench_scale_meta (key text PRIMARY KEY, value jsonb NOT NULL)')
      await sql("INSERT INTO bench_scale_meta VALUES ('meta', $1::jsonb)", [JSON.stringify(meta)])
    })
    log(`seeded in ${meta.seededSeconds.toFixed(1)} s`)
  }
  // The steady state autovacuum keeps a database in: statistics and a visibility map (also after new indexes).
  const vacuumStarted = Date.now()
  await withSql(databaseUrl, pgliteDir, (sql) => sql('VACUUM (ANALYZE)'))
  log(`VACUUM (ANALYZE) in ${((Date.now() - vacuumStarted) / 1000).toFixed(1)} s`)

  const fixtures = await withSql(databaseUrl, pgliteDir, async (sql) => {
    const org = meta.main.organizationId
    const deep = Math.max(0, Math.floor(meta.shape.deals * 0.98))
    const [deepDeal] = await sql<{ created_at: Date; id: string }>(
      `SELECT created_at, id FROM deals WHERE organization_id = $1 ORDER BY created_at DESC, id DESC
       OFFSET $2 LIMIT 1`,
      [org, deep],
    )
    const feedDeals = await sql<{ deal_id: string }>(
      `SELECT deal_id FROM activities WHERE organization_id = $1 GROUP BY deal_id ORDER BY count(*) DESC, deal_id
       LIMIT 50`,
      [org],
    )
    const [today] = await sql<{ d: string }>("SELECT to_char(current_date + 7, 'YYYY-MM-DD') AS d")
    return { deepDeal, feedDeals: feedDeals.map((row) => row.deal_id), dueBefore: today?.d ?? '2030-01-01' }
  })

  const service = await startService(workdir, databaseUrl, meta.secretKey)
  cleanups.push(() => service.stop())
  const token = await login(service.baseUrl, meta.main.email)
  const headers = { authorization: `Bearer ${token}`, 'x-organization-id': meta.main.organizationId }
  const n = options.requests
  // Offset paging stops at row 10,000 (spec §14: deeper pages follow next_cursor), so "last page" is the last
  // one offset reaches; the deep cursor page below is the way past it.
  const OFFSET_PAGES = 10_000 / 20
  const lastPage = Math.min(OFFSET_PAGES, Math.max(1, Math.ceil(meta.shape.deals / 20)))
  const contactsLastPage = Math.min(OFFSET_PAGES, Math.max(1, Math.ceil(meta.shape.contacts / 20)))

  // Cursor support shows in the first page's body; a deep cursor is then minted at 98% of the list with the
  // service's key (walking 49,000 pages to get there would measure nothing more).
  const probe = await fetch(`${service.baseUrl}${API}/deals?page_size=20&count=false`, { headers })
  const probeBody = (await probe.json()) as { next_cursor?: string | null }
  let deepCursorPath: string | undefined
  if (probe.status === 200 && typeof probeBody.next_cursor === 'string' && fixtures.deepDeal) {
    const [body] = probeBody.next_cursor.split('.')
    const [, binding] = JSON.parse(Buffer.from(body ?? '', 'base64url').toString()) as [number, string]
    const cursor = cursorCodec(meta.secretKey).encode(binding, [
      fixtures.deepDeal.created_at.toISOString?.() ?? new Date(fixtures.deepDeal.created_at).toISOString(),
      fixtures.deepDeal.id,
    ])
    deepCursorPath = `/deals?page_size=20&count=false&cursor=${encodeURIComponent(cursor)}`
  }

  const dealTerms = rotate(['#4242', '#31337', '#7777', '#1234', '#90210'])
  const emailTerms = rotate(['lovelace12', 'hopper40', 'turing77', 'knuth21', 'liskov33'])
  const searchTerms = rotate(['lovelace12', '#4242', 'hopper40', '#31337', 'turing77'])
  const feed = rotate(fixtures.feedDeals)
  let days = 0
  const scenarios: [string, () => string][] = [
    ['deals, page 1', () => '/deals?page=1&page_size=20'],
    ['deals, last offset page (row 10,000 at most)', () => `/deals?page=${lastPage}&page_size=20`],
    ['deals, deep page (cursor, 98%)', () => deepCursorPath ?? ''],
    [
      'deals, won >= 100 by amount desc',
      () => '/deals?status=won&min_amount=100&order_by=amount&order=desc&page_size=20',
    ],
    ['deals, title search', () => `/deals?search=${encodeURIComponent(dealTerms())}&page_size=20`],
    ['deals, broad title search ("renewal")', () => '/deals?search=renewal&page_size=20'],
    ['GET /search', () => `/search?q=${encodeURIComponent(searchTerms())}`],
    ['contacts, email search', () => `/contacts?search=${encodeURIComponent(emailTerms())}&page_size=20`],
    [
      'contacts by name, last offset page',
      () => `/contacts?order_by=name&order=asc&page=${contactsLastPage}&page_size=20`,
    ],
    [
      'tasks, open due within a week',
      () => `/tasks?only_open=true&due_before=${fixtures.dueBefore}&page_size=20`,
    ],
    ["a deal's activity feed", () => `/deals/${feed()}/activities?page_size=20`],
    ['analytics summary, uncached', () => `/analytics/deals/summary?days=${(days++ % 365) + 1}`],
  ]
  const routes = (await (await fetch(`${service.baseUrl}/openapi.json`)).json()) as {
    paths: Record<string, unknown>
  }
  const timings: Timing[] = []
  for (const [name, path] of scenarios) {
    const probePath = path()
    if (
      probePath === '' ||
      !(`${API}${probePath.split('?')[0]}` in routes.paths || probePath.includes('/activities'))
    ) {
      timings.push({ name, p50: null, p99: null, requests: 0, note: 'not available (no cursors)' })
      continue
    }
    // Uncached analytics: each request a `days` the cache has not seen (at most 365 distinct).
    const count = name.startsWith('analytics') ? Math.min(n, 300) : n
    const timing = await timeRequests(name, service.baseUrl, headers, path, count)
    timings.push(timing)
    log(`${name}: p50 ${timing.p50} ms, p99 ${timing.p99} ms${timing.note ? ` (${timing.note})` : ''}`)
  }

  // The funnel, forecast and velocity have too few parameters to dodge the cache over HTTP: their SQL is timed
  // on the database directly (the statements the service runs, without HTTP), at most ~20 s each.
  await withSql(databaseUrl, pgliteDir, async (sql) => {
    const org = meta.main.organizationId
    const dialect = new PgDialect()
    let variant = 0
    const queries: [string, () => SQL][] = [
      ['analytics summary (query)', () => summaryByStatusQuery(org, 'USD')],
      ['analytics funnel (query)', () => stageStatusQuery(org)],
      ['analytics forecast (query)', () => forecastQuery(org, 'USD', (variant++ % 24) + 1)],
      ['analytics velocity (query)', () => velocityQuery(org, (variant++ % 365) + 1)],
    ]
    for (const [name, query] of queries) {
      const times: number[] = []
      const budget = Date.now() + 20_000
      while (times.length < Math.min(n, 100) && (times.length < 3 || Date.now() < budget)) {
        const { sql: text, params } = dialect.sqlToQuery(query())
        const started = performance.now()
        await sql(text, params)
        times.push(performance.now() - started)
      }
      times.sort((a, b) => a - b)
      const timing = { name, p50: percentile(times, 50), p99: percentile(times, 99), requests: times.length }
      timings.push(timing)
      log(`${name}: p50 ${timing.p50} ms, p99 ${timing.p99} ms (${times.length} runs)`)
    }
  })

  const result: ScaleResult = {
    database,
    scale,
    seed: { ...meta.shape, seconds: meta.seededSeconds, reused },
    timings,
  }
  if (`${API}/deals/export` in routes.paths) {
    result.export = []
    for (const list of ['deals', 'contacts', 'tasks']) {
      const measured = await measureExport(service, headers, list)
      result.export.push(measured)
      log(
        `export ${list}: ${measured.rows} rows in ${measured.seconds} s = ${measured.rowsPerSecond} rows/s, peak RSS ${measured.peakRssMb} MB (before ${measured.baseRssMb} MB)`,
      )
    }
  }
  if (`${API}/contacts/import` in routes.paths) {
    const tag = randomBytes(3).toString('hex')
    result.import = await measureImport(service, headers, 50_000, tag)
    log(`import 50,000 contacts: ${result.import.status} in ${result.import.seconds} s ${result.import.body}`)
    // Leave the kept database as seeded.
    await service.stop()
    await withSql(databaseUrl, pgliteDir, async (sql) => {
      await sql("DELETE FROM contacts WHERE organization_id = $1 AND email LIKE 'imported.%@import.test'", [
        meta.main.organizationId,
      ])
    })
  }
  await service.stop()
  return result
}

function formatTables(results: ScaleResult[]): string {
  const out: string[] = []
  for (const database of ['postgresql', 'pglite'] as const) {
    const mine = results.filter((r) => r.database === database)
    if (mine.length === 0) continue
    const header = `| request (sequential, ms p50 / p99) | ${mine.map((r) => `${r.scale.toLocaleString('en-US')} deals`).join(' | ')} |`
    out.push(`${database}\n\n${header}\n|---|${mine.map(() => '---:').join('|')}|`)
    const names = mine[0]?.timings.map((t) => t.name) ?? []
    for (const name of names) {
      const cells = mine.map((r) => {
        const t = r.timings.find((x) => x.name === name)
        if (!t || t.p50 === null)
          return t?.note?.startsWith('not available') ? 'n/a' : `fails: ${t?.note ?? ''}`
        return `${t.p50} / ${t.p99}`
      })
      out.push(`| ${name} | ${cells.join(' | ')} |`)
    }
    for (const list of ['deals', 'contacts', 'tasks']) {
      const cells = mine.map((r) => {
        const e = r.export?.find((x) => x.list === list)
        return e ? `${e.rowsPerSecond.toLocaleString('en-US')} rows/s, peak ${e.peakRssMb} MB` : 'n/a'
      })
      out.push(`| export ${list} | ${cells.join(' | ')} |`)
    }
    out.push(
      `| import 50,000 contacts | ${mine.map((r) => (r.import ? `${r.import.seconds} s (${r.import.status})` : 'n/a')).join(' | ')} |`,
    )
  }
  return out.join('\n')
}

export async function runScale(options: ScaleOptions): Promise<number> {
  const { log } = options
  log(
    `scale bench: ${options.scales.join(', ')} deals on ${options.pglite ? 'PGlite' : 'PostgreSQL'}; load ${loadavg()[0]?.toFixed(2)}`,
  )
  execFileSync(
    process.execPath,
    [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: ROOT,
      stdio: 'inherit',
    },
  )
  const results: ScaleResult[] = []
  let failed = false
  try {
    for (const scale of options.scales) {
      results.push(await scaleRun(options.pglite ? 'pglite' : 'postgresql', scale, options))
      while (cleanups.length > 0)
        await cleanups
          .pop()?.()
          .catch(() => {})
    }
  } catch (error) {
    failed = true
    console.error(error instanceof Error ? (error.stack ?? error.message) : error)
  } finally {
    await stopAll(false)
    while (cleanups.length > 0)
      await cleanups
        .pop()?.()
        .catch(() => {})
  }
  const table = formatTables(results)
  console.log(`\n${table}\n\nload average after: ${loadavg()[0]?.toFixed(2)}`)
  mkdirSync(RESULTS_DIR, { recursive: true })
  const file = join(
    RESULTS_DIR,
    `scale-${new Date().toISOString().replace(/[:.]/g, '-')}-${options.label}.json`,
  )
  writeFileSync(file, `${JSON.stringify({ options: { ...options, log: undefined }, results }, null, 2)}\n`)
  console.log(`results: ${file}`)
  return failed ? 1 : 0
}
