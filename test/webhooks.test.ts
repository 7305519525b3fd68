import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { uuidv7 } from '../src/lib/uuid.js'
import { as, buildTestApp, expectProblem, organizationWithRoles, register } from './helpers.js'

let app: FastifyInstance
let strict: FastifyInstance
before(async () => {
  // No traffic leaves these apps (no dispatcher): `app` accepts local URLs, `strict` applies the SSRF rules.
  app = await buildTestApp({ config: { webhookAllowPrivateUrls: true } })
  strict = await buildTestApp({ config: { webhookAllowPrivateUrls: false } })
})
after(async () => {
  await app.close()
  await strict.close()
})

const URL_OK = 'http://127.0.0.1:9/hook'

describe('webhook endpoints', () => {
  it('create (secret shown once), list, get, patch and delete', async () => {
    const owner = await register(app)
    const client = as(app, owner, owner.organizationId)
    const created = await client.post('/webhooks', {
      url: URL_OK,
      events: ['contact.*', 'deal.updated', 'deal.updated'],
      description: 'CRM sync',
    })
    assert.equal(created.statusCode, 201, created.body)
    const hook = created.json()
    assert.match(hook.secret, /^whsec_[A-Za-z0-9+/]{32}$/)
    assert.equal(Buffer.from(hook.secret.slice(6), 'base64').length, 24)
    assert.deepEqual(hook.events, ['contact.*', 'deal.updated'])
    assert.equal(hook.enabled, true)
    const listed = (await client.get('/webhooks')).json()
    assert.equal(listed.length, 1)
    assert.equal(listed[0].secret, undefined)
    assert.equal((await client.get(`/webhooks/${hook.id}`)).json().secret, undefined)
    const patched = await client.patch(`/webhooks/${hook.id}`, {
      enabled: false,
      events: ['*'],
      description: null,
    })
    assert.equal(patched.statusCode, 200)
    assert.deepEqual(
      {
        enabled: patched.json().enabled,
        events: patched.json().events,
        description: patched.json().description,
      },
      { enabled: false, events: ['*'], description: null },
    )
    assert.equal((await client.delete(`/webhooks/${hook.id}`)).statusCode, 204)
    expectProblem(await client.get(`/webhooks/${hook.id}`), 404, 'WEBHOOK_NOT_FOUND')
  })

  it('are for owners and admins only; another organization’s webhook is 404', async () => {
    const { organizationId, owner, admin, manager, member } = await organizationWithRoles(app)
    const hook = (
      await as(app, admin, organizationId).post('/webhooks', { url: URL_OK, events: ['*'] })
    ).json()
    assert.ok(hook.id)
    for (const user of [manager, member]) {
      expectProblem(await as(app, user, organizationId).get('/webhooks'), 403, 'FORBIDDEN')
      expectProblem(
        await as(app, user, organizationId).post('/webhooks', { url: URL_OK, events: ['*'] }),
        403,
        'FORBIDDEN',
      )
      expectProblem(await as(app, user, organizationId).post(`/webhooks/${hook.id}/ping`), 403, 'FORBIDDEN')
    }
    const stranger = await register(app)
    const foreign = as(app, stranger, stranger.organizationId)
    for (const response of [
      await foreign.get(`/webhooks/${hook.id}`),
      await foreign.patch(`/webhooks/${hook.id}`, { enabled: false }),
      await foreign.delete(`/webhooks/${hook.id}`),
      await foreign.post(`/webhooks/${hook.id}/rotate-secret`),
      await foreign.post(`/webhooks/${hook.id}/ping`),
      await foreign.get(`/webhooks/${hook.id}/deliveries`),
      await foreign.get(`/webhooks/${uuidv7()}`),
    ]) {
      expectProblem(response, 404, 'WEBHOOK_NOT_FOUND')
    }
    assert.equal((await as(app, owner, organizationId).get(`/webhooks/${hook.id}`)).statusCode, 200)
  })

  it('refuse unknown events, empty lists and bad URLs with 400', async () => {
    const owner = await register(app)
    const client = as(app, owner, owner.organizationId)
    for (const body of [
      { url: URL_OK, events: [] },
      { url: URL_OK, events: ['contact.exploded'] },
      { url: URL_OK, events: ['widget.*'] },
      { url: URL_OK, events: ['webhook.ping'] },
      { url: 'ftp://example.com/x', events: ['*'] },
      { url: 'not a url', events: ['*'] },
      { url: `https://example.com/${'a'.repeat(2048)}`, events: ['*'] },
      { url: URL_OK, events: ['*'], secret: 'mine' },
    ]) {
      expectProblem(await client.post('/webhooks', body), 400, 'VALIDATION_ERROR')
    }
    const ok = await client.post('/webhooks', {
      url: URL_OK,
      events: ['*', 'company.*', 'comment.created', 'member.removed', 'task.deleted'],
    })
    assert.equal(ok.statusCode, 201)
  })

  it('rotate-secret answers the new secret; the delivery log starts empty', async () => {
    const owner = await register(app)
    const client = as(app, owner, owner.organizationId)
    const hook = (await client.post('/webhooks', { url: URL_OK, events: ['*'], enabled: false })).json()
    const rotated = await client.post(`/webhooks/${hook.id}/rotate-secret`)
    assert.equal(rotated.statusCode, 200)
    assert.match(rotated.json().secret, /^whsec_/)
    assert.notEqual(rotated.json().secret, hook.secret)
    const log = await client.get(`/webhooks/${hook.id}/deliveries?status=pending`)
    assert.deepEqual(log.json(), { items: [], total: 0, page: 1, page_size: 20, pages: 0, next_cursor: null })
    expectProblem(await client.get(`/webhooks/${hook.id}/deliveries?status=lost`), 400, 'VALIDATION_ERROR')
    expectProblem(await client.post(`/webhooks/${hook.id}/deliveries/${uuidv7()}/retry`), 404, 'NOT_FOUND')
  })
})

