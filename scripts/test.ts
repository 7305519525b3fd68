/**
 * `npm test`: runs every test file with node's test runner.
 * With DATABASE_URL set, a fresh database is created on that server for this run (migrated once, dropped
 * afterwards); without it, each test file gets its own in-memory PGlite.
 * Extra arguments are test files to run instead of all of them.
 */
import { spawn } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import { openDatabase } from '../src/db/client.js'
import { migrateUp } from '../src/db/migrate.js'

const files =
  process.argv.slice(2).length > 0
    ? process.argv.slice(2)
    : readdirSync('test', { recursive: true })
        .map(String)
        .filter((file) => file.endsWith('.test.ts'))
        .sort()
        .map((file) => join('test', file))

const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'test' }
let dropDatabase: (() => Promise<void>) | undefined

if (process.env.DATABASE_URL) {
  const serverUrl = new URL(process.env.DATABASE_URL)
  const name = `mini_crm_test_${Date.now()}_${Math.floor(Math.random() * 1e6)}`
  const admin = new pg.Client({ connectionString: serverUrl.toString() })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  const testUrl = new URL(serverUrl)
  testUrl.pathname = `/${name}`
  const database = await openDatabase({ url: testUrl.toString(), poolSize: 1 })
  await migrateUp(database.db)
  await database.close()
  env.TEST_DATABASE_URL = testUrl.toString()
  console.log(`Tests on PostgreSQL, fresh database ${name}`)
  dropDatabase = async () => {
    const client = new pg.Client({ connectionString: serverUrl.toString() })
    await client.connect()
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await client.end()
  }
} else {
  console.log('Tests on embedded PGlite (in memory, one database per test file)')
}

const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=3', ...files],
  { stdio: 'inherit', env },
)
const code: number = await new Promise((resolve) => child.on('exit', (status) => resolve(status ?? 1)))
await dropDatabase?.()
process.exit(code)
