import assert from 'node:assert/strict'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { sql } from 'drizzle-orm'
import pg from 'pg'
import { type Database, openDatabase, queryRows } from '../src/db/client.js'
import { MIGRATIONS_DIR, migrateDown, migrateUp } from '../src/db/migrate.js'

// Migration 0002 on a database that already holds v1 data: the stage history is rebuilt from the deals'
// stage_changed activities, the sales times from their activities, the aggregates from the deals; down reverts it.

const cleanups: (() => Promise<unknown> | unknown)[] = []
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
})

/** A copy of the migrations folder that knows only 0000_init: the v1 schema. */
function v1MigrationsDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mini-crm-v1-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  mkdirSync(join(dir, 'meta'))
  mkdirSync(join(dir, 'down'))
  cpSync(join(MIGRATIONS_DIR, '0000_init.sql'), join(dir, '0000_init.sql'))
  cpSync(join(MIGRATIONS_DIR, 'down', '0000_init.sql'), join(dir, 'down', '0000_init.sql'))
  const journal = JSON.parse(readFileSync(join(MIGRATIONS_DIR, 'meta', '_journal.json'), 'utf8'))
  journal.entries = journal.entries.filter((entry: { tag: string }) => entry.tag === '0000_init')
  writeFileSync(join(dir, 'meta', '_journal.json'), JSON.stringify(journal))
  return dir
}

const ORG = '0190d000-0000-7000-8000-000000000001'
const USER = '0190d000-0000-7000-8000-000000000002'
const AUTHOR = '0190d000-0000-7000-8000-000000000003'
const CONTACT = '0190d000-0000-7000-8000-000000000004'
const PLAIN = '0190d000-0000-7000-8000-000000000010'
const MOVED = '0190d000-0000-7000-8000-000000000011'
const WON = '0190d000-0000-7000-8000-000000000012'

async function seedV1(database: Database) {
  const run = (query: string) => database.db.execute(sql.raw(query))
  await run(`INSERT INTO users (id, email, password_hash, name) VALUES
    ('${USER}', 'owner@example.test', 'x', 'Owner'), ('${AUTHOR}', 'author@example.test', 'x', 'Author')`)
  await run(`INSERT INTO organizations (id, name) VALUES ('${ORG}', 'V1')`)
  await run(
    `INSERT INTO memberships (organization_id, user_id, role) VALUES ('${ORG}', '${USER}', 'owner'), ('${ORG}', '${AUTHOR}', 'admin')`,
  )
  await run(
    `INSERT INTO contacts (organization_id, id, owner_id, name) VALUES ('${ORG}', '${CONTACT}', '${USER}', 'C')`,
  )
  await run(`INSERT INTO deals (organization_id, id, contact_id, owner_id, title, amount, currency, status, stage, created_at, updated_at) VALUES
    ('${ORG}', '${PLAIN}', '${CONTACT}', '${USER}', 'plain', 100.05, 'USD', 'new', 'qualification', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'),
    ('${ORG}', '${MOVED}', '${CONTACT}', '${USER}', 'moved', 200.00, 'USD', 'in_progress', 'negotiation', '2026-02-01T00:00:00Z', '2026-02-05T00:00:00Z'),
    ('${ORG}', '${WON}', '${CONTACT}', '${USER}', 'won', 300.00, 'EUR', 'won', 'closed', '2026-03-01T00:00:00Z', '2026-03-09T00:00:00Z')`)
  const activity = (n: number, deal: string, type: string, payload: string, at: string, author = AUTHOR) =>
    `('${ORG}', '0190d000-0000-7000-8000-0000000001${String(n).padStart(2, '0')}', '${deal}', '${author}', '${type}', '${payload}', '${at}')`
  await run(`INSERT INTO activities (organization_id, id, deal_id, author_id, type, payload, created_at) VALUES
    ${activity(1, MOVED, 'stage_changed', '{"old_stage":"qualification","new_stage":"closed"}', '2026-02-02T00:00:00Z')},
    ${activity(2, MOVED, 'comment', '{"text":"hi"}', '2026-02-03T00:00:00Z')},
    ${activity(3, MOVED, 'stage_changed', '{"old_stage":"closed","new_stage":"negotiation"}', '2026-02-04T12:00:00Z', USER)},
    ${activity(4, WON, 'status_changed', '{"old_status":"new","new_status":"won"}', '2026-03-08T00:00:00Z')},
    ${activity(5, WON, 'stage_changed', '{"old_stage":"qualification","new_stage":"closed"}', '2026-03-08T00:00:00Z')}`)
}

