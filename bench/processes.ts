import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

/** A node process the benchmark started (the service or the floor), spawned directly: its pid is node's. */
export interface NodeChild {
  name: string
  pid: number
  baseUrl: string
  /** Peak resident set size so far (VmHWM of /proc/<pid>/status), in bytes; undefined off Linux. */
  peakRss(): number | undefined
  /** CPU time the process has used so far (user + system, /proc/<pid>/stat), in seconds; undefined off Linux. */
  cpuSeconds(): number | undefined
  /** Sends SIGTERM, waits for a graceful exit (SIGKILL after the grace period); resolves to the exit code. */
  stop(): Promise<number | null>
  /** The last lines the process wrote, for error messages. */
  tail(): string
}

const TAIL_LINES = 40
const STOP_GRACE_MS = 15_000

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

// Resolved here rather than by name so the child can run in any working directory.
const TSX_LOADER = import.meta.resolve('tsx')

/** Every child still running, from spawn on (not only once ready), so an interrupt leaves no orphan. */
const running = new Set<NodeChild>()
let refusing = false

/** Stops every running child; with `forGood`, later start attempts fail (an interrupt is under way). */
export async function stopAll(forGood: boolean): Promise<void> {
  refusing ||= forGood
  await Promise.all([...running].map((child) => child.stop()))
}

/**
 * Starts `node <entry>` (with the tsx loader for a .ts entry) with exactly the given environment, forwards its output (prefixed) to
 * stderr, and resolves once `readyPath` answers 200. Rejects (after killing it) when it exits or times out.
 */
export async function startNode(options: {
  name: string
  entry: string
  cwd: string
  env: NodeJS.ProcessEnv
  port: number
  nodeArgs?: string[]
  readyPath: string
  /** Standard output to /dev/null instead of forwarded (a service logging every request). */
  discardStdout?: boolean
  readyTimeoutMs?: number
}): Promise<NodeChild> {
  const { name, port } = options
  if (refusing) throw new Error(`not starting ${name}: interrupted`)
  const child = spawn(
    process.execPath,
    // Compiled JavaScript runs as production does; TypeScript entries (the floor) through the tsx loader.
    [
      ...(options.nodeArgs ?? []),
      ...(options.entry.endsWith('.ts') ? ['--import', TSX_LOADER] : []),
      options.entry,
    ],
    {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', options.discardStdout ? 'ignore' : 'pipe', 'pipe'],
    },
  )
  const lines: string[] = []
  const forward = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      if (line.trim() === '') continue
      lines.push(line)
      if (lines.length > TAIL_LINES) lines.shift()
      process.stderr.write(`[${name}] ${line}\n`)
    }
  }
  child.stdout?.on('data', forward)
  child.stderr?.on('data', forward)
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  let hasExited = false

  const baseUrl = `http://127.0.0.1:${port}`
  const handle: NodeChild = {
    name,
    pid: child.pid ?? -1,
    baseUrl,
    peakRss: () => peakRss(child),
    cpuSeconds: () => cpuSeconds(child),
    stop: async () => {
      if (hasExited) return exited
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS)
      const code = await exited
      clearTimeout(timer)
      return code
    },
    tail: () => lines.join('\n'),
  }
  running.add(handle)
  void exited.then(() => {
    hasExited = true
    running.delete(handle)
  })

  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000)
  while (true) {
    if (hasExited) throw new Error(`${name} exited during start-up:\n${handle.tail()}`)
    if (Date.now() > deadline) {
      await handle.stop()
      throw new Error(`${name} did not answer ${options.readyPath} in time:\n${handle.tail()}`)
    }
    try {
      const response = await fetch(`${baseUrl}${options.readyPath}`)
      if (response.status === 200) return handle
    } catch {
      // not listening yet
    }
    await sleep(100)
  }
}

// USER_HZ: the unit of /proc/<pid>/stat's times; 100 on every Linux architecture node runs on.
const CLOCK_TICKS_PER_SECOND = 100

function cpuSeconds(child: ChildProcess): number | undefined {
  try {
    const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8')
    // Fields after the command name (which may hold spaces and parentheses): utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND
  } catch {
    return undefined
  }
}

function peakRss(child: ChildProcess): number | undefined {
  try {
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8')
    const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status)
    return match?.[1] ? Number(match[1]) * 1024 : undefined
  } catch {
    return undefined
  }
}

/**
 * The measured service's whole environment (nothing else leaks in from the caller's): production mode, a fresh
 * secret, quiet logs, loopback only, tokens long enough for a long run; `extra` adds a run's own settings.
 */
export function serviceEnv(
  port: number,
  databaseUrl: string | undefined,
  secretKey: string,
  extra: NodeJS.ProcessEnv = {},
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    SECRET_KEY: secretKey,
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    PORT: String(port),
    // Long enough that no token expires during a long run.
    ACCESS_TOKEN_EXPIRE_MINUTES: '240',
    ...extra,
  }
  if (databaseUrl) env.DATABASE_URL = databaseUrl
  return env
}
