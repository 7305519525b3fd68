import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { describe, it } from 'node:test'
import { PASSWORD, uniqueEmail } from './helpers.js'
import { freePort, spawnProcess, startServer, tempDir } from './server-process.js'

const json = (body: unknown) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
})

describe('the server process', () => {
  it('finishes in-flight requests on SIGTERM, exits 0, and keeps its data across a restart', async () => {
    const cwd = tempDir('mini-crm-server-')
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

/** Sends raw HTTP/1.1 on `socket` and resolves with the next response's head, or what ended the socket. */
function exchange(socket: Socket, request: string): Promise<string> {
  return new Promise((resolve) => {
    let raw = ''
    const onData = (chunk: Buffer) => {
      raw += chunk
      if (raw.includes('\r\n\r\n')) finish(raw)
    }
    const finish = (result: string) => {
      socket.off('data', onData)
      socket.off('close', onClose)
      socket.off('error', onError)
      resolve(result)
    }
    const onClose = () => finish(raw || 'closed without a response')
    const onError = (error: Error) => finish(`socket error ${(error as NodeJS.ErrnoException).code}`)
    socket.on('data', onData)
    socket.once('close', onClose)
    socket.once('error', onError)
    socket.write(request)
  })
}

describe('shutdown with keep-alive clients', () => {
  it('a request on a kept-alive connection right after SIGTERM is answered (connection: close), not reset', async () => {
    const cwd = tempDir('mini-crm-drain-')
    const port = await freePort()
    const server = await startServer(cwd, port)
    const socket = connect(port, '127.0.0.1')
    await new Promise((resolve) => socket.once('connect', resolve))
    const get = 'GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n'
    assert.match(await exchange(socket, get), /^HTTP\/1\.1 200 /)
    server.child.kill('SIGTERM')
    await new Promise((r) => setTimeout(r, 200))
    const after = await exchange(socket, get)
    assert.match(after, /^HTTP\/1\.1 200 /, after)
    assert.match(after, /\r\nconnection: close\r\n/i)
    socket.destroy()
    assert.equal(await server.exited, 0)
  })
})

describe('one embedded data folder, two processes', () => {
  it('the second server and db:migrate exit with one clear line; a killed owner leaves no lock behind', async () => {
    const cwd = tempDir('mini-crm-lock-')
    const embedded = { DATABASE_URL: '' }
    const first = await startServer(cwd, await freePort(), embedded)

    for (const args of [undefined, ['migrate']]) {
      const second = spawnProcess(cwd, await freePort(), embedded, args)
      const code = await Promise.race([
        second.exited,
        new Promise<string>((r) => setTimeout(() => r('still running after 120 s'), 120_000)),
      ])
      assert.notEqual(code, 0, `${args ? 'db:migrate' : 'second server'} must not run`)
      const lines = second.stderr().trim().split('\n')
      assert.equal(lines.length, 1, second.stderr())
      assert.match(lines[0] as string, /embedded database .*pglite is in use by another process \(pid \d+/)
    }
    const port = await freePort()
    first.child.kill('SIGKILL')
    await first.exited
    const third = await startServer(cwd, port, embedded)
    third.child.kill('SIGTERM')
    assert.equal(await third.exited, 0)
  })
})