async function check(database: Database) {
  const history = await queryRows<Record<string, unknown>>(
    database.db,
    sql`SELECT deal_id, seq, stage, to_char(entered_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI') AS entered,
               to_char(exited_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI') AS exited, changed_by
        FROM deal_stage_history ORDER BY deal_id, seq`,
  )
  assert.deepEqual(history, [
    {
      deal_id: PLAIN,
      seq: 1,
      stage: 'qualification',
      entered: '2026-01-01T00:00',
      exited: null,
      changed_by: USER,
    },
    {
      deal_id: MOVED,
      seq: 1,
      stage: 'qualification',
      entered: '2026-02-01T00:00',
      exited: '2026-02-02T00:00',
      changed_by: USER,
    },
    {
      deal_id: MOVED,
      seq: 2,
      stage: 'closed',
      entered: '2026-02-02T00:00',
      exited: '2026-02-04T12:00',
      changed_by: AUTHOR,
    },
    {
      deal_id: MOVED,
      seq: 3,
      stage: 'negotiation',
      entered: '2026-02-04T12:00',
      exited: null,
      changed_by: USER,
    },
    {
      deal_id: WON,
      seq: 1,
      stage: 'qualification',
      entered: '2026-03-01T00:00',
      exited: '2026-03-08T00:00',
      changed_by: USER,
    },
    { deal_id: WON, seq: 2, stage: 'closed', entered: '2026-03-08T00:00', exited: null, changed_by: AUTHOR },
  ])
  const times = await queryRows<Record<string, unknown>>(
    database.db,
    sql`SELECT id, to_char(stage_changed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI') AS stage_changed,
               to_char(closed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS closed, expected_close_date, lost_reason
        FROM deals ORDER BY id`,
  )
  assert.deepEqual(times, [
    {
      id: PLAIN,
      stage_changed: '2026-01-01T00:00',
      closed: null,
      expected_close_date: null,
      lost_reason: null,
    },
    {
      id: MOVED,
      stage_changed: '2026-02-04T12:00',
      closed: null,
      expected_close_date: null,
      lost_reason: null,
    },
    {
      id: WON,
      stage_changed: '2026-03-08T00:00',
      closed: '2026-03-08',
      expected_close_date: null,
      lost_reason: null,
    },
  ])
  // The aggregates equal a recount, with the exact weighted sums (100.05 × 10 % = 10.005 → 10.01; 200 × 60 %).
  const totals = await queryRows<Record<string, unknown>>(
    database.db,
    sql`SELECT currency, status, stage, month::text, sum(deal_count)::int AS n, sum(amount)::text AS amount,
               sum(weighted)::text AS weighted,
               sum(deal_totals_weighted(cents_hist, amount, coalesce(probability, 0)))::text AS from_hist
        FROM deal_totals GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3`,
  )
  assert.deepEqual(totals, [
    {
      currency: 'EUR',
      status: 'won',
      stage: 'closed',
      month: '2026-03-01',
      n: 1,
      amount: '300.00',
      weighted: '0.00',
      from_hist: '0.00',
    },
    {
      currency: 'USD',
      status: 'in_progress',
      stage: 'negotiation',
      month: 'infinity',
      n: 1,
      amount: '200.00',
      weighted: '120.00',
      from_hist: '120.00',
    },
    {
      currency: 'USD',
      status: 'new',
      stage: 'qualification',
      month: 'infinity',
      n: 1,
      amount: '100.05',
      weighted: '10.01',
      from_hist: '10.01',
    },
  ])
  const [days] = await queryRows<{ n: number }>(
    database.db,
    sql`SELECT sum(deal_count)::int AS n FROM deal_created_days`,
  )
  assert.equal(days?.n, 3)
}

