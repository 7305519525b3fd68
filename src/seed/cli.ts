/**
 * `npm run seed [-- --email you@example.com --password …]` (or `node dist/seed/cli.js` in the image): fills a
 * demo organization on DATABASE_URL, or on the embedded database in ./data (stop the server first: the
 * embedded database has one process), and prints how to sign in. Running it again writes nothing.
 */
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { buildApp } from '../app.js'
import { ConfigError, loadConfig, loadDotEnv } from '../config.js'
import { seedDemo, signInInstructions } from './demo.js'

// The seed registers four users from one address in a second: the sign-up limits are for the public.
const LIFTED = { limit: 1_000_000, windowMs: 60_000 }

export async function main(argv = process.argv.slice(2)): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { email: { type: 'string' }, password: { type: 'string' }, help: { type: 'boolean' } },
  })
  if (values.help) {
    console.log('usage: npm run seed [-- --email owner@example.com] [--password secret-of-8+-chars]')
    return 0
  }
  loadDotEnv()
  let config: ReturnType<typeof loadConfig>
  try {
    config = loadConfig()
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message)
      return 1
    }
    throw error
  }
  const app = await buildApp({
    config: { ...config, logLevel: config.logLevel === 'info' ? 'warn' : config.logLevel },
    rateLimits: {
      registerPerAddress: LIFTED,
      registerPerEmail: LIFTED,
      loginPerAddress: LIFTED,
      loginPerEmail: LIFTED,
    },
  })
  try {
    const result = await seedDemo(app, {
      ...(values.email ? { email: values.email } : {}),
      ...(values.password ? { password: values.password } : {}),
    })
    const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host
    console.log(signInInstructions(result, `http://${host}:${config.port}`))
    return 0
  } catch (error) {
    console.error(`seed failed: ${error instanceof Error ? error.message : String(error)}`)
    console.error(
      'What was written stays (every step is a normal API write); run again with another --email.',
    )
    return 1
  } finally {
    await app.close()
  }
}

// Run directly (`node dist/seed/cli.js` in the image); `npm run seed` goes through scripts/seed.ts.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exit(await main())
