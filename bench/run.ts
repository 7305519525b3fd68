/**
 * `npm run bench`: load test of the real service (production mode, child process) on a seeded database, with
 * a bare node:http + pg floor for the plain reads. Flags and the meaning of every number: bench/README.md.
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir, totalmem } from 'node:os'
import { join, resolve } from 'node:path'
import { isDeepStrictEqual, parseArgs } from 'node:util'
import { PGlite } from '@electric-sql/pglite'
import autocannon, { type RequestSpec } from 'autocannon'
import pg from 'pg'
import { PGLITE_EXTENSIONS } from '../src/db/extensions.js'
import { freePort, type NodeChild, serviceEnv, startNode, stopAll } from './processes.js'
import {
  checkTargets,
  formatTable,
  type Measured,
  type ModeResult,
  megabytes,
  type RunStats,
  summarizeRuns,
  TARGETS,
  targetLegend,
  type WorkloadResult,
} from './report.js'
import { analyze, type BenchIds, loadIds, type Sql, seedOrganization, summarize } from './seed.js'
import {
  drained,
  formatWebhookRuns,
  percentile,
  startWebhookReceiver,
  subscribeWebhook,
  type WebhookRun,
} from './webhook.js'
import { API, availableRoutes, isAvailable, WORKLOADS, type Workload } from './workloads.js'

const ROOT = resolve(import.meta.dirname, '..')
const RESULTS_DIR = join(ROOT, 'bench', 'results')
const PROFILE_DIR = join(RESULTS_DIR, 'profiles')
const PASSWORD = 'bench-password-1234'
const MAIN_ORG = { contacts: 2_000, deals: 10_000 }
const NOISE_ORG = { contacts: 100, deals: 500 }
const MAX_SAMPLES = 3

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    pglite: { type: 'boolean', default: false },
    both: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    strict: { type: 'boolean', default: false },
    webhook: { type: 'boolean', default: false },
    only: { type: 'string' },
    connections: { type: 'string' },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    runs: { type: 'string' },
    scale: { type: 'string' },
    'scale-db': { type: 'string' },
    requests: { type: 'string' },
    label: { type: 'string' },
    'node-arg': { type: 'string', multiple: true },
    'log-level': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
})

if (flags.help) {
  console.log(readFileSync(join(ROOT, 'bench', 'README.md'), 'utf8'))
  process.exit(0)
}

// `--scale 1000,100000,1000000`: the growth benchmark (bench/scale.ts) instead of the load test.
if (flags.scale) {
  const { runScale } = await import('./scale.js')
  const scales = flags.scale.split(',').map((value) => Number(value.replace(/_/g, '')))
  if (scales.some((value) => !Number.isInteger(value) || value < 100))
    throw new Error('--scale takes deal counts >= 100')
  process.exit(
    await runScale({
      scales,
      pglite: flags.pglite ?? false,
      db: flags['scale-db'],
      requests: flags.requests ? Number(flags.requests) : 100,
      label: flags.label ?? 'run',
      log: (message) => process.stderr.write(`${message}\n`),
    }),
  )
}

function positive(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback
  const value = Number(raw)
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`)
  return value
}

const settings = {
  connections: Math.round(positive('connections', flags.connections, 32)),
  // Quick mode: one 1-second run per workload and no warm-up; enough to prove every request still works.
  durationSeconds: positive('duration', flags.duration, flags.quick ? 1 : 10),
  warmupSeconds: flags.warmup !== undefined ? Number(flags.warmup) : flags.quick ? 0 : 3,
  runs: Math.round(positive('runs', flags.runs, flags.quick ? 1 : 3)),
}
const selected = flags.only
  ? WORKLOADS.filter((w) => flags.only?.toUpperCase().split(',').includes(w.id))
  : WORKLOADS
if (selected.length === 0) throw new Error(`--only matched no workload (${WORKLOADS.map((w) => w.id)})`)
const modes: ModeResult['database'][] = flags.pglite
  ? ['pglite']
  : flags.both
    ? ['postgresql', 'pglite']
    : ['postgresql']

// ---- Cleanup: databases, temp folders and child processes go away on success, failure and ctrl-c. ----------

const cleanups: (() => Promise<unknown>)[] = []
let cleaning: Promise<void> | undefined
function onCleanup(fn: () => Promise<unknown>): void {
  cleanups.push(fn)
}
let interrupted = false
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await stopAll(interrupted)
    while (cleanups.length > 0) {
      const fn = cleanups.pop()
      try {
        await fn?.()
      } catch (error) {
        console.error('cleanup step failed:', error)
      }
    }
  })()
  return cleaning
}
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: cleaning up`)
    interrupted = true
    void cleanup().finally(() => process.exit(code))
  })
}

function log(message: string): void {
  process.stderr.write(`${message}\n`)
}

// ---- Service and data ----------------------------------------------------------------------------------------

interface Tenant {
  token: string
  organizationId: string
  userId: string
}

async function register(baseUrl: string, label: string): Promise<Tenant> {
  const email = `bench-${label}-${randomBytes(4).toString('hex')}@example.com`
  const response = await fetch(`${baseUrl}${API}/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      email,
      password: PASSWORD,
      name: `Bench ${label}`,
      organization_name: `Bench ${label}`,
    }),
  })
  if (response.status !== 201)
    throw new Error(`register answered ${response.status}: ${await response.text()}`)
  const body = (await response.json()) as { access_token: string; organization_id: string; user_id: string }
  return { token: body.access_token, organizationId: body.organization_id, userId: body.user_id }
}

/** The load test's additions to the service environment. */
function loadTestEnv(): NodeJS.ProcessEnv {
  return {
    // The request rate limit would cap the load generator (spec §16: the benchmark turns it off).
    RATE_LIMIT_PER_MINUTE: '0',
    // --webhook: the receiver listens on 127.0.0.1.
    ...(flags.webhook ? { WEBHOOK_ALLOW_PRIVATE_URLS: 'true' } : {}),
    // Redis only when the caller asks for it by setting REDIS_URL for the benchmark.
    ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}),
    // --log-level=info: the service's default, two access lines per request (discarded: see startService).
    ...(flags['log-level'] ? { LOG_LEVEL: flags['log-level'] } : {}),
  }
}

