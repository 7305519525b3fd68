import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { sql } from 'drizzle-orm'
import { type Db, type Executor, queryRows } from './client.js'

/**
 * Applies drizzle-kit's generated SQL in journal order and reverts the last one from its reviewed down script
 * (`migrations/down/<tag>.sql`), which drizzle-kit does not provide. Each migration runs in one transaction
 * under an advisory lock, so two instances starting together never apply the same step twice.
 */
export const MIGRATIONS_DIR = resolve(import.meta.dirname, '../../migrations')
const LOCK_KEY = 7_404_311_001
const BREAKPOINT = '--> statement-breakpoint'

export interface Migration {
  tag: string
}

function journal(dir: string): Migration[] {
  const data = JSON.parse(readFileSync(join(dir, 'meta', '_journal.json'), 'utf8')) as {
    entries: { idx: number; tag: string }[]
  }
  return data.entries.sort((a, b) => a.idx - b.idx).map(({ tag }) => ({ tag }))
}

function statements(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split(BREAKPOINT)
    .map((statement) => statement.trim())
    .filter(Boolean)
}

/**
 * Called only inside a transaction holding the advisory lock: two processes creating the table at once
 * collide on the catalog (duplicate pg_type row) even with IF NOT EXISTS.
 */
async function ensureTable(db: Executor): Promise<void> {
  await db.execute(sql`CREATE TABLE IF NOT EXISTS schema_migrations (
    tag text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`)
}

async function appliedTags(db: Db): Promise<Set<string>> {
  const [table] = await queryRows<{ name: string | null }>(
    db,
    sql`SELECT to_regclass('schema_migrations')::text AS name`,
  )
  if (!table?.name) return new Set()
  const rows = await queryRows<{ tag: string }>(db, sql`SELECT tag FROM schema_migrations`)
  return new Set(rows.map((row) => row.tag))
}

export async function migrationStatus(db: Db, dir = MIGRATIONS_DIR) {
  const applied = await appliedTags(db)
  return journal(dir).map(({ tag }) => ({ tag, applied: applied.has(tag) }))
}

/** Applies every pending migration; returns the tags applied. */
export async function migrateUp(db: Db, dir = MIGRATIONS_DIR): Promise<string[]> {
  const done: string[] = []
  for (const { tag } of journal(dir)) {
    const applied = await db.transaction(async (tx) => {
      await tx.execute(sql`SELECT pg_advisory_xact_lock(${LOCK_KEY})`)
      await ensureTable(tx)
      const existing = await queryRows(tx, sql`SELECT 1 FROM schema_migrations WHERE tag = ${tag}`)
      if (existing.length > 0) return false
      for (const statement of statements(join(dir, `${tag}.sql`))) await tx.execute(sql.raw(statement))
      await tx.execute(sql`INSERT INTO schema_migrations (tag) VALUES (${tag})`)
      return true
    })
    if (applied) done.push(tag)
  }
  // Fresh statistics for the new schema; PGlite has no autovacuum to gather them (see db/embedded.ts).
  if (done.length > 0) await db.execute(sql`ANALYZE`)
  return done
}

/** Reverts the most recently applied migration; returns its tag, or undefined when none is applied. */
export async function migrateDown(db: Db, dir = MIGRATIONS_DIR): Promise<string | undefined> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(${LOCK_KEY})`)
    await ensureTable(tx)
    const applied = await queryRows<{ tag: string }>(tx, sql`SELECT tag FROM schema_migrations`)
    const appliedSet = new Set(applied.map((row) => row.tag))
    const last = journal(dir)
      .filter(({ tag }) => appliedSet.has(tag))
      .pop()
    if (!last) return undefined
    for (const statement of statements(join(dir, 'down', `${last.tag}.sql`)))
      await tx.execute(sql.raw(statement))
    await tx.execute(sql`DELETE FROM schema_migrations WHERE tag = ${last.tag}`)
    return last.tag
  })
}
