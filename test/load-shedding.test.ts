/**
 * Load shedding (issue 8 §3): past SHED_DB_WAITING statements waiting for a connection, a request is refused at
 * once with 503 + Retry-After (problem body, request id) instead of queueing; /health stays up; the service
 * serves again as soon as the queue drains. Needs PostgreSQL (a pool to queue on); a small threshold for the test.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { sql } from 'drizzle-orm'

process.env.SHED_DB_WAITING = '3'
const { openDatabase } = await import('../src/db/client.js')
const { as, buildTestApp, expectProblem, register } = await import('./helpers.js')

const TEST_URL = process.env.TEST_DATABASE_URL
const skip = !TEST_URL && 'needs PostgreSQL (TEST_DATABASE_URL)'

describe('load shedding', { skip }, () => {
  it('refuses with 503 and Retry-After past SHED_DB_WAITING waiting statements, keeps /health, recovers', async () => {
    const database = await openDatabase({ url: TEST_URL, poolSize: 1 })
    const app = await buildTestApp({ database, migrate: false })
    try {
      const user = await register(app)
      const client = as(app, user, user.organizationId)
      const created = await client.post('/contacts', { name: 'Queued' })
      assert.equal(created.statusCode, 201)
      const path = `/contacts/${created.json().id}`
      // The pool's only connection is busy for a while: reads queue behind it (`.then` starts drizzle's lazy query).
      const busy = database.db.execute(sql`SELECT pg_sleep(3)`).then(() => undefined)
      await sleep(100)
      const queued = Array.from({ length: 5 }, () => client.get(path))
      // Until the reads wait in the pool (a loaded CI box may take a while to get them there).
      for (let i = 0; i < 100 && (database.waiting?.() ?? 0) <= 3; i++) await sleep(20)
      assert.ok((database.waiting?.() ?? 0) > 3, `waiting ${database.waiting?.()}`)
      const refused = await client.get(path)
      expectProblem(refused, 503, 'SERVICE_UNAVAILABLE')
      assert.equal(refused.headers['retry-after'], '1')
      assert.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200)
      await busy
      // The queued requests were served, not dropped, and the next one goes through.
      assert.deepEqual(
        (await Promise.all(queued)).map((response) => response.statusCode),
        [200, 200, 200, 200, 200],
      )
      assert.equal((await client.get(path)).statusCode, 200)
    } finally {
      await app.close()
      await database.close()
    }
  })
})
