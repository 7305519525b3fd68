/**
 * `DATABASE_URL=postgres://…/postgres npx tsx scripts/analytics-timing.ts [--sizes=10000,100000,1000000]`
 *
 * How long the UNCACHED analytics computations (summary, funnel, forecast, velocity: the code the routes run)
 * take for organizations of 10k, 100k and 1M deals on PostgreSQL, with their EXPLAIN (ANALYZE) plans, and what
 * the aggregate upkeep (the deals_after_write trigger) adds to a single-deal update. It creates a scratch
 * database `sales_timing_<time>` on that server and drops it at the end.
 *
 * Data: the organizations share one deals table. Statuses 25/25/25/25 %, four stages, amounts 1..100,000 with
 * cents, 3 currencies (80 % USD), created over 400 days, expected close dates over ±12 months (20 % none), and a
 * stage history of two closed stays and one open per deal. The bulk load bypasses the triggers
 * (session_replication_role = replica) and then builds the aggregates with the migration's own backfill SQL,
 * so the aggregate rows are exactly what the triggers would have written; then VACUUM ANALYZE.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { type SQL, sql } from 'drizzle-orm'
import pg from 'pg'
import { openDatabase, queryRows } from '../src/db/client.js'
import { MIGRATIONS_DIR, migrateUp } from '../src/db/migrate.js'
import { dealForecast, dealFunnel, dealSummary, dealVelocity } from '../src/features/analytics/metrics.js'
import {
  currenciesQuery,
  forecastData,
  forecastQuery,
  recentQuery,
  stageStatusCounts,
  stageStatusQuery,
  summaryByStatusQuery,
  summaryData,
  velocityData,
  velocityQuery,
} from '../src/features/analytics/queries.js'

const RUNS = 21
const WARMUP = 3
const sizesArg = process.argv.find((arg) => arg.startsWith('--sizes='))
const SIZES = (sizesArg ? sizesArg.slice('--sizes='.length) : '10000,100000,1000000').split(',').map(Number)

const serverUrl = process.env.DATABASE_URL
if (!serverUrl) {
  console.error('DATABASE_URL must name a PostgreSQL server (a scratch database is created on it)')
  process.exit(1)
}
const name = `sales_timing_${Date.now()}`
const admin = new pg.Client({ connectionString: serverUrl })
await admin.connect()
await admin.query(`CREATE DATABASE ${name}`)
const url = new URL(serverUrl)
url.pathname = `/${name}`
const database = await openDatabase({ url: url.toString(), poolSize: 4 })
const db = database.db

/** The migration's backfill statements for the aggregate rows (run once after the bulk load). */
function backfillStatements(): string[] {
  const text = readFileSync(join(MIGRATIONS_DIR, '0002_sales_model.sql'), 'utf8')
  return text
    .split('--> statement-breakpoint')
    .map((s) => s.trim())
    .filter((s) => s.includes('INSERT INTO "deal_totals"') || s.includes('INSERT INTO "deal_created_days"'))
}

