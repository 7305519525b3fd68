/**
 * `npm run drill [scenario...]`: fault drills against real processes, for what unit tests cannot stage.
 * Scenarios (default: all that this machine allows):
 *   pg-restart  a private PostgreSQL cluster (initdb under $TMPDIR, port 18390) restarted with `pg_ctl -m fast`
 *               under requests: the service must live on, answer only 2xx/503, and recover by itself.
 *   disk-full   the embedded database on a small tmpfs (root only) filled up: 503 while full (never 500),
 *               recovery when space returns, and SIGTERM still stops the process.
 * Ports 18390-18399. Covered by `npm test` instead: terminated backends (test/pg-faults), hung Redis
 * (test/redis-faults), two processes on one PGlite folder and keep-alive shutdown (test/server).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

const ROOT = resolve(import.meta.dirname, '..')
const PG_BIN = [
  '/usr/lib/postgresql/17/bin',
  '/usr/lib/postgresql/16/bin',
  '/usr/lib/postgresql/15/bin',
].find((dir) => existsSync(join(dir, 'initdb')))
const PG_PORT = 18390
const APP_PORT = 18391
const results: { scenario: string; ok: boolean; detail: string }[] = []

function startApp(cwd: string, env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/server.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(APP_PORT),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'error',
      REDIS_URL: '',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  void cwd
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)))
  return { child, exited }
}

async function ready(child: ChildProcess): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    if (child.exitCode !== null) throw new Error('the service exited while starting')
    try {
      if ((await fetch(`http://127.0.0.1:${APP_PORT}/ready`)).ok) return
    } catch {}
    await sleep(100)
  }
  throw new Error('the service did not become ready')
}

const api = (path: string, init: RequestInit = {}, token?: string, org?: string) =>
  fetch(`http://127.0.0.1:${APP_PORT}/api/v1${path}`, {
    ...init,
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(org ? { 'x-organization-id': org } : {}),
    },
  })

async function registerUser(): Promise<{ token: string; org: string }> {
  const response = await api('/auth/register', {
    method: 'POST',
    body: JSON.stringify({
      email: `drill-${Date.now()}@example.test`,
      password: 'correct horse battery',
      name: 'Drill',
      organization_name: 'Drill',
    }),
  })
  const body = (await response.json()) as { access_token: string; organization_id: string }
  return { token: body.access_token, org: body.organization_id }
}

const createContact = (user: { token: string; org: string }, name: string) =>
  api('/contacts', { method: 'POST', body: JSON.stringify({ name }) }, user.token, user.org)
    .then((r) => r.status)
    .catch(() => -1)

async function stopWithin(app: ReturnType<typeof startApp>, ms: number): Promise<number | null | 'hung'> {
  app.child.kill('SIGTERM')
  const code = await Promise.race([app.exited, sleep(ms).then(() => 'hung' as const)])
  if (code === 'hung') app.child.kill('SIGKILL')
  return code
}

async function pgRestart(): Promise<string> {
  if (!PG_BIN) throw new Error('skip: no PostgreSQL binaries under /usr/lib/postgresql')
  const dir = mkdtempSync(join(tmpdir(), 'mini-crm-drill-pg-'))
  const asPostgres = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : []
  const run = (cmd: string, ...args: string[]) => {
    const [exe, ...rest] = [...asPostgres, join(PG_BIN, cmd), ...args]
    execFileSync(exe as string, rest, { stdio: 'ignore' })
  }
  if (asPostgres.length) execFileSync('chown', ['postgres', dir])
  const data = join(dir, 'data')
  const pgctl = (...args: string[]) =>
    run('pg_ctl', '-D', data, '-w', '-o', `-p ${PG_PORT} -k ${dir} -c listen_addresses=127.0.0.1`, ...args)
  run('initdb', '-D', data, '-U', 'postgres', '--auth=trust')
  pgctl('start', '-l', join(dir, 'log'))
  const app = startApp(dir, { DATABASE_URL: `postgres://postgres@127.0.0.1:${PG_PORT}/postgres` })
  try {
    await ready(app.child)
    const user = await registerUser()
    const statuses = new Map<number, number>()
    let running = true
    const load = Promise.all(
      Array.from({ length: 4 }, async (_, w) => {
        for (let i = 0; running; i++) {
          const status = await createContact(user, `c${w}-${i}`)
          statuses.set(status, (statuses.get(status) ?? 0) + 1)
        }
      }),
    )
    for (let round = 0; round < 3; round++) {
      await sleep(500)
      pgctl('restart', '-m', 'fast', '-l', join(dir, 'log'))
    }
    await sleep(1500)
    running = false
    await load
    if (app.child.exitCode !== null) throw new Error(`the service died (exit ${app.child.exitCode})`)
    const bad = [...statuses].filter(([status]) => status !== 201 && status !== 503)
    if (bad.length) throw new Error(`answers other than 201/503: ${JSON.stringify(bad)}`)
    const after = await createContact(user, 'after')
    if (after !== 201) throw new Error(`no recovery: ${after}`)
    return `3 fast restarts, alive; answers ${JSON.stringify(Object.fromEntries(statuses))}; recovered`
  } finally {
    await stopWithin(app, 15_000)
    try {
      pgctl('stop', '-m', 'immediate')
    } catch {}
    rmSync(dir, { recursive: true, force: true })
  }
}

async function diskFull(): Promise<string> {
  if (process.getuid?.() !== 0) throw new Error('skip: mounting a tmpfs needs root')
  const mount = mkdtempSync(join(tmpdir(), 'mini-crm-drill-disk-'))
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=96m', 'tmpfs', mount])
  const dataDir = join(mount, 'data')
  mkdirSync(dataDir)
  writeFileSync(join(dataDir, 'secret_key'), `${'d'.repeat(64)}\n`)
  // DATA_DIR is ./data of the working directory.
  const app = spawn(
    process.execPath,
    ['--import', join(ROOT, 'node_modules/tsx/dist/esm/index.mjs'), join(ROOT, 'src/server.ts')],
    {
      cwd: mount,
      env: {
        ...process.env,
        PORT: String(APP_PORT),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'error',
        DATABASE_URL: '',
        REDIS_URL: '',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  )
  const handle = {
    child: app,
    exited: new Promise<number | null>((done) => app.on('exit', (code) => done(code))),
  }
  try {
    await ready(app)
    const user = await registerUser()
    const filler = join(mount, 'filler')
    try {
      execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=1M', 'count=200'], { stdio: 'ignore' })
    } catch {}
    const statuses = new Map<number, number>()
    const big = 'x'.repeat(200)
    for (let i = 0; i < 300; i++) {
      const status = await createContact(user, `${big}${i}`)
      statuses.set(status, (statuses.get(status) ?? 0) + 1)
    }
    if (!statuses.has(503)) throw new Error(`never 503 while full: ${JSON.stringify([...statuses])}`)
    if (statuses.has(500)) throw new Error(`500 while full: ${JSON.stringify([...statuses])}`)
    rmSync(filler)
    let after = 0
    for (let i = 0; i < 20 && after !== 201; i++) {
      after = await createContact(user, 'after')
      if (after !== 201) await sleep(250)
    }
    if (after !== 201) throw new Error(`no recovery after space returned: ${after}`)
    const code = await stopWithin(handle, 15_000)
    if (code !== 0) throw new Error(`SIGTERM: ${code}`)
    return `while full ${JSON.stringify(Object.fromEntries(statuses))}; recovered; SIGTERM exit 0`
  } finally {
    if (app.exitCode === null) app.kill('SIGKILL')
    await handle.exited
    execFileSync('umount', [mount])
    rmSync(mount, { recursive: true, force: true })
  }
}

const scenarios: Record<string, () => Promise<string>> = { 'pg-restart': pgRestart, 'disk-full': diskFull }
const chosen = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(scenarios)
for (const name of chosen) {
  const scenario = scenarios[name]
  if (!scenario) throw new Error(`unknown scenario ${name}; known: ${Object.keys(scenarios).join(', ')}`)
  try {
    results.push({ scenario: name, ok: true, detail: await scenario() })
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error)
    results.push({ scenario: name, ok: !detail.startsWith('skip'), detail })
    if (detail.startsWith('skip')) results[results.length - 1] = { scenario: name, ok: true, detail }
    else results[results.length - 1] = { scenario: name, ok: false, detail }
  }
}
for (const { scenario, ok, detail } of results) console.log(`${ok ? 'PASS' : 'FAIL'} ${scenario}: ${detail}`)
process.exit(results.every((r) => r.ok) ? 0 : 1)
