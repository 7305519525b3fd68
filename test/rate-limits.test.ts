import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { API, addMember, as, auth, buildTestApp, expectProblem, register } from './helpers.js'
import { instances, until } from './integration-helpers.js'

describe('rate limits of authenticated requests (RATE_LIMIT_PER_MINUTE)', () => {
  it('announce the policy, count down, then answer 429 with Retry-After', async () => {
    const app = await buildTestApp({ config: { rateLimitPerMinute: 3 } })
    try {
      const user = await register(app)
      const client = as(app, user, user.organizationId)
      for (const remaining of [2, 1, 0]) {
        const response = await client.get('/contacts')
        assert.equal(response.statusCode, 200)
        assert.equal(response.headers['ratelimit-policy'], '"default";q=3;w=60')
        assert.match(String(response.headers.ratelimit), new RegExp(`^"default";r=${remaining};t=\\d+$`))
      }
      const limited = await client.post('/contacts', { name: 'x' })
      expectProblem(limited, 429, 'RATE_LIMITED')
      const retryAfter = Number(limited.headers['retry-after'])
      assert.ok(retryAfter >= 1 && retryAfter <= 60)
      assert.match(String(limited.headers.ratelimit), /^"default";r=0;t=\d+$/)
      // Public routes are not counted and carry no headers.
      const health = await app.inject({ method: 'GET', url: '/health' })
      assert.equal(health.headers['ratelimit-policy'], undefined)
    } finally {
      await app.close()
    }
  })

  it('count per user and organization; requests without one count under the user; an API key as its user', async () => {
    const app = await buildTestApp({ config: { rateLimitPerMinute: 2 } })
    try {
      const owner = await register(app)
      const other = await register(app)
      // 1 request of `other` in its organization (the invitation), 1 of `owner` without one (the accept).
      await addMember(app, other, other.organizationId, owner, 'manager')
      const key = (await as(app, owner, owner.organizationId).post('/api-keys', { name: 'k' })).json().key
      // The key's request is the owner's second in this organization.
      const viaKey = await app.inject({
        method: 'GET',
        url: `${API}/contacts`,
        headers: { authorization: `Bearer ${key}` },
      })
      assert.match(String(viaKey.headers.ratelimit), /r=0;/)
      expectProblem(await as(app, owner, owner.organizationId).get('/contacts'), 429, 'RATE_LIMITED')
      // Another organization and no organization have counters of their own.
      assert.equal((await as(app, owner, other.organizationId).get('/contacts')).statusCode, 200)
      assert.equal((await as(app, owner).get('/organizations/me')).statusCode, 200) // after the accept: 2 of 2
      expectProblem(await as(app, owner).get('/auth/me'), 429, 'RATE_LIMITED')
    } finally {
      await app.close()
    }
  })

  it('0 turns the limit off', async () => {
    const app = await buildTestApp({ config: { rateLimitPerMinute: 0 } })
    try {
      const user = await register(app)
      const response = await app.inject({
        method: 'GET',
        url: `${API}/contacts`,
        headers: auth(user, user.organizationId),
      })
      assert.equal(response.statusCode, 200)
      assert.equal(response.headers['ratelimit-policy'], undefined)
      assert.equal(response.headers.ratelimit, undefined)
    } finally {
      await app.close()
    }
  })

  it('is shared by the instances through Redis', {
    skip: !process.env.REDIS_URL && 'needs REDIS_URL',
  }, async () => {
    const cluster = await instances(2, { config: { redisUrl: process.env.REDIS_URL, rateLimitPerMinute: 4 } })
    try {
      const [a, b] = cluster.apps as [FastifyInstance, FastifyInstance]
      await until(() => a.redis?.isReady === true && b.redis?.isReady === true, 'redis is ready')
      const user = await register(a)
      const statuses: number[] = []
      for (const target of [a, b, a, b, a, b]) {
        statuses.push((await as(target, user, user.organizationId).get('/contacts')).statusCode)
      }
      assert.deepEqual(statuses, [200, 200, 200, 200, 429, 429])
    } finally {
      await cluster.close()
    }
  })
})
