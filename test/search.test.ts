import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import {
  as,
  buildTestApp,
  createContact,
  createDeal,
  expectProblem,
  organizationWithRoles,
  register,
} from './helpers.js'

let app: FastifyInstance
before(async () => {
  app = await buildTestApp()
})
after(() => app.close())

describe('GET /search', () => {
  it('finds contacts by name, email or phone and deals by title; prefix matches first, then similarity, then id', async () => {
    const { organizationId, owner, member } = await organizationWithRoles(app)
    const zed = await createContact(app, owner, organizationId, {
      name: 'Zed Orbison',
      email: 'z@orbit.test',
    })
    const orb = await createContact(app, owner, organizationId, { name: 'Orb', email: null })
    const longer = await createContact(app, owner, organizationId, { name: 'Orbital Mechanics Ltd' })
    const byEmail = await createContact(app, owner, organizationId, {
      name: 'Nobody',
      email: 'nobody@orb.test',
    })
    const byPhone = await createContact(app, owner, organizationId, { name: 'Phoned', phone: '+1 555 0199' })
    const deal = await createDeal(app, owner, organizationId, { title: 'Orbit renewal', contact_id: zed.id })
    await createContact(app, owner, organizationId, { name: 'Unrelated' })

    const response = await as(app, member, organizationId).get('/search?q=ORB')
    assert.equal(response.statusCode, 200, response.body)
    const items = response.json().items as {
      type: string
      id: string
      title: string
      subtitle: string | null
    }[]
    const ids = items.map((item) => item.id)
    // Title prefix matches (Orb, Orbit renewal, Orbital Mechanics Ltd) come before the rest.
    const prefixed = new Set([orb.id, longer.id, deal.id])
    assert.deepEqual(new Set(ids.slice(0, 3)), prefixed)
    assert.ok(ids.includes(zed.id) && ids.includes(byEmail.id))
    assert.equal(ids.length, 5, 'Unrelated and Phoned do not match')
    assert.equal(ids[0], orb.id, 'the exact title is the most similar prefix match')
    assert.deepEqual(
      items.find((item) => item.id === deal.id),
      {
        type: 'deal',
        id: deal.id,
        title: 'Orbit renewal',
        subtitle: 'Zed Orbison',
      },
    )
    assert.deepEqual(
      items.find((item) => item.id === byEmail.id),
      {
        type: 'contact',
        id: byEmail.id,
        title: 'Nobody',
        subtitle: 'nobody@orb.test',
      },
    )
    // The same query gives the same order (ties broken by id).
    assert.deepEqual((await as(app, member, organizationId).get('/search?q=orb')).json().items, items)

    const phone = await as(app, owner, organizationId).get('/search?q=555%200199')
    assert.deepEqual(
      phone.json().items.map((item: { id: string }) => item.id),
      [byPhone.id],
    )
    const onlyDeals = await as(app, owner, organizationId).get('/search?q=orb&types=deals')
    assert.deepEqual(
      onlyDeals.json().items.map((item: { id: string }) => item.id),
      [deal.id],
    )
    const limited = await as(app, owner, organizationId).get('/search?q=orb&limit=2')
    assert.deepEqual(
      limited.json().items.map((item: { id: string }) => item.id),
      ids.slice(0, 2),
    )
  })

  it('treats % and _ literally and sees nothing of another organization', async () => {
    const { organizationId, owner } = await organizationWithRoles(app)
    const other = await register(app)
    const percent = await createContact(app, owner, organizationId, { name: '100% Pure_Water' })
    await createContact(app, owner, organizationId, { name: '1000 Pure Water' })
    await createContact(app, other, other.organizationId, { name: '100% Pure_Water elsewhere' })
    await createDeal(app, other, other.organizationId, { title: '100% Pure_Water deal' })
    const api = as(app, owner, organizationId)
    for (const q of ['0%25 P', 'e_W', '100%25']) {
      const response = await api.get(`/search?q=${q}`)
      assert.deepEqual(
        response.json().items.map((item: { id: string }) => item.id),
        [percent.id],
        q,
      )
    }
    const theirs = await as(app, other, other.organizationId).get('/search?q=pure_water')
    assert.equal(theirs.json().items.length, 2)
  })

  it('sees a write at once and validates its query', async () => {
    const { organizationId, owner, outsider } = await organizationWithRoles(app)
    const api = as(app, owner, organizationId)
    assert.deepEqual((await api.get('/search?q=freshly')).json().items, [])
    const contact = await createContact(app, owner, organizationId, { name: 'Freshly Added' })
    assert.deepEqual(
      (await api.get('/search?q=freshly')).json().items.map((item: { id: string }) => item.id),
      [contact.id],
    )
    for (const query of [
      '',
      'q=a',
      `q=${'x'.repeat(101)}`,
      'q=ab&limit=0',
      'q=ab&limit=51',
      'q=ab&types=people',
      'q=ab&types=',
      'q=ab&x=1',
    ]) {
      expectProblem(await api.get(`/search?${query}`), 400, 'VALIDATION_ERROR')
    }
    expectProblem(
      await as(app, outsider, organizationId).get('/search?q=freshly'),
      403,
      'ORGANIZATION_ACCESS_DENIED',
    )
  })
})