describe('webhook URLs and SSRF (WEBHOOK_ALLOW_PRIVATE_URLS off)', () => {
  const refused = [
    'http://127.0.0.1/hook',
    'http://127.8.9.10:8080/hook',
    'http://localhost:18799/hook', // a name that resolves to 127.0.0.1
    'https://LOCALHOST/hook',
    'http://[::1]/hook',
    'http://[::ffff:127.0.0.1]/hook',
    'http://[::ffff:7f00:1]/hook',
    'http://0.0.0.0/hook',
    'http://[::]/hook',
    'http://10.1.2.3/hook',
    'http://172.16.0.1/hook',
    'http://192.168.1.1/hook',
    'http://169.254.169.254/latest/meta-data',
    'http://[fe80::1]/hook',
    'http://[fd00::1]/hook',
    'http://2130706433/hook', // 127.0.0.1 written as one number
  ]

  it('refuses loopback, private, link-local and unspecified targets at creation', async () => {
    const owner = await register(strict)
    const client = as(strict, owner, owner.organizationId)
    for (const url of refused) {
      expectProblem(await client.post('/webhooks', { url, events: ['*'] }), 400, 'WEBHOOK_URL_NOT_ALLOWED')
    }
  })

  it('and on update; a name that does not resolve is accepted', async () => {
    const owner = await register(strict)
    const client = as(strict, owner, owner.organizationId)
    const created = await client.post('/webhooks', {
      url: 'https://hooks.mini-crm-test.invalid/in',
      events: ['*'],
      enabled: false,
    })
    assert.equal(created.statusCode, 201, created.body)
    for (const url of ['http://localhost/x', 'http://10.0.0.1/x']) {
      expectProblem(
        await client.patch(`/webhooks/${created.json().id}`, { url }),
        400,
        'WEBHOOK_URL_NOT_ALLOWED',
      )
    }
  })
})