async function startService(
  workdir: string,
  databaseUrl: string | undefined,
  secretKey: string,
  profile: boolean,
): Promise<NodeChild> {
  const port = await freePort()
  const service = await startNode({
    name: 'service',
    // The compiled build, as in production (tsx alone adds ~90 MB of resident memory).
    entry: join(ROOT, 'dist', 'server.js'),
    // An empty working directory: no developer `.env` leaks in, and PGlite keeps its data in ./data there.
    cwd: workdir,
    env: serviceEnv(port, databaseUrl, secretKey, loadTestEnv()),
    port,
    nodeArgs: [
      ...(profile ? ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR] : []),
      ...(flags['node-arg'] ?? []),
    ],
    readyPath: '/ready',
    // Below warn the service logs every request: written to /dev/null, not through this process.
    discardStdout:
      flags['log-level'] !== undefined && !['warn', 'error', 'fatal', 'silent'].includes(flags['log-level']),
  })
  return service
}

async function startFloor(databaseUrl: string, secretKey: string): Promise<NodeChild> {
  const port = await freePort()
  const floor = await startNode({
    name: 'floor',
    entry: join(ROOT, 'bench', 'floor.ts'),
    cwd: ROOT,
    env: { PATH: process.env.PATH, DATABASE_URL: databaseUrl, PORT: String(port), SECRET_KEY: secretKey },
    port,
    readyPath: '/ready',
  })
  return floor
}

interface Prepared {
  service: NodeChild
  secretKey: string
  main: Tenant
  ids: BenchIds
  /** The routes of the service's /openapi.json (asked of the registration process). */
  routes: Set<string>
  seed: Record<string, unknown>
  databaseVersion: string
  databaseUrl?: string
}

/**
 * Registers the two users through the API (real tokens, real organizations), seeds with SQL while no service
 * runs, then starts the measured service fresh, so its peak RSS covers start-up and the workloads only.
 */
