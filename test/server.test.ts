import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { describe, it } from 'node:test'
import { PASSWORD, uniqueEmail } from './helpers.js'

const SERVER = resolve(import.meta.dirname, '../src/server.ts')

function freePort(): Promise<number> {
  return new Promise((done) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => done(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

/** Starts `src/server.ts` as a real process in `cwd` (its ./data lives there). */
async function startServer(
  cwd: string,
  port: number,
): Promise<{ child: ChildProcess; exited: Promise<number | null> }> {
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
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), SERVER], {
    cwd,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr?.on('data', (chunk) => {
    stderr += chunk
  })
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)))
  for (let attempt = 0; attempt < 300; attempt++) {
    if (child.exitCode !== null) throw new Error(`server exited early: ${stderr}`)
    try {
      if ((await fetch(`http://127.0.0.1:${port}/ready`)).ok) return { child, exited }
    } catch {}
    await new Promise((r) => setTimeout(r, 100))
  }
  child.kill('SIGKILL')
  throw new Error(`server did not become ready: ${stderr}`)
}

const json = (body: unknown) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
})

describe('the server process', () => {
  it('finishes in-flight requests on SIGTERM, exits 0, and keeps its data across a restart', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'mini-crm-server-'))
    const port = await freePort()
    const base = `http://127.0.0.1:${port}/api/v1`
    const email = uniqueEmail('restart')

    const first = await startServer(cwd, port)
    // The request is surely in flight: its headers and half its body reach the server before the signal, the
    // rest after it.
    const body = JSON.stringify({ email, password: PASSWORD, name: 'R', organization_name: 'O' })
    const socket = connect(port, '127.0.0.1')
    await new Promise((resolve) => socket.once('connect', resolve))
    let raw = ''
    socket.on('data', (chunk) => {
      raw += chunk
    })
    const closed = new Promise((resolve) => socket.once('close', resolve))
    socket.write(
      `POST /api/v1/auth/register HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 20)}`,
    )
    await new Promise((r) => setTimeout(r, 300))
    first.child.kill('SIGTERM')
    await new Promise((r) => setTimeout(r, 300))
    socket.write(body.slice(20))
    await closed
    assert.match(raw, /^HTTP\/1\.1 201 /, raw.split('\r\n')[0])
    assert.match(raw, /\r\nconnection: close\r\n/i)
    assert.equal(await first.exited, 0)

    const second = await startServer(cwd, port)
    try {
      const login = await fetch(`${base}/auth/login`, json({ email, password: PASSWORD }))
      assert.equal(login.status, 200, 'the user registered before the restart can log in')
      const { access_token: token } = (await login.json()) as { access_token: string }
      // The generated secret key was kept too, so the new process accepts the token.
      const me = await fetch(`${base}/auth/me`, { headers: { authorization: `Bearer ${token}` } })
      assert.equal(me.status, 200)
    } finally {
      second.child.kill('SIGTERM')
      assert.equal(await second.exited, 0)
    }
  })
})
