import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { API, buildTestApp, expectProblem, PASSWORD, uniqueEmail } from './helpers.js'

let app: FastifyInstance
before(async () => {
  app = await buildTestApp()
})
after(() => app.close())

const COOKIE_HEADER = { 'x-session-cookie': '1' }

/** The `mc_refresh` value a response set (undefined when none), with its attributes. */
function sessionCookieOf(response: { headers: Record<string, unknown> }) {
  const raw = response.headers['set-cookie']
  const line = (Array.isArray(raw) ? raw : [raw]).find((value) => String(value).startsWith('mc_refresh='))
  if (!line) return undefined
  const [pair, ...attributes] = String(line).split(/;\s*/)
  return {
    value: pair?.slice('mc_refresh='.length) ?? '',
    attributes: attributes.map((a) => a.toLowerCase()),
  }
}

async function loginWithCookie(email: string) {
  await app.inject({
    method: 'POST',
    url: `${API}/auth/register`,
    payload: { email, password: PASSWORD, name: 'Cookie', organization_name: 'Cookie Co' },
  })
  return app.inject({
    method: 'POST',
    url: `${API}/auth/login`,
    headers: COOKIE_HEADER,
    payload: { email, password: PASSWORD },
  })
}

const sessionRefresh = (cookie: string | undefined, headers: Record<string, string> = COOKIE_HEADER) =>
  app.inject({
    method: 'POST',
    url: `${API}/auth/session/refresh`,
    headers: { ...headers, ...(cookie === undefined ? {} : { cookie: `mc_refresh=${cookie}` }) },
  })

describe('the console session cookie', () => {
  it('is set only when asked for, httpOnly, SameSite=Strict and scoped to the session routes', async () => {
    const email = uniqueEmail('cookie')
    const plain = await app.inject({
      method: 'POST',
      url: `${API}/auth/register`,
      payload: { email, password: PASSWORD, name: 'Plain' },
    })
    assert.equal(plain.statusCode, 201)
    assert.equal(sessionCookieOf(plain), undefined)

    const login = await app.inject({
      method: 'POST',
      url: `${API}/auth/login`,
      headers: COOKIE_HEADER,
      payload: { email, password: PASSWORD },
    })
    assert.equal(login.statusCode, 200)
    const cookie = sessionCookieOf(login)
    assert.ok(cookie)
    assert.equal(cookie.value, login.json().refresh_token)
    assert.ok(cookie.attributes.includes('httponly'))
    assert.ok(cookie.attributes.includes('samesite=strict'))
    assert.ok(cookie.attributes.includes('path=/api/v1/auth/session'))
    assert.ok(cookie.attributes.some((a) => a.startsWith('max-age=')))
  })

  it('refreshes from the cookie alone: a new access token, a rotated cookie, no refresh token in the body', async () => {
    const login = await loginWithCookie(uniqueEmail('cookie'))
    const first = sessionCookieOf(login)?.value
    assert.ok(first)
    const refreshed = await sessionRefresh(first)
    assert.equal(refreshed.statusCode, 200)
    const body = refreshed.json()
    assert.equal(typeof body.access_token, 'string')
    assert.equal(body.refresh_token, undefined)
    const second = sessionCookieOf(refreshed)?.value
    assert.ok(second && second !== first)
    const me = await app.inject({
      method: 'GET',
      url: `${API}/auth/me`,
      headers: { authorization: `Bearer ${body.access_token}` },
    })
    assert.equal(me.statusCode, 200)
    // The rotated-away cookie is a reuse: 401, and the whole session ends (the new cookie stops too).
    expectProblem(await sessionRefresh(first), 401, 'INVALID_TOKEN')
    expectProblem(await sessionRefresh(second), 401, 'INVALID_TOKEN')
  })

  it('refuses without the cookie or without the custom header', async () => {
    const login = await loginWithCookie(uniqueEmail('cookie'))
    const value = sessionCookieOf(login)?.value
    expectProblem(await sessionRefresh(undefined), 401, 'INVALID_TOKEN')
    expectProblem(await sessionRefresh(value, {}), 400, 'VALIDATION_ERROR')
    // The refusal did not spend the cookie.
    assert.equal((await sessionRefresh(value)).statusCode, 200)
  })

  it('logout ends the session and clears the cookie', async () => {
    const login = await loginWithCookie(uniqueEmail('cookie'))
    const value = sessionCookieOf(login)?.value
    const access = login.json().access_token
    const logout = await app.inject({
      method: 'POST',
      url: `${API}/auth/session/logout`,
      headers: { ...COOKIE_HEADER, cookie: `mc_refresh=${value}` },
    })
    assert.equal(logout.statusCode, 204)
    const cleared = sessionCookieOf(logout)
    assert.ok(cleared)
    assert.equal(cleared.value, '')
    assert.ok(cleared.attributes.includes('max-age=0'))
    expectProblem(await sessionRefresh(value), 401, 'INVALID_TOKEN')
    const me = await app.inject({
      method: 'GET',
      url: `${API}/auth/me`,
      headers: { authorization: `Bearer ${access}` },
    })
    assert.equal(me.statusCode, 401)
  })
})
