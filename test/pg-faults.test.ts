/**
 * PostgreSQL faults (issue 8 §3): connections ended under the service (pg_terminate_backend, as a fast
 * restart or failover does), databases missing or unreachable at start, and processes migrating together.
 * Needs PostgreSQL: skipped on PGlite-only runs.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { sql } from 'drizzle-orm'
import pg from 'pg'
import { openDatabase, queryRows } from '../src/db/client.js'
import { migrateUp } from '../src/db/migrate.js'
import { isDatabaseUnavailable } from '../src/lib/db-errors.js'
import { as, buildTestApp, register } from './helpers.js'

const TEST_URL = process.env.TEST_DATABASE_URL
const SERVER = resolve(import.meta.dirname, '../src/server.ts')
const skip = !TEST_URL && 'needs PostgreSQL (TEST_DATABASE_URL)'

async function admin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_URL })
  await client.connect()
  try {
    return await run(client)
  } finally {
    await client.end()
  }
}

/** Ends every session of `applicationName`, as `pg_terminate_backend` or a fast restart does. */
const terminate = (applicationName: string) =>
  admin(async (client) => {
    const { rows } = await client.query(
      'SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1',
      [applicationName],
    )
    return rows[0].n as number
  })

describe('connections ended by the server', { skip }, () => {
  it('a transaction whose connection is terminated between statements fails; the process lives on', async () => {
    const name = `faults-${randomUUID()}`
    const database = await openDatabase({ url: TEST_URL, poolSize: 2, applicationName: name })
    try {
      const failure = await database.db
        .transaction(async (tx) => {
          await tx.execute(sql`SELECT 1`)
          // The checked-out client is idle in the transaction when the server ends its connection: pg emits
          // `error` on the client, which ended the process when nobody listened.
          assert.equal(await terminate(name), 1)
          await sleep(300)
          await tx.execute(sql`SELECT 1`)
        })
        .then(
          () => undefined,
          (error: unknown) => error,
        )
      assert.ok(failure, 'the transaction must fail')
      assert.ok(isDatabaseUnavailable(failure), `read as an outage: ${String(failure)}`)
      // The broken client left the pool; the next statement gets a fresh connection.
      assert.deepEqual(await queryRows(database.db, sql`SELECT 1 AS one`), [{ one: 1 }])
    } finally {
      await database.close()
    }
  })

  it('requests during repeated terminations answer 2xx or 503, never 500, and recover', async () => {
    const name = `faults-${randomUUID()}`
    const database = await openDatabase({ url: TEST_URL, poolSize: 4, applicationName: name })
    const app = await buildTestApp({ database, migrate: false })
    try {
      const user = await register(app)
      const statuses: number[] = []
      let killing = true
      const killer = (async () => {
        while (killing) {
          await terminate(name)
          await sleep(15)
        }
      })()
      await Promise.all(
        Array.from({ length: 4 }, async (_, worker) => {
          for (let i = 0; i < 15; i++) {
            const response = await as(app, user, user.organizationId).post('/contacts', {
              name: `C ${worker}-${i}`,
            })
            statuses.push(response.statusCode)
            if (response.statusCode >= 500) {
              assert.equal(response.statusCode, 503, response.body)
              assert.equal(response.json().code, 'SERVICE_UNAVAILABLE')
            }
          }
        }),
      )
      killing = false
      await killer
      assert.ok(
        statuses.every((s) => s === 201 || s === 503),
        statuses.join(','),
      )
      // No connection was lost to the pool: every client is back (idle) or gone, none held by a dead
      // request (a leaked client would leave later requests waiting for a connection forever).
      const pool = database.poolStats?.()
      assert.ok(pool && pool.idle === pool.total && pool.waiting === 0, JSON.stringify(pool))
      // Recovers by itself: the next requests succeed.
      assert.equal((await app.inject({ method: 'GET', url: '/ready' })).statusCode, 200)
      assert.equal(
        (await as(app, user, user.organizationId).post('/contacts', { name: 'After' })).statusCode,
        201,
      )
    } finally {
      await app.close()
      await database.close()
    }
  })
})

function startServer(env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string }> {
  const cwd = mkdtempSync(join(tmpdir(), 'mini-crm-pgfaults-'))
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), SERVER], {
    cwd,
    env: { ...process.env, PORT: '18350', HOST: '127.0.0.1', LOG_LEVEL: 'warn', REDIS_URL: '', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr?.on('data', (chunk) => {
    stderr += chunk
  })
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000)
  return new Promise((done) =>
    child.on('exit', (code) => {
      clearTimeout(killer)
      rmSync(cwd, { recursive: true, force: true })
      done({ code, stderr })
    }),
  )
}

describe('a database that cannot be used at start', () => {
  it('unreachable: one line naming DATABASE_URL (password redacted) and what failed; exit non-zero', async () => {
    const { code, stderr } = await startServer({
      DATABASE_URL: 'postgres://crm:s3cret-pw@127.0.0.1:1/crm',
    })
    assert.notEqual(code, 0)
    const lines = stderr.trim().split('\n')
    assert.equal(lines.length, 1, stderr)
    assert.match(lines[0] as string, /DATABASE_URL postgres:\/\/crm:\*\*\*@127\.0\.0\.1:1\/crm/)
    assert.match(lines[0] as string, /ECONNREFUSED/)
    assert.doesNotMatch(stderr, /s3cret-pw/)
  })

  it('missing database: one line naming the database that does not exist', { skip }, async () => {
    const url = new URL(TEST_URL as string)
    url.pathname = `/faults_missing_${Date.now()}`
    const { code, stderr } = await startServer({ DATABASE_URL: url.toString() })
    assert.notEqual(code, 0)
    assert.equal(stderr.trim().split('\n').length, 1, stderr)
    assert.match(stderr, /faults_missing_\d+" does not exist/)
  })
})

describe('migrations', { skip }, () => {
  const databases: string[] = []
  after(async () => {
    await admin(async (client) => {
      for (const name of databases) await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    })
  })

  it('six processes migrating a fresh database together all succeed (schema_migrations made under the lock)', async () => {
    for (let round = 0; round < 3; round++) {
      const name = `faults_migrate_${Date.now()}_${round}`
      databases.push(name)
      await admin((client) => client.query(`CREATE DATABASE ${name}`))
      const url = new URL(TEST_URL as string)
      url.pathname = `/${name}`
      const opened = await Promise.all(
        Array.from({ length: 6 }, () => openDatabase({ url: url.toString(), poolSize: 1 })),
      )
      try {
        const results = await Promise.allSettled(opened.map((database) => migrateUp(database.db)))
        const failed = results.filter((r) => r.status === 'rejected')
        assert.deepEqual(failed, [], 'no migrator fails')
        const applied = results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []))
        assert.equal(new Set(applied).size, applied.length, 'each migration applied once')
      } finally {
        await Promise.all(opened.map((database) => database.close()))
      }
    }
  })
})
