import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { ConfigError, loadConfig, loadDotEnv } from './config.js'
import { drainAndClose } from './lib/drain.js'
import { boundHeapGrowth } from './lib/heap.js'
import { StartupError } from './lib/startup-error.js'

boundHeapGrowth()
loadDotEnv()
let config: ReturnType<typeof loadConfig>
try {
  config = loadConfig()
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message)
    process.exit(1)
  }
  throw error
}

let app: Awaited<ReturnType<typeof buildApp>>
try {
  app = await buildApp({ config })
} catch (error) {
  // An operator's problem (database unreachable, data folder in use): one line, no stack.
  if (error instanceof StartupError) {
    console.error(`mini-crm cannot start: ${error.message}`)
    process.exit(1)
  }
  throw error
}

// SIGTERM/SIGINT: stop accepting, let in-flight requests finish, close the pool, exit 0.
closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
  if (err) app.log.error({ err }, 'closing after an unexpected error')
  else app.log.info({ signal }, 'shutting down')
  await drainAndClose(app)
})

try {
  await app.listen({ port: config.port, host: config.host })
  app.log.info(
    { database: config.databaseUrl ? 'postgresql' : 'pglite (./data)', redis: Boolean(config.redisUrl) },
    `docs at http://localhost:${config.port}/docs`,
  )
} catch (error) {
  app.log.error({ err: error }, 'failed to start')
  process.exit(1)
}
