import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import pg from 'pg'
import { type Database, openDatabase } from '../src/db/client.js'
import { ERROR_CODES } from '../src/lib/errors.js'
import { buildTestApp, expectProblem, register } from './helpers.js'
import {
  contractViolation,
  listOperations,
  operationName,
  toInject,
  validRequest,
} from './openapi-requests.js'

// Issue 8 §2: with the database refusing connections, register answered 500. Every route that needs the
// database must answer 503 SERVICE_UNAVAILABLE (problem body), as /ready does; routes that need none go on.
const NEEDS_NO_DATABASE = new Set(['GET /health'])

/** Sends a valid request to every operation of `app` as `token` and expects 503 from each. */
async function expectEveryRoute503(app: FastifyInstance, token: string, organizationId: string) {
  const operations = await listOperations(app)
  assert.ok(operations.length >= 20, `only ${operations.length} operations listed`)
  const ids = { id: organizationId, 'x-organization-id': organizationId }
  const wrong: string[] = []
  for (const operation of operations) {
    const name = operationName(operation)
    if (NEEDS_NO_DATABASE.has(name)) continue
    const response = await app.inject(
      toInject(operation, validRequest(operation, ids), { authorization: `Bearer ${token}` }),
    )
    const violation = contractViolation(response, ERROR_CODES, [503])
    const code = response.statusCode === 503 ? response.json().code : undefined
    if (violation || response.statusCode !== 503 || code !== 'SERVICE_UNAVAILABLE') {
      wrong.push(`${name}: ${response.statusCode} ${violation ?? ''} ${response.body.slice(0, 200)}`)
    }
  }
  assert.equal(wrong.length, 0, `routes that did not answer 503:\n${wrong.join('\n')}`)
  expectProblem(await app.inject({ method: 'GET', url: '/ready' }), 503, 'SERVICE_UNAVAILABLE')
  assert.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200)
}

describe('the database refusing connections: every route answers 503 SERVICE_UNAVAILABLE', () => {
  const apps: FastifyInstance[] = []
  after(async () => {
    for (const app of apps) await app.close()
  })

  it('on a database that is closed under the running app (embedded PGlite)', async () => {
    const database = await openDatabase({ pgliteDataDir: 'memory://' })
    const app = await buildTestApp({ database, config: { databaseUrl: undefined } })
    apps.push(app)
    const user = await register(app)
    await database.close()
    await expectEveryRoute503(app, user.token, user.organizationId)
  })

  it('on a PostgreSQL address where nothing listens (connection refused)', async () => {
    // A port of this branch's range (18200-18299) that no test listens on.
    const database = await openDatabase({ url: 'postgres://postgres@127.0.0.1:18299/none', poolSize: 2 })
    const app = await buildTestApp({ database, migrate: false })
    apps.push(app)
    app.addHook('onClose', () => database.close())
    await expectEveryRoute503(app, await app.tokens.sign(randomUUID()), randomUUID())
  })

  const serverUrl = process.env.TEST_DATABASE_URL
  it('on a PostgreSQL database that does not accept connections (ALLOW_CONNECTIONS false)', {
    skip: serverUrl ? false : 'needs PostgreSQL (TEST_DATABASE_URL)',
  }, async () => {
    const name = `badinput_refuse_${Date.now()}_${Math.floor(Math.random() * 1e6)}`
    const admin = new pg.Client({ connectionString: serverUrl })
    await admin.connect()
    await admin.query(`CREATE DATABASE ${name} ALLOW_CONNECTIONS false`)
    let database: Database | undefined
    try {
      const url = new URL(serverUrl as string)
      url.pathname = `/${name}`
      database = await openDatabase({ url: url.toString(), poolSize: 2 })
      const app = await buildTestApp({ database, migrate: false })
      await expectEveryRoute503(app, await app.tokens.sign(randomUUID()), randomUUID())
      await app.close()
    } finally {
      await database?.close()
      await admin.query(`DROP DATABASE IF EXISTS ${name}`)
      await admin.end()
    }
  })
})