async function prepare(database: ModeResult['database']): Promise<Prepared> {
  const workdir = mkdtempSync(join(tmpdir(), 'mini-crm-bench-'))
  onCleanup(async () => rmSync(workdir, { recursive: true, force: true }))
  // The service's PGlite folder is ./data/pglite; PGlite creates only the last level (in production no
  // generated secret creates ./data first).
  mkdirSync(join(workdir, 'data'))
  const secretKey = randomBytes(32).toString('hex')

  let databaseUrl: string | undefined
  if (database === 'postgresql') {
    const serverUrl = process.env.DATABASE_URL
    if (!serverUrl) throw new Error('DATABASE_URL is required (or run with --pglite)')
    const name = `mini_crm_bench_${Date.now()}_${randomBytes(3).toString('hex')}`
    const admin = new pg.Client({ connectionString: serverUrl })
    await admin.connect()
    await admin.query(`CREATE DATABASE ${name}`)
    await admin.end()
    onCleanup(async () => {
      const client = new pg.Client({ connectionString: serverUrl })
      await client.connect()
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await client.end()
      log(`dropped database ${name}`)
    })
    const url = new URL(serverUrl)
    url.pathname = `/${name}`
    databaseUrl = url.toString()
    log(`database ${name} on ${url.host}`)
  }

  log('starting the service to register the bench users')
  const first = await startService(workdir, databaseUrl, secretKey, false)
  const main = await register(first.baseUrl, 'main')
  const noise = await register(first.baseUrl, 'noise')
  // Asked of this process, not the measured one: answering /openapi.json keeps the document (~1.7 MB of heap)
  // in the process that answered, and the measured service's peak RSS is to cover the workloads only.
  const routes = await availableRoutes(first.baseUrl)
  await first.stop()

  const seeded = async (sql: Sql) => {
    const started = Date.now()
    await seedOrganization(sql, { organizationId: main.organizationId, ownerId: main.userId, ...MAIN_ORG })
    await seedOrganization(sql, { organizationId: noise.organizationId, ownerId: noise.userId, ...NOISE_ORG })
    await analyze(sql)
    const ids = await loadIds(sql, main.organizationId)
    const seed = {
      main: await summarize(sql, main.organizationId),
      noise: await summarize(sql, noise.organizationId),
      seconds: (Date.now() - started) / 1000,
    }
    const [version] = await sql<{ server_version: string }>('SHOW server_version')
    return { ids, seed, databaseVersion: version?.server_version ?? 'unknown' }
  }

  let data: Awaited<ReturnType<typeof seeded>>
  if (databaseUrl) {
    const client = new pg.Client({ connectionString: databaseUrl })
    await client.connect()
    try {
      data = await seeded(async (text, params) => (await client.query(text, params)).rows)
    } finally {
      await client.end()
    }
  } else {
    const client = await PGlite.create(join(workdir, 'data', 'pglite'), { extensions: PGLITE_EXTENSIONS })
    try {
      data = await seeded(
        async <T>(text: string, params?: unknown[]) => (await client.query<T>(text, params)).rows,
      )
    } finally {
      await client.close()
    }
  }
  log(`seeded in ${data.seed.seconds} s: ${JSON.stringify(data.seed.main)}`)

  log('starting the measured service')
  const service = await startService(workdir, databaseUrl, secretKey, flags.profile ?? false)
  return { service, main, routes, secretKey, ...data, ...(databaseUrl ? { databaseUrl } : {}) }
}

// ---- Measuring -----------------------------------------------------------------------------------------------

function tenantHeaders(tenant: Tenant): Record<string, string> {
  return { authorization: `Bearer ${tenant.token}`, 'x-organization-id': tenant.organizationId }
}

