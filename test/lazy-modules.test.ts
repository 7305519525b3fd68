/**
 * Libraries a deployment does not use stay unloaded: their sources and objects would otherwise sit in every
 * process's heap (src/db/client.ts, src/db/load-pg.ts, src/lib/mailer.ts, src/lib/redis.ts, the CSV modules).
 * A child process builds the whole app and lists every module it loaded (ES modules through a resolve hook,
 * CommonJS through the require cache, Node's own through `process.moduleLoadList`).
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { describe, it } from 'node:test'
import { promisify } from 'node:util'

const run = promisify(execFile)
const DATABASE_URL = process.env.TEST_DATABASE_URL
const REDIS_URL = process.env.REDIS_URL

/** Every module URL or path the app loaded while it started and stopped with this configuration. */
async function modulesLoaded(config: { smtpUrl?: string; redisUrl?: string }): Promise<string[]> {
  const hooks = `let port
    export function initialize(data) { port = data.port }
    export async function resolve(specifier, context, next) {
      const resolved = await next(specifier, context)
      port.postMessage(resolved.url)
      return resolved
    }`
  const script = `
    import { createRequire, register } from 'node:module'
    import { MessageChannel } from 'node:worker_threads'
    const { port1, port2 } = new MessageChannel()
    const loaded = new Set()
    port1.on('message', (url) => loaded.add(url))
    register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hooks)}), {
      data: { port: port2 },
      transferList: [port2],
    })
    const { buildTestApp } = await import(${JSON.stringify(import.meta.resolve('./helpers.ts'))})
    const app = await buildTestApp({ config: ${JSON.stringify(config)} })
    await app.ready()
    await app.close()
    await new Promise((done) => setTimeout(done, 100))
    port1.close()
    for (const path of Object.keys(createRequire(import.meta.url).cache)) loaded.add(path)
    for (const name of process.moduleLoadList) loaded.add(name)
    console.log(JSON.stringify([...loaded]))`
  const { stdout } = await run(
    process.execPath,
    ['--import', import.meta.resolve('tsx'), '--input-type=module', '--eval', script],
    { env: { ...process.env, NODE_OPTIONS: '' }, maxBuffer: 64 * 1024 * 1024 },
  )
  return JSON.parse(stdout.trim().split('\n').at(-1) as string) as string[]
}

const packageLoaded = (modules: string[], name: string) =>
  modules.some((module) => module.includes(`/node_modules/${name}/`))

describe('modules loaded at start', () => {
  it('the embedded database only without DATABASE_URL, nodemailer only with SMTP_URL', async () => {
    const modules = await modulesLoaded({})
    assert.ok(packageLoaded(modules, 'fastify'), 'the hook sees what the app loads')
    assert.equal(packageLoaded(modules, '@electric-sql/pglite'), DATABASE_URL === undefined)
    assert.equal(packageLoaded(modules, 'drizzle-orm/pglite'), DATABASE_URL === undefined)
    assert.equal(packageLoaded(modules, 'nodemailer'), false, 'nodemailer is loaded without SMTP_URL')

    const withSmtp = await modulesLoaded({ smtpUrl: 'smtp://127.0.0.1:1' })
    assert.ok(packageLoaded(withSmtp, 'nodemailer'), 'nodemailer is loaded with SMTP_URL')
  })

  it("pg without Node's fetch, and the CSV libraries only when a request needs them", async () => {
    const modules = await modulesLoaded({})
    assert.ok(packageLoaded(modules, 'pg'), 'the hook sees pg (drizzle imports it)')
    // Node 20 loads undici when pg, loading, constructs a Response; later versions answer before (load-pg.ts).
    const undici = 'NativeModule internal/deps/undici/undici'
    assert.equal(modules.includes(undici), false, "Node's fetch is loaded")
    assert.equal(packageLoaded(modules, 'csv-parse'), false, 'csv-parse is loaded at start')
    assert.equal(packageLoaded(modules, 'csv-stringify'), false, 'csv-stringify is loaded at start')
  })

  it('the Redis client without the modules of the redis bundle', {
    skip: !REDIS_URL && 'REDIS_URL is not set',
  }, async () => {
    assert.equal(
      packageLoaded(await modulesLoaded({}), '@redis/client'),
      false,
      'no Redis client without REDIS_URL',
    )
    const modules = await modulesLoaded({ redisUrl: REDIS_URL as string })
    assert.ok(packageLoaded(modules, '@redis/client'))
    for (const unused of ['redis', '@redis/search', '@redis/json', '@redis/bloom', '@redis/time-series']) {
      assert.equal(packageLoaded(modules, unused), false, `${unused} is loaded`)
    }
  })
})
