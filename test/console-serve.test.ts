import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { CONSOLE_CSP } from '../src/console/serve.js'
import { buildTestApp } from './helpers.js'

// A built console of our own (web/dist may not be built when this runs): an index page and one hashed asset.
const directory = mkdtempSync(join(tmpdir(), 'console-dist-'))
mkdirSync(join(directory, 'assets'))
writeFileSync(join(directory, 'index.html'), '<!doctype html><title>Mini-CRM</title><div id="root"></div>')
writeFileSync(join(directory, 'assets', 'index-abc123.js'), 'console.log("console")')
writeFileSync(join(directory, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>')

let app: FastifyInstance
before(async () => {
  process.env.CONSOLE_DIR = directory
  app = await buildTestApp({ console: true })
})
after(async () => {
  await app.close()
  delete process.env.CONSOLE_DIR
  rmSync(directory, { recursive: true, force: true })
})

describe('the console served at /', () => {
  it('answers the app at / and at every console path, with its own CSP and no caching', async () => {
    for (const url of [
      '/',
      '/deals/0192f1c2-0000-7000-8000-000000000000',
      '/settings/webhooks',
      '/invite?token=x',
    ]) {
      const response = await app.inject({ url, headers: { accept: 'text/html' } })
      assert.equal(response.statusCode, 200, url)
      assert.match(response.headers['content-type'] as string, /^text\/html/)
      assert.match(response.body, /<div id="root">/)
      assert.equal(response.headers['content-security-policy'], CONSOLE_CSP)
      assert.equal(response.headers['cache-control'], 'no-cache')
    }
    // Only the console's own origin: no inline scripts or styles, no other host, no framing.
    assert.match(CONSOLE_CSP, /script-src 'self'(;|$)/)
    assert.match(CONSOLE_CSP, /style-src 'self'(;|$)/)
    assert.match(CONSOLE_CSP, /frame-ancestors 'none'/)
  })

  it('serves hashed assets for a year and other files revalidated', async () => {
    const asset = await app.inject({ url: '/assets/index-abc123.js' })
    assert.equal(asset.statusCode, 200)
    assert.match(asset.headers['cache-control'] as string, /max-age=31536000, immutable/)
    const icon = await app.inject({ url: '/favicon.svg' })
    assert.equal(icon.statusCode, 200)
    assert.equal(icon.headers['cache-control'], 'no-cache')
  })

  it('keeps problem+json 404s for API paths, missing assets and other methods', async () => {
    for (const [method, url] of [
      ['GET', '/api/v1/nothing-here'],
      ['GET', '/assets/missing.js'],
      ['GET', '/docs/nothing'],
      ['POST', '/deals'],
      ['DELETE', '/'],
    ] as const) {
      const response = await app.inject({ method, url })
      assert.equal(response.statusCode, 404, `${method} ${url}`)
      assert.match(response.headers['content-type'] as string, /^application\/problem\+json/)
      assert.equal(response.json().code, 'NOT_FOUND')
    }
  })

  it('needs no token: the console loads signed out', async () => {
    const response = await app.inject({ url: '/login' })
    assert.equal(response.statusCode, 200)
  })
})