async function fire(
  target: Pick<Target, 'baseUrl' | 'requests' | 'samples' | 'process'>,
  headers: Record<string, string>,
  seconds: number,
): Promise<RunStats> {
  const { baseUrl, requests, samples } = target
  const sampled = requests.map((request) => ({
    ...request,
    onResponse: (status: number, body: string) => {
      if ((status < 200 || status > 299) && samples.length < MAX_SAMPLES) {
        samples.push(`${status} ${body.slice(0, 300)}`)
      }
    },
  }))
  const cpuBefore = target.process?.cpuSeconds()
  const result = await autocannon({
    url: baseUrl,
    connections: settings.connections,
    duration: seconds,
    headers,
    requests: sampled,
  })
  await settle(baseUrl)
  const cpuAfter = target.process?.cpuSeconds()
  const statusCodes = Object.fromEntries(
    Object.entries(result.statusCodeStats ?? {}).map(([code, stat]) => [code, stat.count]),
  )
  const answered = Object.values(statusCodes).reduce((sum, count) => sum + count, 0)
  return {
    reqPerSec: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    // The target's own CPU per answered request: unlike req/s, it does not move with what else the two cores
    // run (autocannon, PostgreSQL, other jobs), so it compares commits measured at different times.
    ...(cpuBefore !== undefined && cpuAfter !== undefined && answered > 0
      ? { cpuUsPerRequest: ((cpuAfter - cpuBefore) * 1e6) / answered }
      : {}),
    requests: answered,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    statusCodes,
  }
}

/**
 * Requests still in flight when a run stops are abandoned by autocannon but not by the server; the next run
 * starts only after they are through (the readiness query queues behind them), or it would measure their tail.
 */
async function settle(baseUrl: string): Promise<void> {
  const response = await fetch(`${baseUrl}/ready`, { signal: AbortSignal.timeout(120_000) })
  if (response.status !== 200) throw new Error(`${baseUrl}/ready answered ${response.status} after a run`)
}

interface Target {
  name: 'service' | 'floor'
  baseUrl: string
  /** The process behind baseUrl, for its CPU time. */
  process?: NodeChild
  requests: RequestSpec[]
  warmup?: RunStats
  runs: RunStats[]
  samples: string[]
}

/**
 * Before the first measurement, every selected read once, for half the warm-up each (at least 1 s), on the
 * service and the floor: the code they share with every workload (routing, auth, the list engine, drizzle, pg)
 * is compiled and the heap sized by then. Without it the first workload measured paid for it alone: W7 took
 * 1,212 us of service CPU per request when measured first and 920 when measured after W1 (docs/performance.md).
 * Reads only, with request sequences of their own: the measured runs start where they would have.
 */
async function warmProcesses(
  reads: Workload[],
  service: NodeChild,
  floor: { process: NodeChild; workloads: Workload[] } | undefined,
  headers: Record<string, string>,
  ids: BenchIds,
) {
  if (settings.warmupSeconds <= 0 || reads.length === 0) return
  const seconds = Math.max(1, settings.warmupSeconds / 2)
  log(`warming up: ${reads.map((w) => w.id).join(', ')}, ${seconds} s each`)
  for (const workload of reads) {
    const targets = floor?.workloads.includes(workload) ? [service, floor.process] : [service]
    for (const target of targets) {
      await fire(
        { baseUrl: target.baseUrl, process: target, requests: workload.requests(ids), samples: [] },
        headers,
        seconds,
      )
    }
  }
}

/** Warm-up, then the repetitions, alternating service and floor so background noise hits both alike. */
async function measureWorkload(workload: Workload, targets: Target[], headers: Record<string, string>) {
  for (const target of targets) {
    if (settings.warmupSeconds > 0) {
      target.warmup = await fire(target, headers, settings.warmupSeconds)
    }
  }
  for (let run = 1; run <= settings.runs; run++) {
    for (const target of targets) {
      const stats = await fire(target, headers, settings.durationSeconds)
      target.runs.push(stats)
      log(
        `${workload.id} ${target.name} run ${run}/${settings.runs}: ${stats.reqPerSec.toFixed(0)} req/s, ` +
          `p99 ${stats.p99Ms} ms, non-2xx ${stats.non2xx}, errors ${stats.errors}`,
      )
    }
  }
}

/** The top-level fields of two answers that differ, each as `field: service vs floor` (shortened). */
function differingFields(fromService: unknown, fromFloor: unknown): string {
  const service = (fromService ?? {}) as Record<string, unknown>
  const floor = (fromFloor ?? {}) as Record<string, unknown>
  const shown = (value: unknown) => JSON.stringify(value)?.slice(0, 200)
  return [...new Set([...Object.keys(service), ...Object.keys(floor)])]
    .filter((key) => !isDeepStrictEqual(service[key], floor[key]))
    .map((key) => `${key}: ${shown(service[key])} vs ${shown(floor[key])}`)
    .join('; ')
}

