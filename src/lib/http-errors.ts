import { randomUUID } from 'node:crypto'
import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { AppError, toProblem } from './errors.js'

/**
 * Errors raised before a route runs: by the router (bad percent-encoding, an over-long path parameter) and by
 * Node's HTTP parser (malformed requests, oversized heads, timeouts). Fastify answers them with its own JSON
 * and without our hooks; these handlers give them the problem+json body and the `X-Request-Id` of every
 * other answer (issue 8 §2).
 */

/** A request line longer than this, when the head overflows, is answered 414 rather than 431. */
const LONG_REQUEST_LINE = 8 * 1024

/** Fastify's `frameworkErrors` option: router errors, with a request and reply already made. */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const appError = routerError(error)
  if (appError.status >= 500) request.log.error({ err: error }, 'router failed')
  void reply
    .code(appError.status)
    .header('x-request-id', request.id)
    .type('application/problem+json')
    .send(toProblem(appError, request.id))
}

function routerError(error: FastifyError): AppError {
  switch (error.code) {
    case 'FST_ERR_BAD_URL':
      return new AppError('VALIDATION_ERROR', 'The URL is not valid percent-encoded UTF-8', {
        errors: [{ field: 'url', message: 'is not valid percent-encoded UTF-8' }],
      })
    case 'FST_ERR_MAX_PARAM_LENGTH':
      // Spec §1: a malformed id in a path is a 400; no path parameter of this API is this long.
      return new AppError('VALIDATION_ERROR', 'A path parameter is longer than any valid value', {
        errors: [{ field: 'params', message: 'is too long' }],
      })
    default:
      return new AppError('INTERNAL_ERROR', 'An unexpected error occurred')
  }
}

/** Node's `clientError`: fastify types `rawPacket` as a serialized Buffer, but Node hands over the Buffer. */
interface ParserError extends Error {
  code?: string
  rawPacket?: unknown
}

/** What a parser error becomes. */
export function clientErrorProblem(error: ParserError): AppError {
  switch (error.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new AppError('REQUEST_TIMEOUT', 'The request was not received in time')
    case 'HPE_HEADER_OVERFLOW':
      return requestLineTooLong(error.rawPacket)
        ? new AppError('URI_TOO_LONG', 'The request line is too long')
        : new AppError('HEADERS_TOO_LARGE', 'The request headers are too large')
    default:
      return new AppError('BAD_REQUEST', 'The request is not valid HTTP/1.1')
  }
}

function requestLineTooLong(packet: unknown): boolean {
  if (!Buffer.isBuffer(packet)) return false
  const end = packet.indexOf('\r\n')
  return end === -1 || end > LONG_REQUEST_LINE
}

/**
 * Fastify's `clientErrorHandler`: answers on the raw socket (there is no request object yet) and closes the
 * connection, as Node does, since the stream can no longer be trusted.
 */
export function clientErrorHandler(error: ParserError, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  const appError = clientErrorProblem(error)
  const requestId = randomUUID()
  if (!socket.writable) {
    socket.destroy()
    return
  }
  const body = JSON.stringify(toProblem(appError, requestId))
  socket.end(
    `HTTP/1.1 ${appError.status} ${STATUS_CODES[appError.status]}\r\n` +
      'Content-Type: application/problem+json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      `X-Request-Id: ${requestId}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  )
  // A client that never reads must not hold the socket open.
  setTimeout(() => socket.destroy(), 1_000).unref()
}
