import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { API, as, buildTestApp, expectProblem, PASSWORD, register, uniqueEmail } from './helpers.js'

let app: FastifyInstance
before(async () => {
  app = await buildTestApp()
})
after(() => app.close())

describe('POST /auth/register', () => {
  it('creates the user, an organization they own, and a token pair', async () => {
    const email = uniqueEmail('Reg')
    const response = await app.inject({
      method: 'POST',
      url: `${API}/auth/register`,
      payload: {
        email: `  ${email.toUpperCase()} `,
        password: PASSWORD,
        name: 'Ann',
        organization_name: 'Acme',
      },
    })
    assert.equal(response.statusCode, 201)
    const body = response.json()
    assert.equal(body.email, email.toLowerCase())
    assert.equal(body.name, 'Ann')
    assert.equal(body.organization_name, 'Acme')
    assert.equal(body.token_type, 'bearer')
    assert.equal(body.expires_in, 1800)
    const user = { ...body, id: body.user_id, token: body.access_token, organizationId: body.organization_id }
    const orgs = await as(app, user).get('/organizations/me')
    assert.deepEqual(
      orgs.json().map((o: { id: string; role: string }) => [o.id, o.role]),
      [[body.organization_id, 'owner']],
    )
  })
})

describe('GET /auth/me', () => {
  it('returns the caller', async () => {
    const user = await register(app)
    const response = await as(app, user).get('/auth/me')
    assert.equal(response.statusCode, 200)
    assert.deepEqual(Object.keys(response.json()).sort(), ['created_at', 'email', 'id', 'name'])
    assert.equal(response.json().id, user.id)
  })
  it('answers 401 UNAUTHORIZED without a token', async () => {
    expectProblem(await app.inject({ method: 'GET', url: `${API}/auth/me` }), 401, 'UNAUTHORIZED')
  })
})
