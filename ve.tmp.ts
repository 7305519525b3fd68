import pg from 'pg'
import { PgDialect } from 'drizzle-orm/pg-core'
import { velocityQuery } from './src/features/analytics/queries.ts'
const client = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/lists_scale_1000000' })
await client.connect()
const { rows: [org] } = await client.query("select organization_id as id from deals group by 1 order by count(*) desc limit 1")
const q = new PgDialect().sqlToQuery(velocityQuery(org.id, Number(process.argv[2] ?? 90)))
const { rows } = await client.query({ text: 'EXPLAIN (ANALYZE, BUFFERS) ' + q.sql, values: q.params })
console.log(rows.map((r: any) => r['QUERY PLAN']).join('\n'))
await client.end()
