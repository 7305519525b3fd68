/**
 * The console's session cookie: the refresh token in an httpOnly cookie, so no script (ours or injected) can
 * read it; the access token lives in the console's memory only. Opted into per request with the header
 * `X-Session-Cookie: 1` on register and login; the `/auth/session/*` routes then refresh and end the session
 * from the cookie alone. The cookie is `SameSite=Strict` and scoped to `/api/v1/auth/session`, and those routes
 * also require the custom header (a cross-site form cannot send it), so it cannot be used across sites.
 */
import { parse, serialize } from 'cookie'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'

export const REFRESH_COOKIE = 'mc_refresh'
export const SESSION_COOKIE_PATH = '/api/v1/auth/session'

export const SessionCookieHeaders = Type.Object({
  'x-session-cookie': Type.Optional(
    Type.Literal('1', {
      description: 'With 1, the refresh token is also set as an httpOnly cookie for `/auth/session/*`',
    }),
  ),
})

export const RequiredSessionCookieHeaders = Type.Object({
  'x-session-cookie': Type.Literal('1', {
    description: 'Must be 1: proves a same-origin script made the request (a cross-site form cannot)',
  }),
})

export function wantsSessionCookie(request: FastifyRequest): boolean {
  return request.headers['x-session-cookie'] === '1'
}

export function refreshTokenFromCookie(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie
  if (!header) return undefined
  const value = parse(header)[REFRESH_COOKIE]
  return value && value.length <= 2048 ? value : undefined
}

export function setSessionCookie(reply: FastifyReply, token: string, days: number, secure: boolean): void {
  reply.header(
    'set-cookie',
    serialize(REFRESH_COOKIE, token, {
      httpOnly: true,
      sameSite: 'strict',
      secure,
      path: SESSION_COOKIE_PATH,
      maxAge: days * 24 * 60 * 60,
    }),
  )
}

export function clearSessionCookie(reply: FastifyReply, secure: boolean): void {
  reply.header(
    'set-cookie',
    serialize(REFRESH_COOKIE, '', {
      httpOnly: true,
      sameSite: 'strict',
      secure,
      path: SESSION_COOKIE_PATH,
      maxAge: 0,
    }),
  )
}
