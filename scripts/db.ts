/** `npm run db:migrate | db:rollback | db:status` against DATABASE_URL, or the embedded database in ./data. */
import { join } from 'node:path'
import { loadConfig, loadDotEnv } from '../src/config.js'
import { openDatabase } from '../src/db/client.js'
import { migrateDown, migrateUp, migrationStatus } from '../src/db/migrate.js'
import { StartupError } from '../src/lib/startup-error.js'

loadDotEnv()
const command = process.argv[2]
const config = loadConfig()
const database = await openDatabase({
  url: config.databaseUrl,
  pgliteDataDir: join(config.dataDir, 'pglite'),
}).catch((error: unknown) => {
  if (!(error instanceof StartupError)) throw error
  console.error(`db:${command}: ${error.message}`)
  process.exit(1)
})
const target = config.databaseUrl ? 'PostgreSQL' : `embedded PGlite (${join(config.dataDir, 'pglite')})`
try {
  if (command === 'migrate') {
    const applied = await migrateUp(database.db)
    console.log(
      applied.length ? `Applied on ${target}: ${applied.join(', ')}` : `Nothing to apply on ${target}`,
    )
  } else if (command === 'rollback') {
    const reverted = await migrateDown(database.db)
    console.log(reverted ? `Reverted on ${target}: ${reverted}` : `Nothing to revert on ${target}`)
  } else if (command === 'status') {
    console.log(`Migrations on ${target}:`)
    for (const { tag, applied } of await migrationStatus(database.db)) {
      console.log(`  ${applied ? '[applied]' : '[pending]'} ${tag}`)
    }
  } else {
    console.error('usage: tsx scripts/db.ts migrate|rollback|status')
    process.exitCode = 2
  }
} finally {
  await database.close()
}