async function tableNames(database: Database) {
  const rows = await queryRows<{ table_name: string }>(
    database.db,
    sql`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
  )
  return rows.map((row) => row.table_name)
}

async function scenario(database: Database) {
  await migrateUp(database.db, v1MigrationsDir())
  await seedV1(database)
  await migrateUp(database.db)
  await check(database)
  // A stage change after the migration continues the rebuilt chain.
  await database.db.execute(
    sql.raw(`UPDATE deals SET stage = 'closed', stage_changed_by = '${AUTHOR}' WHERE id = '${MOVED}'`),
  )
  const [last] = await queryRows<{ seq: number; stage: string }>(
    database.db,
    sql.raw(`SELECT seq, stage FROM deal_stage_history WHERE deal_id = '${MOVED}' AND exited_at IS NULL`),
  )
  assert.deepEqual(last, { seq: 4, stage: 'closed' })
  // Down reverts 0002 only: v1 data and activities stay, the new tables and columns go.
  // Later migrations go first (newest first), then 0002 itself.
  let reverted = await migrateDown(database.db)
  while (reverted && reverted !== '0002_sales_model') reverted = await migrateDown(database.db)
  assert.equal(reverted, '0002_sales_model')
  const tables = await tableNames(database)
  for (const table of [
    'companies',
    'deal_stage_history',
    'deal_totals',
    'deal_created_days',
    'pipeline_stages',
  ]) {
    assert.ok(!tables.includes(table), table)
  }
  const columns = await queryRows<{ column_name: string }>(
    database.db,
    sql`SELECT column_name FROM information_schema.columns WHERE table_name = 'deals' AND column_name IN ('closed_at', 'stage_changed_at', 'expected_close_date')`,
  )
  assert.deepEqual(columns, [])
  const [counts] = await queryRows<{ deals: number; activities: number }>(
    database.db,
    sql`SELECT (SELECT count(*)::int FROM deals) AS deals, (SELECT count(*)::int FROM activities) AS activities`,
  )
  assert.deepEqual(counts, { deals: 3, activities: 5 })
  // Re-applying rebuilds the same history (plus nothing for the reverted change: it wrote no activity).
  await migrateUp(database.db)
  const [moved] = await queryRows<{ n: number }>(
    database.db,
    sql.raw(`SELECT count(*)::int AS n FROM deal_stage_history WHERE deal_id = '${MOVED}'`),
  )
  assert.equal(moved?.n, 3)
}

describe('migration 0002_sales_model on v1 data', () => {
  it('rebuilds history and aggregates from activities, and reverts (PGlite)', async () => {
    const database = await openDatabase({ pgliteDataDir: 'memory://' })
    cleanups.push(() => database.close())
    await scenario(database)
  })

  it('does the same on PostgreSQL', {
    skip: !process.env.TEST_DATABASE_URL && 'needs PostgreSQL',
  }, async () => {
    const server = new URL(process.env.TEST_DATABASE_URL as string)
    const name = `mini_crm_sales_migration_${Date.now()}_${Math.floor(Math.random() * 1e6)}`
    const admin = new pg.Client({ connectionString: server.toString() })
    await admin.connect()
    await admin.query(`CREATE DATABASE ${name}`)
    cleanups.push(async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await admin.end()
    })
    const url = new URL(server)
    url.pathname = `/${name}`
    const database = await openDatabase({ url: url.toString(), poolSize: 2 })
    cleanups.push(() => database.close())
    await scenario(database)
  })
})