/**
 * The floor is only a floor if it does the service's work: before measuring, both must give the same JSON for
 * the floor's requests (W1, W7, W9, W10, the first W2 ids and W8's four stages).
 */
async function checkFloorParity(service: NodeChild, floor: NodeChild, paths: string[], tenant: Tenant) {
  for (const path of paths) {
    const [fromService, fromFloor] = await Promise.all(
      [service, floor].map(async (target) => {
        const response = await fetch(`${target.baseUrl}${path}`, { headers: tenantHeaders(tenant) })
        return { status: response.status, body: (await response.json()) as unknown }
      }),
    )
    if (fromService?.status !== 200) {
      throw new Error(
        `service answered ${fromService?.status} to GET ${path}: ${JSON.stringify(fromService?.body)}`,
      )
    }
    if (!isDeepStrictEqual(fromService, fromFloor)) {
      throw new Error(
        `floor and service disagree on GET ${path} (${differingFields(fromService?.body, fromFloor?.body)}): ` +
          `service ${fromService?.status} ` +
          `${JSON.stringify(fromService?.body).slice(0, 400)}\nfloor ${fromFloor?.status} ` +
          `${JSON.stringify(fromFloor?.body).slice(0, 400)}\nupdate bench/floor.ts to the service's SQL and shape`,
      )
    }
  }
}

/** The first paths a workload requests (W8 rotates over the four stages): each is checked for parity. */
function samplePaths(workload: Workload, ids: BenchIds, count = 4): string[] {
  const [request] = workload.requests(ids)
  const paths = new Set<string>()
  for (let i = 0; i < count; i++) {
    const built = request?.setupRequest ? request.setupRequest({ ...request }, {}) : request
    if (!built?.path) throw new Error(`${workload.id} has no path`)
    paths.add(built.path)
  }
  return [...paths]
}

/**
 * Analytics must stay exact and fresh under W4's writes: the cache is warmed before W4, and after it the
 * service's summary and funnel must equal the same aggregates computed directly in SQL.
 */
async function checkAnalyticsAfterWrites(
  baseUrl: string,
  databaseUrl: string,
  tenant: Tenant,
): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    const aggregates = async () => {
      const byStatus = await client.query<{ status: string; count: number; total: string }>(
        // Spec §13: counts cover every deal, amounts only the summary's currency (the organization's USD).
        `SELECT status, count(*)::int AS count,
                coalesce(sum(amount) FILTER (WHERE currency = 'USD'), 0)::numeric(15,2)::text AS total
           FROM deals WHERE organization_id = $1 GROUP BY status ORDER BY status`,
        [tenant.organizationId],
      )
      const cells = await client.query<{ stage: string; status: string; count: number }>(
        `SELECT stage, status, count(*)::int AS count FROM deals WHERE organization_id = $1
          GROUP BY stage, status ORDER BY stage, status`,
        [tenant.organizationId],
      )
      return { byStatus: byStatus.rows, cells: cells.rows }
    }
    // The server still finishes requests autocannon abandoned when the run ended: wait until the deals stop
    // changing (the same aggregates 500 ms apart), so the comparison is with the state after the last write.
    let settled = await aggregates()
    for (let attempt = 0; attempt < 20; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 500))
      const again = await aggregates()
      if (isDeepStrictEqual(again, settled)) break
      settled = again
    }
    const get = async (path: string) => {
      const response = await fetch(`${baseUrl}${API}${path}`, { headers: tenantHeaders(tenant) })
      if (!response.ok) throw new Error(`GET ${path}: ${response.status}`)
      return (await response.json()) as Record<string, Record<string, Record<string, unknown>>>
    }
    const [summary, funnel] = [await get('/analytics/deals/summary'), await get('/analytics/deals/funnel')]
    const problems: string[] = []
    for (const row of settled.byStatus) {
      const served = summary.by_status?.[row.status]
      if (served?.count !== row.count || served?.total_amount !== row.total) {
        problems.push(
          `summary ${row.status}: served ${JSON.stringify(served)}, database ${row.count} / ${row.total}`,
        )
      }
    }
    for (const row of settled.cells) {
      const served = funnel.stages?.[row.stage]?.[row.status]
      if (served !== row.count)
        problems.push(`funnel ${row.stage}/${row.status}: served ${served}, database ${row.count}`)
    }
    return problems
  } finally {
    await client.end()
  }
}

