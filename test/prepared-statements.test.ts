/**
 * Every parameterized statement is prepared once per PostgreSQL connection (src/db/client.ts): the server keeps
 * it parsed and the client sends only Bind/Execute afterwards. Needs PostgreSQL: skipped on PGlite-only runs.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { eq, sql } from 'drizzle-orm'
import { openDatabase, queryRows } from '../src/db/client.js'
import { contacts } from '../src/db/schema.js'

const TEST_URL = process.env.TEST_DATABASE_URL
const skip = !TEST_URL && 'needs PostgreSQL (TEST_DATABASE_URL)'

describe('prepared statements', { skip }, () => {
  it('raw SQL and query-builder statements with values are prepared by name and reused on the connection', async () => {
    const database = await openDatabase({ url: TEST_URL, poolSize: 1 })
    try {
      const { db } = database
      for (let i = 0; i < 3; i++) {
        const rows = await queryRows<{ n: number }>(db, sql`SELECT ${i}::int + 1 AS n`)
        assert.equal(rows[0]?.n, i + 1)
        await db
          .select({ id: contacts.id })
          .from(contacts)
          .where(eq(contacts.name, `nobody ${i}`))
      }
      // Without values: the simple protocol, so this listing is not itself prepared.
      const prepared = await queryRows<{ name: string; statement: string }>(
        db,
        sql`SELECT name, statement FROM pg_prepared_statements ORDER BY statement`,
      )
      const raw = prepared.filter((row) => row.statement.includes('::int + 1 AS n'))
      const built = prepared.filter((row) => row.statement.includes('from "contacts"'))
      assert.equal(raw.length, 1, JSON.stringify(prepared))
      assert.equal(built.length, 1, JSON.stringify(prepared))
      assert.match(raw[0]?.name ?? '', /^s/)
    } finally {
      await database.close()
    }
  })
})
