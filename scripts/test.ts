/**
 * `npm test`: runs every test file with node's test runner, and the console's browser tests (web/e2e) when a
 * Chromium is installed (CHROMIUM_PATH, default /usr/bin/chromium; CI installs it and sets CONSOLE_E2E=required
 * so a missing browser fails instead of being passed over). The console is built first for them.
 * With DATABASE_URL set, a fresh database is created on that server for this run (migrated once, dropped
 * afterwards); without it, each test file gets its own in-memory PGlite.
 * Extra arguments are test files to run instead of all of them.
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
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

const explicit = process.argv.slice(2).length > 0
const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const browserTests = explicit
  ? []
  : readdirSync(join('web', 'e2e'))
      .filter((file) => file.endsWith('.e2e.ts'))
      .map((file) => join('web', 'e2e', file))
if (browserTests.length > 0 && !existsSync(chromium)) {
  console.log(`Browser tests (web/e2e) not run: no Chromium at ${chromium} (apt-get install -y chromium)`)
  if (process.env.CONSOLE_E2E === 'required') process.exit(1)
  browserTests.length = 0
}
if (browserTests.length > 0 || files.some((file) => file.endsWith('.e2e.ts'))) {
  const build = spawnSync('npm', ['run', 'build:web', '--silent'], { stdio: 'inherit' })
  if (build.status !== 0) process.exit(build.status ?? 1)
}
// The browser tests first: the longest file starts at once instead of last.
files.unshift(...browserTests)

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