async function benchMode(database: ModeResult['database']): Promise<ModeResult> {
  log(`\n=== ${database} ===`)
  const prepared = await prepare(database)
  const { service, main, ids, routes } = prepared
  const headers = tenantHeaders(main)
  const available = selected.filter((workload) => isAvailable(workload, routes))
  const floorWorkloads = database === 'postgresql' ? available.filter((w) => w.floor) : []

  let floor: NodeChild | undefined
  if (floorWorkloads.length > 0 && prepared.databaseUrl) {
    floor = await startFloor(prepared.databaseUrl, prepared.secretKey)
    await checkFloorParity(
      service,
      floor,
      floorWorkloads.flatMap((w) => samplePaths(w, ids)),
      main,
    )
  }

  const workloads: WorkloadResult[] = []
  const writeRequests = new Map<string, RequestSpec[]>()
  let analyticsAfterWrites: string[] | undefined
  const analyticsRoutes = WORKLOADS.filter((w) => w.id === 'W5' || w.id === 'W6')
  const checkAnalytics = Boolean(prepared.databaseUrl) && analyticsRoutes.every((w) => isAvailable(w, routes))
  await warmProcesses(
    available.filter((w) => w.kind === 'read'),
    service,
    floor && { process: floor, workloads: floorWorkloads },
    headers,
    ids,
  )
  for (const workload of selected) {
    const result: WorkloadResult = { id: workload.id, label: workload.label, kind: workload.kind }
    workloads.push(result)
    if (!available.includes(workload)) {
      result.notAvailable = `no ${workload.method} ${workload.route} in /openapi.json`
      log(`${workload.id} not available: ${result.notAvailable}`)
      continue
    }
    const targets: Target[] = [
      {
        name: 'service',
        baseUrl: service.baseUrl,
        process: service,
        requests: workload.requests(ids),
        runs: [],
        samples: [],
      },
    ]
    // The --webhook re-run continues the same request sequence (W4's toggle keeps every PATCH a change).
    if (workload.kind === 'write') writeRequests.set(workload.id, (targets[0] as Target).requests)
    if (floor && floorWorkloads.includes(workload)) {
      targets.push({
        name: 'floor',
        baseUrl: floor.baseUrl,
        process: floor,
        requests: workload.requests(ids),
        runs: [],
        samples: [],
      })
    }
    // Warm the analytics cache, so the check after W4 proves that writes move it on.
    if (workload.id === 'W4' && checkAnalytics) {
      await fetch(`${service.baseUrl}${API}/analytics/deals/summary`, { headers })
      await fetch(`${service.baseUrl}${API}/analytics/deals/funnel`, { headers })
    }
    await measureWorkload(workload, targets, headers)
    if (workload.id === 'W4' && checkAnalytics && prepared.databaseUrl) {
      analyticsAfterWrites = await checkAnalyticsAfterWrites(service.baseUrl, prepared.databaseUrl, main)
      log(
        analyticsAfterWrites.length === 0
          ? 'analytics after W4 writes: exact and fresh'
          : `analytics after W4 writes: STALE OR WRONG\n  ${analyticsAfterWrites.join('\n  ')}`,
      )
    }
    const [serviceTarget, floorTarget] = targets.map(
      (t): Measured => summarizeRuns(t.runs, t.warmup, t.samples),
    )
    result.service = serviceTarget
    if (floorTarget) {
      result.floor = floorTarget
      result.ratio = (serviceTarget?.median.reqPerSec ?? 0) / floorTarget.median.reqPerSec
    }
    result.misses = checkTargets(result)
  }

  const webhookRuns = flags.webhook
    ? await measureWithWebhook(service, main, workloads, writeRequests)
    : undefined

  const peakRssBytes = service.peakRss()
  await service.stop()
  await floor?.stop()
  return {
    database,
    databaseVersion: prepared.databaseVersion,
    seed: prepared.seed,
    workloads,
    peakRssBytes,
    rssMiss: peakRssBytes !== undefined && peakRssBytes > TARGETS.rssBytes,
    ...(analyticsAfterWrites ? { analyticsAfterWrites } : {}),
    ...(webhookRuns ? { webhookRuns } : {}),
    ...(flags.profile ? { profileDir: PROFILE_DIR } : {}),
  }
}

