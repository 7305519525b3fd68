import pg from 'pg'
import { PgDialect } from 'drizzle-orm/pg-core'
import { velocityQuery } from './src/features/analytics/queries.ts'
const client = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/lists_scale_1000000' })
await client.connect()
const { rows: [org] } = await client.query("select organization_id as id from deals group by 1 order by count(*) desc limit 1")
const dialect = new PgDialect()
const scan = (days: number) => ({ text: `WITH stays AS (
      SELECT h.stage, date_part('epoch', h.exited_at - h.entered_at) AS seconds FROM deal_stage_history h
      WHERE h.organization_id = $1 AND h.exited_at IS NOT NULL AND h.exited_at >= now() - make_interval(days => $2::int)
    ), won AS (
      SELECT date_part('epoch', d.closed_at - d.created_at) AS seconds FROM deals d
      WHERE d.organization_id = $1 AND d.status = 'won' AND d.closed_at >= now() - make_interval(days => $2::int))
    SELECT stage, count(*)::int AS exits, round((avg(seconds) / 86400)::numeric, 2)::text AS avg_days,
           round((percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds))::numeric / 86400, 2)::text AS median_days
    FROM stays GROUP BY stage UNION ALL
    SELECT NULL, count(*)::int, round((avg(seconds) / 86400)::numeric, 2)::text,
           round((percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds))::numeric / 86400, 2)::text FROM won`, values: [org.id, days] })
const kept = (days: number) => { const q = dialect.sqlToQuery(velocityQuery(org.id, days)); return { text: q.sql, values: q.params } }
async function time(name: string, make: (d: number) => { text: string; values: unknown[] }, days: number[]) {
  const t: number[] = []
  for (const d of days) { const s = performance.now(); await client.query(make(d)); t.push(performance.now() - s) }
  t.sort((a, b) => a - b)
  console.log(name, 'p50', t[Math.floor(t.length / 2)].toFixed(2), 'p99', t[Math.floor(t.length * 0.99)].toFixed(2), 'n', t.length)
}
const variants = Array.from({ length: 60 }, (_, i) => (i * 37) % 365 + 1)
for (const d of [90, 365, 7]) {
  const a = (await client.query(scan(d))).rows, b = (await client.query(kept(d))).rows
  const norm = (r: any[]) => JSON.stringify(r.filter((x) => x.exits > 0).sort((x, y) => String(x.stage).localeCompare(String(y.stage))))
  console.log('days', d, norm(a) === norm(b) ? 'same' : `DIFF\n ${norm(a)}\n ${norm(b)}`)
}
await time('scan (before)', scan, variants)
await time('kept (after)', kept, variants)
await time('scan days=90', scan, Array(30).fill(90))
await time('kept days=90', kept, Array(30).fill(90))
await client.end()
