import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { uuidv7 } from '../src/lib/uuid.js'
import { buildTestApp, expectProblem, register, type TestUser, withoutRequestId } from './helpers.js'

/**
 * One security suite over every tenant-scoped operation, discovered from the OpenAPI document (so a new route
 * is covered without being listed): the spec's order 401 (token) → 400 (header) → 403 (membership) holds before
 * any path, query or body is looked at.
 */
let app: FastifyInstance
let operations: { method: string; url: string }[]
let owner: TestUser
let outsider: TestUser

before(async () => {
  app = await buildTestApp()
  const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json()
  operations = []
  for (const [path, methods] of Object.entries(
    doc.paths as Record<string, Record<string, { parameters?: { in: string; name: string }[] }>>,
  )) {
    for (const [method, operation] of Object.entries(methods)) {
      const tenantScoped = operation.parameters?.some(
        (p) => p.in === 'header' && p.name === 'x-organization-id',
      )
      // Path parameters get a well-formed id: the tenant checks must answer before the id is even looked up.
      if (tenantScoped)
        operations.push({ method: method.toUpperCase(), url: path.replace(/\{[^}]+\}/g, uuidv7()) })
    }
  }
  owner = await register(app)
  outsider = await register(app)
})
after(() => app.close())

const send = (op: { method: string; url: string }, headers: Record<string, string>) =>
  app.inject({
    method: op.method as 'GET',
    url: op.url,
    headers,
    ...(['POST', 'PATCH'].includes(op.method) ? { payload: {} } : {}),
  })

describe('tenant context on every record route', () => {
  it('covers the record features', () => {
    const paths = new Set(operations.map((op) => op.url.split('/')[3]))
    for (const feature of ['contacts', 'deals', 'tasks', 'analytics'])
      assert.ok(paths.has(feature), `${feature} is tenant-scoped`)
  })

  it('answers 401 without a token, even without the header', async () => {
    for (const op of operations) expectProblem(await send(op, {}), 401, 'UNAUTHORIZED')
  })

  it('answers 400 ORGANIZATION_HEADER_REQUIRED for a missing or malformed header', async () => {
    const authorization = `Bearer ${owner.token}`
    for (const op of operations) {
      expectProblem(await send(op, { authorization }), 400, 'ORGANIZATION_HEADER_REQUIRED')
      for (const bad of ['', 'not-a-uuid', `${owner.organizationId}x`]) {
        expectProblem(
          await send(op, { authorization, 'x-organization-id': bad }),
          400,
          'ORGANIZATION_HEADER_REQUIRED',
        )
      }
    }
  })

  it('answers 403 ORGANIZATION_ACCESS_DENIED to a non-member, the same for a missing organization', async () => {
    const authorization = `Bearer ${outsider.token}`
    for (const op of operations) {
      const foreign = expectProblem(
        await send(op, { authorization, 'x-organization-id': owner.organizationId }),
        403,
        'ORGANIZATION_ACCESS_DENIED',
      )
      const missing = expectProblem(
        await send(op, { authorization, 'x-organization-id': uuidv7() }),
        403,
        'ORGANIZATION_ACCESS_DENIED',
      )
      assert.deepEqual(withoutRequestId(foreign), withoutRequestId(missing), `${op.method} ${op.url}`)
    }
  })

  it('lets a member through to the route itself', async () => {
    const headers = { authorization: `Bearer ${owner.token}`, 'x-organization-id': owner.organizationId }
    for (const op of operations) {
      const response = await send(op, headers)
      assert.ok(
        ![401, 403].includes(response.statusCode) || response.json().code === 'FORBIDDEN',
        `${op.method} ${op.url}: ${response.statusCode} ${response.body}`,
      )
      // CSV exports answer text/csv: only a JSON body can carry a problem code.
      if (String(response.headers['content-type']).includes('json')) {
        assert.notEqual(response.json().code, 'ORGANIZATION_HEADER_REQUIRED')
      }
    }
  })
})