/**
 * --webhook: subscribe one webhook to every event with a receiver in this process, run each write workload
 * again on the same service, and compare with its run without the webhook; the latency is from the event's
 * timestamp (its transaction) to its arrival, over the deliveries of that run (drained before the next).
 */
async function measureWithWebhook(
  service: NodeChild,
  tenant: Tenant,
  results: WorkloadResult[],
  requests: Map<string, RequestSpec[]>,
): Promise<WebhookRun[]> {
  const receiver = await startWebhookReceiver()
  onCleanup(() => receiver.close())
  await subscribeWebhook(`${service.baseUrl}${API}`, tenantHeaders(tenant), receiver.url)
  const runs: WebhookRun[] = []
  for (const result of results) {
    const sequence = requests.get(result.id)
    if (!sequence || !result.service) continue
    receiver.reset()
    const target: Target = {
      name: 'service',
      baseUrl: service.baseUrl,
      requests: sequence,
      runs: [],
      samples: [],
    }
    await measureWorkload(
      { ...(WORKLOADS.find((w) => w.id === result.id) as Workload), id: `${result.id}+webhook` },
      [target],
      tenantHeaders(tenant),
    )
    await drained(receiver)
    const measured = summarizeRuns(target.runs, target.warmup, target.samples)
    const baseline = result.service.median.reqPerSec
    runs.push({
      id: result.id,
      label: result.label,
      reqPerSec: measured.median.reqPerSec,
      baselineReqPerSec: baseline,
      ratio: baseline > 0 ? measured.median.reqPerSec / baseline : 0,
      deliveries: receiver.received,
      latencyP50Ms: percentile(receiver.latencies, 50),
      latencyP99Ms: percentile(receiver.latencies, 99),
    })
    log(
      `${result.id} with webhook: ${measured.median.reqPerSec.toFixed(0)} req/s (${baseline.toFixed(0)} without), ` +
        `${receiver.received} deliveries, latency p50 ${percentile(receiver.latencies, 50)} ms, ` +
        `p99 ${percentile(receiver.latencies, 99)} ms`,
    )
    if (measured.non2xx > 0 || measured.errors > 0) {
      result.misses = [
        ...(result.misses ?? []),
        `with webhook: ${measured.non2xx} non-2xx, ${measured.errors} errors`,
      ]
    }
  }
  return runs
}

// ---- Main ----------------------------------------------------------------------------------------------------

function gitCommit(): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).toString().trim()
    const dirty = execFileSync('git', ['status', '--porcelain'], { cwd: ROOT }).toString().trim() !== ''
    return dirty ? `${commit}+dirty` : commit
  } catch {
    return 'unknown'
  }
}

function describeMode(mode: ModeResult): string {
  const shape = flags.quick
    ? `quick: ${settings.runs} x ${settings.durationSeconds} s`
    : `${settings.runs} x ${settings.durationSeconds} s, medians, warm-up ${settings.warmupSeconds} s`
  const what = mode.database === 'postgresql' ? 'PostgreSQL' : 'PGlite (embedded, service only)'
  return `${what} ${mode.databaseVersion}: ${settings.connections} connections, ${shape}`
}

