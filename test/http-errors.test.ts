import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { after, before, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { clientErrorProblem } from '../src/lib/http-errors.js'
import { API, buildTestApp, expectProblem } from './helpers.js'

// Issue 8 §2: errors raised by the router and by Node's HTTP parser skipped the problem+json handler and
// carried no X-Request-Id. The parser's cannot be reached through inject: these tests speak raw HTTP.

interface RawResponse {
  status: number
  headers: Record<string, string>
  body: string
}

/** Writes `request` verbatim on a fresh connection and reads until the server closes it. */
function rawRequest(port: number, request: string | Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    socket.on('data', (chunk) => chunks.push(chunk))
    socket.on('error', (error) => (chunks.length > 0 ? undefined : reject(error)))
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8')
      const [head = '', ...rest] = text.split('\r\n\r\n')
      const [statusLine = '', ...headerLines] = head.split('\r\n')
      const headers: Record<string, string> = {}
      for (const line of headerLines) {
        const colon = line.indexOf(':')
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') })
    })
    socket.write(request)
    setTimeout(() => socket.destroy(), 10_000).unref()
  })
}

function expectRawProblem(response: RawResponse, status: number, code: string) {
  assert.equal(response.status, status, `${response.status} ${response.body}`)
  assert.match(response.headers['content-type'] ?? '', /^application\/problem\+json/)
  const body = JSON.parse(response.body)
  assert.equal(body.status, status)
  assert.equal(body.code, code)
  assert.equal(typeof body.title, 'string')
  assert.equal(typeof body.detail, 'string')
  assert.match(body.type, /^https:\/\/mini-crm\.dev\/problems\//)
  assert.ok(response.headers['x-request-id'], 'X-Request-Id is missing')
  assert.equal(body.request_id, response.headers['x-request-id'])
}

/** Listens on a free port of this branch's range (18200-18299). */
async function listen(app: FastifyInstance): Promise<number> {
  for (let port = 18200 + Math.floor(Math.random() * 90); port < 18300; port++) {
    try {
      await app.listen({ port, host: '127.0.0.1' })
      return port
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error
    }
  }
  throw new Error('no free port in 18200-18299')
}

describe('router errors answer problem+json with X-Request-Id', () => {
  let app: FastifyInstance
  before(async () => {
    app = await buildTestApp()
  })
  after(() => app.close())

  it('answers 400 VALIDATION_ERROR to bad percent-encoding in the path', async () => {
    for (const url of [`${API}/contacts/%E0%A4%A`, `${API}/deals/%ff/activities`, `${API}/tasks/%`]) {
      const response = await app.inject({ method: 'GET', url })
      expectProblem(response, 400, 'VALIDATION_ERROR')
    }
  })

  it('answers 400 VALIDATION_ERROR to a path parameter over the length limit', async () => {
    for (const url of [
      `${API}/contacts/${'a'.repeat(150)}`,
      `${API}/organizations/${'1'.repeat(500)}/members`,
    ]) {
      const response = await app.inject({ method: 'GET', url })
      expectProblem(response, 400, 'VALIDATION_ERROR')
    }
  })

  it('echoes a client request id on router errors too', async () => {
    const response = await app.inject({
      method: 'GET',
      url: `${API}/contacts/%E0%A4%A`,
      headers: { 'x-request-id': 'client-id-123' },
    })
    expectProblem(response, 400, 'VALIDATION_ERROR')
    assert.equal(response.headers['x-request-id'], 'client-id-123')
  })
})

describe('HTTP parser errors answer problem+json with X-Request-Id (raw sockets)', () => {
  let app: FastifyInstance
  let port: number
  before(async () => {
    app = await buildTestApp()
    port = await listen(app)
  })
  after(() => app.close())

  it('answers 431 HEADERS_TOO_LARGE to oversized headers', async () => {
    const response = await rawRequest(
      port,
      `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    )
    expectRawProblem(response, 431, 'HEADERS_TOO_LARGE')
  })

  it('answers 414 URI_TOO_LONG to an over-long request line', async () => {
    const response = await rawRequest(port, `GET /health?q=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`)
    expectRawProblem(response, 414, 'URI_TOO_LONG')
  })

  it('answers 400 BAD_REQUEST to malformed requests', async () => {
    for (const request of [
      'NOT HTTP AT ALL\r\n\r\n',
      'GET /health HTTP/9.9\r\nHost: x\r\n\r\n',
      'GET /health HTTP/1.1\r\nHost: x\r\nBad Header Name: v\r\n\r\n',
      'GET /health HTTP/1.1\r\nHost: x\r\nX-Nul: a\u0000b\r\n\r\n',
      'POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
      'POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello',
    ]) {
      const response = await rawRequest(port, request)
      expectRawProblem(response, 400, 'BAD_REQUEST')
    }
  })

  it('answers router errors over a real connection as inject sees them', async () => {
    const response = await rawRequest(
      port,
      `GET ${API}/contacts/%E0%A4%A HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    )
    expectRawProblem(response, 400, 'VALIDATION_ERROR')
  })
})

describe('parser error mapping', () => {
  it('maps a request that is not received in time to 408 REQUEST_TIMEOUT', () => {
    // Reaching it over a socket takes the 30 s request timeout; the mapping is what the handler writes.
    const error = Object.assign(new Error('timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' })
    assert.equal(clientErrorProblem(error).code, 'REQUEST_TIMEOUT')
    assert.equal(clientErrorProblem(error).status, 408)
  })
})

describe('a request that arrives while the app closes', () => {
  it('answers 503 SERVICE_UNAVAILABLE as problem+json with X-Request-Id and Retry-After', async () => {
    const app = await buildTestApp()
    // Closing takes a moment (a pool or a mailer finishing): requests keep arriving on open connections.
    let release: () => void = () => {}
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    app.addHook('onClose', () => held)
    const closed = app.close()
    try {
      const response = await app.inject({ method: 'GET', url: '/health' })
      expectProblem(response, 503, 'SERVICE_UNAVAILABLE')
      assert.match(String(response.headers['x-request-id']), /^[0-9a-f-]{36}$/)
      assert.equal(response.headers['retry-after'], '1')
      assert.equal(response.headers.connection, 'close')
    } finally {
      release()
      await closed
    }
  })
})
