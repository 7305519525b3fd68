import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after } from 'node:test'

const SERVER = resolve(import.meta.dirname, '../src/server.ts')
const DB_SCRIPT = resolve(import.meta.dirname, '../scripts/db.ts')
/** Generous: on a loaded CI box compiling with tsx and opening the database can take a minute. */
const START_BUDGET_MS = 240_000

export function freePort(): Promise<number> {
  return new Promise((done) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => done(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

/** A folder under $TMPDIR removed when the test file ends: `npm test` leaves nothing behind. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

export interface Started {
  child: ChildProcess
  exited: Promise<number | null>
  stderr: () => string
}

function environment(port: number, extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    NODE_ENV: 'development',
  }
  delete env.DATABASE_URL
  delete env.REDIS_URL
  if (process.env.TEST_DATABASE_URL) env.DATABASE_URL = process.env.TEST_DATABASE_URL
  return { ...env, ...extra }
}

/** Runs `src/server.ts` (or `scripts/db.ts <args>`) as a real process in `cwd` (its ./data lives there). */
export function spawnProcess(cwd: string, port: number, extra: NodeJS.ProcessEnv = {}, dbArgs?: string[]) {
  const args = dbArgs ? [DB_SCRIPT, ...dbArgs] : [SERVER]
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), ...args], {
    cwd,
    env: environment(port, extra),
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr?.on('data', (chunk) => {
    stderr += chunk
  })
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)))
  after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  return { child, exited, stderr: () => stderr }
}

/** Starts the server and waits until /ready answers, however long a busy machine takes, or it exits. */
export async function startServer(
  cwd: string,
  port: number,
  extra: NodeJS.ProcessEnv = {},
): Promise<Started> {
  const started = spawnProcess(cwd, port, extra)
  const deadline = Date.now() + START_BUDGET_MS
  while (Date.now() < deadline) {
    if (started.child.exitCode !== null) throw new Error(`server exited early: ${started.stderr()}`)
    try {
      if ((await fetch(`http://127.0.0.1:${port}/ready`)).ok) return started
    } catch {}
    await new Promise((r) => setTimeout(r, 100))
  }
  started.child.kill('SIGKILL')
  throw new Error(`server did not become ready in ${START_BUDGET_MS} ms: ${started.stderr()}`)
}
