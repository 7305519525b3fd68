/**
 * `npx tsx scripts/analytics-timing.ts`: how long the UNCACHED analytics computations take for an organization
 * with 100,000 deals on the PostgreSQL of DATABASE_URL (three neighbour organizations with as many deals share
 * the table). Prints the median of several runs and the EXPLAIN (ANALYZE, BUFFERS) plans, first right after the
 * load (statistics only) and then after VACUUM (visibility map set, as autovacuum leaves it). The seeded rows
 * are deleted at the end. Point it at a throwaway database: `createdb timing && DATABASE_URL=.../timing ...`.
 */
import { randomUUID } from 'node:crypto'
import { type SQL, sql } from 'drizzle-orm'
import { type Executor, openDatabase, queryRows } from '../src/db/client.js'
import { migrateUp } from '../src/db/migrate.js'
import { dealFunnel, dealSummary } from '../src/features/analytics/metrics.js'
import {
  stageStatusCounts,
  stageStatusQuery,
  summaryData,
  summaryQuery,
} from '../src/features/analytics/queries.js'

const DEALS = 100_000
const CONTACTS = 1_000
const RUNS = 21
const WARMUP = 3

const url = process.env.DATABASE_URL
if (!url) {
  console.error('DATABASE_URL must name a PostgreSQL database')
  process.exit(1)
}
const database = await openDatabase({ url, poolSize: 2 })
const db = database.db
await migrateUp(db)

const userId = randomUUID()
// The measured organization first; three neighbours of the same size share the table (and its indexes).
const organizations = [randomUUID(), randomUUID(), randomUUID(), randomUUID()] as const
const [organizationId] = organizations

async function seed(orgId: string) {
  await db.execute(sql`INSERT INTO organizations (id, name) VALUES (${orgId}, 'Timing')`)
  await db.execute(
    sql`INSERT INTO memberships (organization_id, user_id, role) VALUES (${orgId}, ${userId}, 'owner')`,
  )
  await db.execute(sql`
    INSERT INTO contacts (organization_id, id, owner_id, name)
    SELECT ${orgId}, gen_random_uuid(), ${userId}, 'Contact ' || n FROM generate_series(1, ${CONTACTS}) n`)
  // Statuses and stages spread unevenly, amounts up to 100,000.00, created over the last 400 days.
  await db.execute(sql`
    WITH c AS (SELECT array_agg(id) AS ids FROM contacts WHERE organization_id = ${orgId})
    INSERT INTO deals (organization_id, id, contact_id, owner_id, title, amount, status, stage, created_at, updated_at)
    SELECT ${orgId}, gen_random_uuid(), c.ids[1 + g.n % ${CONTACTS}], ${userId}, 'Deal ' || g.n,
           round((1 + random() * 99999)::numeric, 2),
           (ARRAY['new','new','in_progress','in_progress','in_progress','won','lost','lost'])[1 + g.n % 8],
           (ARRAY['qualification','qualification','qualification','proposal','proposal','negotiation','closed'])[1 + g.n % 7],
           g.t, g.t
    FROM c, (SELECT n, now() - random() * interval '400 days' AS t FROM generate_series(1, ${DEALS}) n) g`)
}

async function median(run: () => Promise<unknown>): Promise<{ median: number; min: number; max: number }> {
  for (let i = 0; i < WARMUP; i++) await run()
  const times: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now()
    await run()
    times.push(performance.now() - started)
  }
  times.sort((a, b) => a - b)
  return {
    median: times[Math.floor(RUNS / 2)] as number,
    min: times[0] as number,
    max: times[RUNS - 1] as number,
  }
}

async function explain(query: SQL): Promise<string> {
  const rows = await queryRows<{ 'QUERY PLAN': string }>(db, sql`EXPLAIN (ANALYZE, BUFFERS) ${query}`)
  return rows.map((row) => row['QUERY PLAN']).join('\n')
}

async function report(state: string, executor: Executor) {
  console.log(`\n=== ${state} ===`)
  const measures = {
    'summary (days=30)': async () => dealSummary(await summaryData(executor, organizationId, 30), 30),
    'summary (days=365)': async () => dealSummary(await summaryData(executor, organizationId, 365), 365),
    funnel: async () => dealFunnel(await stageStatusCounts(executor, organizationId)),
  }
  for (const [name, run] of Object.entries(measures)) {
    const { median: ms, min, max } = await median(run)
    console.log(
      `${name}: median ${ms.toFixed(2)} ms (min ${min.toFixed(2)}, max ${max.toFixed(2)}, ${RUNS} runs)`,
    )
  }
  console.log(`\n-- summary (days=30)\n${await explain(summaryQuery(organizationId, 30))}`)
  console.log(`\n-- summary (days=365)\n${await explain(summaryQuery(organizationId, 365))}`)
  console.log(`\n-- funnel\n${await explain(stageStatusQuery(organizationId))}`)
}

try {
  const started = performance.now()
  await db.execute(
    sql`INSERT INTO users (id, email, password_hash, name) VALUES (${userId}, ${`timing-${userId}@example.test`}, 'x', 'Timing')`,
  )
  for (const orgId of organizations) await seed(orgId)
  await db.execute(sql`ANALYZE deals`)
  console.log(
    `Seeded ${organizations.length} organizations × ${DEALS} deals in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  )
  const [version] = await queryRows<{ version: string }>(db, sql`SELECT version()`)
  console.log(version?.version)
  console.log(JSON.stringify(dealSummary(await summaryData(db, organizationId, 30), 30)))
  console.log(JSON.stringify(dealFunnel(await stageStatusCounts(db, organizationId))))
  await report('right after the load and ANALYZE (visibility map not yet set)', db)
  await db.execute(sql`VACUUM ANALYZE deals`)
  await report('after VACUUM (as autovacuum keeps it)', db)
} finally {
  for (const orgId of organizations) {
    await db.execute(sql`DELETE FROM deals WHERE organization_id = ${orgId}`)
    await db.execute(sql`DELETE FROM organizations WHERE id = ${orgId}`)
  }
  await db.execute(sql`DELETE FROM users WHERE id = ${userId}`)
  await database.close()
}