async function seed(organizationId: string, userId: string, deals: number) {
  await db.execute(sql`INSERT INTO organizations (id, name) VALUES (${organizationId}, ${`Timing ${deals}`})`)
  await db.execute(
    sql`INSERT INTO memberships (organization_id, user_id, role) VALUES (${organizationId}, ${userId}, 'owner')`,
  )
  const contacts = Math.max(100, Math.floor(deals / 10))
  await db.execute(sql`
    INSERT INTO contacts (organization_id, id, owner_id, name)
    SELECT ${organizationId}, gen_random_uuid(), ${userId}, 'Contact ' || n FROM generate_series(1, ${contacts}) n`)
  const chunk = 250_000
  for (let from = 1; from <= deals; from += chunk) {
    const to = Math.min(deals, from + chunk - 1)
    await db.transaction(async (tx) => {
      await tx.execute(sql`SET LOCAL session_replication_role = replica`)
      await tx.execute(sql`
        WITH c AS (SELECT array_agg(id) AS ids FROM contacts WHERE organization_id = ${organizationId}),
        g AS (
          SELECT n, now() - random() * interval '400 days' AS t,
                 (ARRAY['new', 'in_progress', 'won', 'lost'])[1 + n % 4] AS status,
                 (ARRAY['qualification', 'proposal', 'negotiation', 'closed'])[1 + (n / 4) % 4] AS stage
          FROM generate_series(${from}::int, ${to}::int) n
        ), d AS (
          INSERT INTO deals (organization_id, id, contact_id, owner_id, title, amount, currency, status, stage,
                             created_at, updated_at, stage_changed_at, stage_changed_by, closed_at, expected_close_date)
          SELECT ${organizationId}, gen_random_uuid(), c.ids[1 + g.n % ${contacts}], ${userId}, 'Deal ' || g.n,
                 round((1 + random() * 99999)::numeric, 2),
                 (ARRAY['USD', 'USD', 'USD', 'USD', 'USD', 'USD', 'USD', 'USD', 'EUR', 'JPY'])[1 + g.n % 10],
                 g.status, g.stage, g.t, g.t, g.t + (now() - g.t) * 0.5, ${userId},
                 CASE WHEN g.status IN ('won', 'lost') THEN g.t + (now() - g.t) * 0.75 END,
                 CASE WHEN g.n % 5 <> 0 THEN (now() + (random() * 730 - 365) * interval '1 day')::date END
          FROM c, g
          RETURNING organization_id, id, stage, created_at, stage_changed_at
        )
        INSERT INTO deal_stage_history (organization_id, deal_id, seq, stage, entered_at, exited_at, changed_by)
        SELECT d.organization_id, d.id, s.seq, CASE s.seq WHEN 3 THEN d.stage ELSE 'qualification' END,
               CASE s.seq WHEN 1 THEN d.created_at WHEN 2 THEN d.created_at + (d.stage_changed_at - d.created_at) / 2
                          ELSE d.stage_changed_at END,
               CASE s.seq WHEN 1 THEN d.created_at + (d.stage_changed_at - d.created_at) / 2
                          WHEN 2 THEN d.stage_changed_at END,
               ${userId}
        FROM d CROSS JOIN generate_series(1, 3) AS s(seq)`)
    })
  }
}

async function median(run: () => Promise<unknown>) {
  for (let i = 0; i < WARMUP; i++) await run()
  const times: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now()
    await run()
    times.push(performance.now() - started)
  }
  times.sort((a, b) => a - b)
  return {
    p50: times[Math.floor(RUNS / 2)] as number,
    min: times[0] as number,
    max: times[RUNS - 1] as number,
  }
}

async function explain(query: SQL): Promise<string> {
  const rows = await queryRows<{ 'QUERY PLAN': string }>(
    db,
    sql`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${query}`,
  )
  return rows.map((row) => row['QUERY PLAN']).join('\n')
}

/** A single-deal status toggle, as W4 writes it, with and without the trigger upkeep (database time only). */
async function writeCost(organizationId: string) {
  const ids = await queryRows<{ id: string }>(
    db,
    sql`SELECT id FROM deals WHERE organization_id = ${organizationId} AND status = 'new' LIMIT 200`,
  )
  const toggle = async (replica: boolean) => {
    const times: number[] = []
    for (let pass = 0; pass < 2; pass++) {
      for (const { id } of ids) {
        const started = performance.now()
        await db.transaction(async (tx) => {
          if (replica) await tx.execute(sql`SET LOCAL session_replication_role = replica`)
          await tx.execute(sql`UPDATE deals SET status = CASE status WHEN 'new' THEN 'in_progress' ELSE 'new' END,
            updated_at = now() WHERE organization_id = ${organizationId} AND id = ${id}`)
        })
        times.push(performance.now() - started)
      }
    }
    times.sort((a, b) => a - b)
    return times[Math.floor(times.length / 2)] as number
  }
  const without = await toggle(true)
  const withTrigger = await toggle(false)
  const withoutAgain = await toggle(true)
  return { without: Math.min(without, withoutAgain), withTrigger }
}

