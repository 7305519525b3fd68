import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { sql } from 'drizzle-orm'
import pg from 'pg'
import { type Database, openDatabase, queryRows } from '../src/db/client.js'
import { migrateDown, migrateUp, migrationStatus } from '../src/db/migrate.js'

async function tables(database: Database): Promise<string[]> {
  const rows = await queryRows<{ table_name: string }>(
    database.db,
    sql`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
  )
  return rows.map((row) => row.table_name)
}

const TABLES = [
  'activities',
  'analytics_generations',
  'api_keys',
  'companies',
  'contacts',
  'deal_created_days',
  'deal_durations',
  'deal_stage_history',
  'deal_totals',
  'deals',
  'events',
  'idempotency_keys',
  'invitations',
  'list_counts',
  'memberships',
  'organizations',
  'password_resets',
  'pipeline_stages',
  'refresh_tokens',
  'schema_migrations',
  'sessions',
  'tasks',
  'users',
  'webhook_deliveries',
  'webhooks',
]

async function upDownUp(database: Database) {
  const before = await migrationStatus(database.db)
  assert.ok(before.length >= 1)
  assert.ok(before.every((m) => !m.applied))

  const applied = await migrateUp(database.db)
  assert.deepEqual(
    applied,
    before.map((m) => m.tag),
  )
  assert.deepEqual(await tables(database), TABLES)
  assert.ok((await migrationStatus(database.db)).every((m) => m.applied))
  assert.deepEqual(await migrateUp(database.db), [], 'a second run applies nothing')

  // Roll everything back, one migration at a time, newest first.
  const reverted: string[] = []
  for (let tag = await migrateDown(database.db); tag; tag = await migrateDown(database.db)) reverted.push(tag)
  assert.deepEqual(reverted, before.map((m) => m.tag).reverse())
  assert.deepEqual(await tables(database), ['schema_migrations'])
  assert.equal(await migrateDown(database.db), undefined)

  assert.deepEqual(
    await migrateUp(database.db),
    before.map((m) => m.tag),
  )
  assert.deepEqual(await tables(database), TABLES)
}

describe('migrations', () => {
  it('apply, report status, roll back from the down scripts and re-apply on PGlite', async () => {
    const database = await openDatabase({ pgliteDataDir: 'memory://' })
    try {
      await upDownUp(database)
    } finally {
      await database.close()
    }
  })

  it('do the same on PostgreSQL', {
    skip: !process.env.TEST_DATABASE_URL && 'needs PostgreSQL',
  }, async () => {
    const server = new URL(process.env.TEST_DATABASE_URL as string)
    const name = `mini_crm_migrations_${Date.now()}_${Math.floor(Math.random() * 1e6)}`
    const admin = new pg.Client({ connectionString: server.toString() })
    await admin.connect()
    await admin.query(`CREATE DATABASE ${name}`)
    const url = new URL(server)
    url.pathname = `/${name}`
    const database = await openDatabase({ url: url.toString(), poolSize: 2 })
    try {
      await upDownUp(database)
    } finally {
      await database.close()
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await admin.end()
    }
  })

  it('apply once when two instances start together', async () => {
    const database = await openDatabase({ pgliteDataDir: 'memory://' })
    try {
      const [a, b] = await Promise.all([migrateUp(database.db), migrateUp(database.db)])
      assert.equal(a.length + b.length, (await migrationStatus(database.db)).length)
    } finally {
      await database.close()
    }
  })
})
