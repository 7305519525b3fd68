import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { winADeal } from '../client/examples/win-a-deal.js'
import { createCrmClient } from '../client/src/index.js'
import { buildTestApp } from './helpers.js'

describe('the typed client (client/ workspace) against a live server', () => {
  let app: FastifyInstance
  let baseUrl: string
  before(async () => {
    app = await buildTestApp()
    await app.listen({ port: 0, host: '127.0.0.1' })
    baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  })
  after(() => app.close())

  it('runs the example program: register, create a contact and a deal, win it', async () => {
    const deal = await winADeal(baseUrl)
    assert.equal(deal.status, 'won')
    assert.equal(deal.stage, 'closed')
    assert.equal(deal.amount, '12500.00')
    assert.equal(deal.currency, 'GBP')
  })

  it('answers errors as typed problem bodies', async () => {
    const crm = createCrmClient({ baseUrl })
    const { data, error, response } = await crm.GET('/api/v1/auth/me')
    assert.equal(data, undefined)
    assert.equal(response.status, 401)
    assert.equal(error?.code, 'UNAUTHORIZED')
    assert.equal(error?.request_id, response.headers.get('x-request-id'))
  })
})