try {
  await migrateUp(db)
  const [version] = await queryRows<{ version: string }>(db, sql`SELECT version()`)
  console.log(version?.version)
  const userId = crypto.randomUUID()
  await db.execute(
    sql`INSERT INTO users (id, email, password_hash, name) VALUES (${userId}, ${`timing-${userId}@example.test`}, 'x', 'Timing')`,
  )
  const organizations = SIZES.map((size) => ({ size, id: crypto.randomUUID() }))
  const started = performance.now()
  for (const { size, id } of organizations) await seed(id, userId, size)
  await db.transaction(async (tx) => {
    for (const statement of backfillStatements()) await tx.execute(sql.raw(statement))
  })
  await db.execute(sql`VACUUM ANALYZE`)
  console.log(`Seeded ${SIZES.join(' + ')} deals in ${((performance.now() - started) / 1000).toFixed(1)} s`)

  const results: string[] = []
  for (const { size, id } of organizations) {
    const [rows] = await queryRows<{ n: number }>(
      db,
      sql`SELECT count(*)::int AS n FROM deal_totals WHERE organization_id = ${id}`,
    )
    console.log(`\n=== ${size} deals (${rows?.n} aggregate rows) ===`)
    const measures: Record<string, () => Promise<unknown>> = {
      'summary days=30': async () => dealSummary(await summaryData(db, id, 30, 'USD'), 30, 'USD'),
      'summary days=365': async () => dealSummary(await summaryData(db, id, 365, 'USD'), 365, 'USD'),
      funnel: async () => dealFunnel(await stageStatusCounts(db, id)),
      'forecast months=6': async () => {
        const data = await forecastData(db, id, 'USD', 6)
        return dealForecast(data.rows, 'USD', data.firstMonth, 6)
      },
      'forecast months=24': async () => {
        const data = await forecastData(db, id, 'USD', 24)
        return dealForecast(data.rows, 'USD', data.firstMonth, 24)
      },
      'velocity days=90': async () => dealVelocity(await velocityData(db, id, 90), 90),
      'velocity days=365': async () => dealVelocity(await velocityData(db, id, 365), 365),
    }
    for (const [label, run] of Object.entries(measures)) {
      const { p50, min, max } = await median(run)
      const line = `${size}\t${label}\tp50 ${p50.toFixed(2)} ms\t(min ${min.toFixed(2)}, max ${max.toFixed(2)})`
      console.log(line)
      results.push(line)
    }
    if (size === Math.max(...SIZES) || size === 100_000) {
      console.log(`\n-- summary by status\n${await explain(summaryByStatusQuery(id, 'USD'))}`)
      console.log(`\n-- currencies\n${await explain(currenciesQuery(id))}`)
      console.log(`\n-- recent days=365\n${await explain(recentQuery(id, 365))}`)
      console.log(`\n-- funnel\n${await explain(stageStatusQuery(id))}`)
      console.log(`\n-- forecast months=24\n${await explain(forecastQuery(id, 'USD', 24))}`)
      console.log(`\n-- velocity days=90\n${await explain(velocityQuery(id, 90))}`)
    }
  }
  const largest = organizations.at(-1) as { id: string; size: number }
  const cost = await writeCost(largest.id)
  console.log(`\n=== summary ===\n${results.join('\n')}`)
  console.log(
    `single-deal status update (database round trip, ${largest.size}-deal organization): ` +
      `${cost.without.toFixed(3)} ms without the trigger upkeep, ${cost.withTrigger.toFixed(3)} ms with it`,
  )
} finally {
  await database.close()
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  await admin.end()
}
