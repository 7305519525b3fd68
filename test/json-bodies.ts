import type { FastifyInstance } from 'fastify'
import { auth, type TestUser } from './helpers.js'

/** Bodies that are not a JSON object, or not JSON at all: each must be a 400, never a 5xx. */
export const NOT_AN_OBJECT = ['null', '[]', '"text"', '5', 'true', '', '{"title": ']

/** Sends `text` verbatim as an application/json body (the `as` helper would serialize it). */
export function sendJson(
  app: FastifyInstance,
  user: TestUser,
  organizationId: string,
  method: 'POST' | 'PATCH',
  url: string,
  text: string,
) {
  return app.inject({
    method,
    url,
    headers: { ...auth(user, organizationId), 'content-type': 'application/json' },
    payload: text,
  })
}
