/** Shared pieces of the integration tests (spec §16): several app instances, a real HTTP receiver, signatures. */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import type { BuildOptions } from '../src/app.js'
import type { Config } from '../src/config.js'
import { type Database, openDatabase } from '../src/db/client.js'
import { buildTestApp } from './helpers.js'

export interface Instances {
  apps: FastifyInstance[]
  /** The shared PGlite database (undefined on PostgreSQL, where every app opens its own pool). */
  database: Database | undefined
  /** Another instance on the same database (e.g. after a restart). */
  add(options?: InstanceOptions): Promise<FastifyInstance>
  close(): Promise<void>
}

export interface InstanceOptions {
  config?: Partial<Config>
  dispatcher?: BuildOptions['dispatcher']
}

/** Instances of the app on one database: PostgreSQL (TEST_DATABASE_URL) or one shared in-memory PGlite. */
export async function instances(count: number, options: InstanceOptions = {}): Promise<Instances> {
  const secretKey = randomBytes(32).toString('hex')
  const database = process.env.TEST_DATABASE_URL
    ? undefined
    : await openDatabase({ pgliteDataDir: 'memory://' })
  const apps: FastifyInstance[] = []
  const closed = new Set<FastifyInstance>()
  const add = async (extra: InstanceOptions = {}) => {
    const app = await buildTestApp({
      config: { secretKey, ...options.config, ...extra.config },
      dispatcher: extra.dispatcher ?? options.dispatcher ?? false,
      ...(database ? { database } : {}),
    })
    await app.ready()
    apps.push(app)
    return app
  }
  for (let i = 0; i < count; i++) await add()
  return {
    apps,
    database,
    add,
    async close() {
      for (const app of apps) {
        if (closed.has(app)) continue
        closed.add(app)
        await app.close()
      }
      await database?.close()
    },
  }
}

export interface Received {
  method: string
  url: string
  headers: IncomingHttpHeaders
  body: string
  at: number
}

export interface Receiver {
  url: string
  port: number
  received: Received[]
  /** Status codes to answer, in order; once used up, `fallback` answers. */
  script: number[]
  fallback: number
  /** Milliseconds to wait before answering. */
  delayMs: number
  close(): Promise<void>
}

/** A real HTTP server on an ephemeral port of 127.0.0.1 that records what it receives. */
export async function receiver(script: number[] = [], fallback = 204): Promise<Receiver> {
  const state: Receiver = {
    url: '',
    port: 0,
    received: [],
    script: [...script],
    fallback,
    delayMs: 0,
    close: async () => {},
  }
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', async () => {
      state.received.push({
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      })
      const status = state.script.length > 0 ? (state.script.shift() as number) : state.fallback
      if (state.delayMs > 0) await sleep(state.delayMs)
      response.writeHead(status, { 'content-type': 'text/plain' })
      response.end(status === 302 ? '' : 'ok')
    })
  })
  server.keepAliveTimeout = 1_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  state.port = port
  state.url = `http://127.0.0.1:${port}/hook`
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  return state
}

/**
 * Standard Webhooks verification, written here from the published algorithm (not the service's code): the
 * signature is base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>" keyed by the base64-decoded part
 * of the secret after `whsec_`; the header lists `v1,<signature>` entries separated by spaces.
 */
export function verifySignature(secret: string, headers: IncomingHttpHeaders, body: string): boolean {
  const id = headers['webhook-id']
  const timestamp = headers['webhook-timestamp']
  const signatures = headers['webhook-signature']
  if (typeof id !== 'string' || typeof timestamp !== 'string' || typeof signatures !== 'string') return false
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 5 * 60) return false
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64')
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest()
  return signatures.split(' ').some((entry) => {
    const [version, signature] = entry.split(',')
    if (version !== 'v1' || !signature) return false
    const given = Buffer.from(signature, 'base64')
    return given.length === expected.length && timingSafeEqual(given, expected)
  })
}

export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await sleep(25)
  }
}