/** Quick mode (CI) fails on any non-2xx or connection error; --strict also on a workload that is missing. */
function failures(results: ModeResult[]): string[] {
  const problems: string[] = []
  for (const mode of results) {
    for (const problem of mode.analyticsAfterWrites ?? [])
      problems.push(`${mode.database} analytics: ${problem}`)
    for (const w of mode.workloads) {
      if (w.notAvailable && flags.strict) problems.push(`${mode.database} ${w.id}: ${w.notAvailable}`)
      for (const [name, measured] of [
        ['service', w.service],
        ['floor', w.floor],
      ] as const) {
        if (!measured) continue
        const silent = [...measured.runs, ...(measured.warmup ? [measured.warmup] : [])].filter(
          (r) => r.ok === 0,
        )
        if (silent.length > 0)
          problems.push(`${mode.database} ${w.id} ${name}: a run without any 2xx response`)
        if (measured.non2xx > 0 || measured.errors > 0) {
          problems.push(
            `${mode.database} ${w.id} ${name}: ${measured.non2xx} non-2xx, ${measured.errors} errors` +
              (measured.samples.length > 0 ? `\n    e.g. ${measured.samples.join('\n    e.g. ')}` : ''),
          )
        }
      }
    }
  }
  return problems
}

async function main(): Promise<number> {
  const startedAt = new Date()
  const conditions = {
    startedAt: startedAt.toISOString(),
    commit: gitCommit(),
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memory: megabytes(totalmem()),
    loadavgBefore: loadavg(),
    settings,
    flags: {
      quick: flags.quick,
      strict: flags.strict,
      profile: flags.profile,
      webhook: flags.webhook,
      only: flags.only ?? null,
    },
  }
  log(
    `bench: ${modes.join(' + ')}, ${selected.map((w) => w.id).join(' ')}; ${conditions.cpus} CPUs, ` +
      `load ${conditions.loadavgBefore.map((l) => l.toFixed(2)).join(' ')}`,
  )

  log('bench: building the service (tsc -p tsconfig.build.json)')
  execFileSync(
    process.execPath,
    [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: ROOT,
      stdio: 'inherit',
    },
  )

  const results: ModeResult[] = []
  for (const database of modes) {
    results.push(await benchMode(database))
    await cleanup()
    cleaning = undefined
  }
  const loadavgAfter = loadavg()

  const tables = results.map((mode) => formatTable(mode, describeMode(mode)))
  for (const mode of results) {
    if (mode.webhookRuns) tables.push(formatWebhookRuns(mode.database, mode.webhookRuns))
  }
  console.log(`\n${tables.join('\n\n')}\n`)
  console.log(targetLegend())
  console.log(
    `conditions: ${conditions.cpus} x ${conditions.cpuModel}, node ${conditions.node}, commit ${conditions.commit}, ` +
      `load average ${conditions.loadavgBefore[0]?.toFixed(2)} before, ${loadavgAfter[0]?.toFixed(2)} after`,
  )
  if (flags.profile) console.log(`CPU profiles of the measured service: ${PROFILE_DIR}`)
  const missing = results.flatMap((mode) => mode.workloads.filter((w) => w.notAvailable))
  if (missing.length > 0 && !flags.strict) {
    console.log(
      `not available (skipped, not failed; --strict fails on them): ${[...new Set(missing.map((w) => w.id))].join(', ')}`,
    )
  }

  mkdirSync(RESULTS_DIR, { recursive: true })
  const file = join(
    RESULTS_DIR,
    `bench-${startedAt.toISOString().replace(/[:.]/g, '-')}-${flags.quick ? 'quick' : 'full'}-${modes.join('+')}.json`,
  )
  writeFileSync(
    file,
    `${JSON.stringify({ conditions: { ...conditions, loadavgAfter }, targets: TARGETS, results }, null, 2)}\n`,
  )
  console.log(`results: ${file}`)

  const problems = failures(results)
  if (problems.length > 0) {
    console.log(`\n${flags.quick || flags.strict ? 'FAILED' : 'problems'}:\n  ${problems.join('\n  ')}`)
  }
  // The full run's targets are informative; quick mode (CI) and --strict fail on broken requests.
  return (flags.quick || flags.strict) && problems.length > 0 ? 1 : 0
}

let exitCode = 1
try {
  exitCode = await main()
} catch (error) {
  // After an interrupt, whatever was under way fails as its database and processes vanish: not news.
  if (!interrupted) console.error(error instanceof Error ? (error.stack ?? error.message) : error)
} finally {
  await cleanup()
}
process.exit(exitCode)
