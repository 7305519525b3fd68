import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { seedDemo, signInInstructions } from '../src/seed/demo.js'
import { API, buildTestApp } from './helpers.js'

interface Deal {
  id: string
  title: string
  status: string
  stage: string
  amount: string
  currency: string
  weighted_amount: string
  expected_close_date: string | null
  lost_reason: string | null
  closed_at: string | null
  created_at: string
  stage_changed_at: string
}
interface Stay {
  stage: string
  entered_at: string
  exited_at: string | null
  duration_seconds: number | null
}

const DAY_MS = 86_400_000
const cents = (amount: string) => Math.round(Number(amount) * 100)
const money = (total: number) => (total / 100).toFixed(2)
const sum = (values: string[]) => money(values.reduce((total, value) => total + cents(value), 0))
const days = (from: string, to: string) => (Date.parse(to) - Date.parse(from)) / DAY_MS

describe('npm run seed (src/seed/demo.ts) on the test database', () => {
  let app: FastifyInstance
  before(async () => {
    app = await buildTestApp()
  })
  after(() => app.close())

  it('fills a demo organization through the API, prints a working sign-in, and writes nothing when re-run', async () => {
    const email = `owner-${randomUUID()}@seed.example.test`
    const seeded = await seedDemo(app, { email })
    assert.equal(seeded.created, true)

    // The printed credentials work.
    const login = await app.inject({
      method: 'POST',
      url: `${API}/auth/login`,
      payload: { email, password: seeded.password },
    })
    assert.equal(login.statusCode, 200, login.body)
    const headers = {
      authorization: `Bearer ${login.json().access_token}`,
      'x-organization-id': seeded.organizationId,
    }
    const get = async (url: string) => {
      const response = await app.inject({ method: 'GET', url: `${API}${url}`, headers })
      assert.equal(response.statusCode, 200, `${url}: ${response.body}`)
      return response.json()
    }
    const members = await get(`/organizations/${seeded.organizationId}/members`)
    assert.deepEqual(members.map((m: { role: string }) => m.role).sort(), [
      'admin',
      'manager',
      'member',
      'owner',
    ])
    assert.equal((await get('/contacts?page_size=100')).total, seeded.counts.contacts)
    const deals = (await get('/deals?page_size=100')).items as Deal[]
    assert.equal(deals.length, seeded.counts.deals)
    assert.deepEqual(
      new Set(deals.map((deal) => deal.status)),
      new Set(['new', 'in_progress', 'won', 'lost']),
    )
    assert.deepEqual(
      new Set(deals.map((deal) => deal.stage)),
      new Set(['qualification', 'proposal', 'negotiation', 'closed']),
    )
    assert.equal((await get('/tasks?page_size=100')).total, seeded.counts.tasks)
    // Stage and status changes went through the deal operations: the feed shows them, with the comments.
    const withComments = deals.find((deal) => deal.title === 'Cold-chain pilot, 3 warehouses')
    assert.equal(withComments?.stage, 'negotiation')
    const feed = await get(`/deals/${withComments?.id}/activities?page_size=100`)
    const types = new Set(feed.items.map((activity: { type: string }) => activity.type))
    for (const type of ['stage_changed', 'status_changed', 'comment', 'task_created']) {
      assert.ok(types.has(type), type)
    }

    const again = await seedDemo(app, { email })
    assert.equal(again.created, false)
    assert.equal(again.organizationId, seeded.organizationId)
    assert.equal(
      (await get('/contacts?page_size=100')).total,
      seeded.counts.contacts,
      'nothing written twice',
    )
    assert.equal((await get('/deals?page_size=100')).total, seeded.counts.deals, 'nothing written twice')
    const printed = signInInstructions(again, 'http://localhost:8000')
    assert.ok(
      printed.includes(email) && printed.includes(seeded.password) && printed.includes(seeded.organizationId),
    )
    assert.match(signInInstructions(seeded, 'http://localhost:8000'), /\d+ companies, \d+ contacts/)
  })

  it('seeds the v1.1 sales model: companies, close dates, lost reasons, currencies and months of stage history', async () => {
    const email = `owner-${randomUUID()}@seed.example.test`
    const seeded = await seedDemo(app, { email })
    const login = await app.inject({
      method: 'POST',
      url: `${API}/auth/login`,
      payload: { email, password: seeded.password },
    })
    const headers = {
      authorization: `Bearer ${login.json().access_token}`,
      'x-organization-id': seeded.organizationId,
    }
    const get = async (url: string) => {
      const response = await app.inject({ method: 'GET', url: `${API}${url}`, headers })
      assert.equal(response.statusCode, 200, `${url}: ${response.body}`)
      return response.json()
    }

    // Companies with domains; contacts linked to them (one on their own), and deals found through them.
    const companies = (await get('/companies?page_size=100')).items as { id: string; domain: string | null }[]
    assert.equal(companies.length, seeded.counts.companies)
    assert.ok(companies.length >= 5)
    for (const company of companies) assert.match(String(company.domain), /^[a-z0-9-]+\.[a-z]+$/)
    const contacts = (await get('/contacts?page_size=100')).items as { company_id: string | null }[]
    const linked = contacts.filter((contact) => contact.company_id !== null)
    assert.ok(linked.length > contacts.length / 2, 'most contacts work for a company')
    assert.ok(linked.length < contacts.length, 'one contact on their own')
    assert.deepEqual(
      new Set(linked.map((contact) => contact.company_id)),
      new Set(companies.map((company) => company.id)),
      'every company has a contact',
    )
    const sakura = companies.find((company) => company.domain === 'sakura-logistics.example')
    assert.equal((await get(`/contacts?company_id=${sakura?.id}`)).items.length, 2)
    assert.ok((await get(`/deals?company_id=${sakura?.id}`)).items.length >= 2)

    const { default_currency: defaultCurrency } = await get(`/organizations/${seeded.organizationId}`)
    const deals = (await get('/deals?page_size=100')).items as Deal[]
    const now = Date.now()
    const today = new Date().toISOString().slice(0, 10)

    // Currencies: mostly the organization's default, a couple of others.
    const byCurrency = new Map<string, Deal[]>()
    for (const deal of deals) byCurrency.set(deal.currency, [...(byCurrency.get(deal.currency) ?? []), deal])
    assert.ok(byCurrency.size >= 3, [...byCurrency.keys()].join())
    assert.ok((byCurrency.get(defaultCurrency)?.length ?? 0) > deals.length / 2, 'mostly the default')

    // Expected close dates in the past and the future, and deals without one.
    const closeDates = deals.flatMap((deal) => deal.expected_close_date ?? [])
    assert.ok(closeDates.some((date) => date < today))
    assert.ok(closeDates.some((date) => date > today))
    assert.ok(closeDates.length < deals.length)

    // Lost deals say why; the others have no reason. Won and lost deals have closed.
    const lost = deals.filter((deal) => deal.status === 'lost')
    assert.ok(lost.length >= 2)
    for (const deal of lost) assert.ok((deal.lost_reason ?? '').length > 5, deal.title)
    for (const deal of deals.filter((deal) => deal.status !== 'lost')) assert.equal(deal.lost_reason, null)
    assert.ok(deals.filter((deal) => deal.status === 'won').length >= 3)
    for (const deal of deals) {
      assert.equal(deal.closed_at !== null, deal.status === 'won' || deal.status === 'lost', deal.title)
    }

    // History over months: created up to months ago, moved through the pipeline over weeks. Each history is
    // chained from creation to the current stage and agrees with the deal's stage_changed/status_changed feed.
    const oldest = Math.max(...deals.map((deal) => (now - Date.parse(deal.created_at)) / DAY_MS))
    assert.ok(oldest > 90, `oldest deal ${oldest} days`)
    const histories = new Map<string, Stay[]>()
    let multiDayStays = 0
    for (const deal of deals) {
      const stays = (await get(`/deals/${deal.id}/stage-history`)).items as Stay[]
      histories.set(deal.id, stays)
      assert.equal(stays[0]?.entered_at, deal.created_at, deal.title)
      const last = stays[stays.length - 1] as Stay
      assert.equal(last.stage, deal.stage, deal.title)
      assert.equal(last.entered_at, deal.stage_changed_at, deal.title)
      assert.equal(last.exited_at, null, deal.title)
      for (const [index, stay] of stays.slice(0, -1).entries()) {
        assert.equal(stay.exited_at, stays[index + 1]?.entered_at, deal.title)
        if ((stay.duration_seconds ?? 0) > 86_400) multiDayStays++
      }
      const feed = (await get(`/deals/${deal.id}/activities?page_size=100`)).items as {
        type: string
        payload: { new_stage?: string; new_status?: string }
        created_at: string
      }[]
      const moves = feed.filter((activity) => activity.type === 'stage_changed').reverse()
      assert.deepEqual(
        moves.map((move) => [move.payload.new_stage, move.created_at]),
        stays.slice(1).map((stay) => [stay.stage, stay.entered_at]),
        deal.title,
      )
      if (deal.closed_at) {
        const closing = feed.find(
          (activity) => activity.type === 'status_changed' && activity.payload.new_status === deal.status,
        )
        assert.equal(closing?.created_at, deal.closed_at, deal.title)
      }
    }
    assert.ok(multiDayStays >= 10, `${multiDayStays} stays of more than a day`)

    // The analytics show real figures, and they equal a recount of the deals (the aggregates stayed exact
    // when the timeline was moved into the past).
    const summary = await get('/analytics/deals/summary')
    assert.equal(summary.currency, defaultCurrency)
    const inCurrency = deals.filter((deal) => deal.currency === defaultCurrency)
    const open = inCurrency.filter((deal) => deal.status === 'new' || deal.status === 'in_progress')
    for (const status of ['new', 'in_progress', 'won', 'lost']) {
      const count = deals.filter((deal) => deal.status === status).length
      assert.ok(count > 0, status)
      assert.deepEqual(summary.by_status[status], {
        count,
        total_amount: sum(inCurrency.filter((deal) => deal.status === status).map((deal) => deal.amount)),
      })
    }
    assert.ok(cents(summary.by_status.won.total_amount) > 0)
    assert.ok(cents(summary.average_won_amount) > 0)
    assert.ok(summary.win_rate > 0 && summary.win_rate < 1, String(summary.win_rate))
    assert.deepEqual(
      summary.currencies,
      [...byCurrency]
        .map(([currency, list]) => ({ currency, count: list.length }))
        .sort((a, b) => b.count - a.count || (a.currency < b.currency ? -1 : 1)),
    )
    const openEverywhere = deals.filter((deal) => deal.status === 'new' || deal.status === 'in_progress')
    assert.deepEqual(summary.pipeline, {
      open_count: open.length,
      open_amount: sum(open.map((deal) => deal.amount)),
      weighted_amount: sum(open.map((deal) => deal.weighted_amount)),
      by_stage: ['qualification', 'proposal', 'negotiation', 'closed'].map((stage) => {
        const column = open.filter((deal) => deal.stage === stage)
        return {
          stage,
          count: openEverywhere.filter((deal) => deal.stage === stage).length,
          currency_count: column.length,
          amount: sum(column.map((deal) => deal.amount)),
          weighted_amount: sum(column.map((deal) => deal.weighted_amount)),
        }
      }),
    })
    assert.ok(cents(summary.pipeline.weighted_amount) > 0)
    const recent = deals.filter((deal) => now - Date.parse(deal.created_at) < 30 * DAY_MS).length
    assert.ok(recent > 0 && recent < deals.length)
    assert.deepEqual(summary.new_deals_last_n_days, { count: recent, days: 30 })

    const forecast = await get('/analytics/deals/forecast')
    assert.equal(forecast.currency, defaultCurrency)
    const months = forecast.months.map((month: { month: string }) => month.month) as string[]
    assert.equal(months.length, 6)
    const bucket = (list: Deal[]) => ({
      count: list.length,
      amount: sum(list.map((deal) => deal.amount)),
      weighted_amount: sum(list.map((deal) => deal.weighted_amount)),
    })
    const openIn = (month: string) => open.filter((deal) => deal.expected_close_date?.slice(0, 7) === month)
    const wonIn = (month: string) =>
      inCurrency.filter((deal) => deal.status === 'won' && deal.closed_at?.slice(0, 7) === month)
    assert.deepEqual(
      forecast.months,
      months.map((month) => ({
        month,
        open_count: openIn(month).length,
        open_amount: sum(openIn(month).map((deal) => deal.amount)),
        weighted_amount: sum(openIn(month).map((deal) => deal.weighted_amount)),
        won_count: wonIn(month).length,
        won_amount: sum(wonIn(month).map((deal) => deal.amount)),
      })),
    )
    assert.deepEqual(
      forecast.overdue,
      bucket(open.filter((deal) => deal.expected_close_date && deal.expected_close_date < `${months[0]}-01`)),
    )
    assert.deepEqual(forecast.unscheduled, bucket(open.filter((deal) => deal.expected_close_date === null)))
    const scheduled = forecast.months.filter((month: { open_count: number }) => month.open_count > 0)
    assert.ok(scheduled.length >= 3, 'open deals close over several months')
    assert.ok(forecast.months[0].won_count > 0, 'a deal won this month')
    assert.ok(forecast.overdue.count > 0 && forecast.unscheduled.count > 0)

    const velocity = await get('/analytics/deals/velocity')
    assert.equal(velocity.days, 90)
    const since = now - 90 * DAY_MS
    for (const stage of velocity.stages as {
      stage: string
      exits: number
      avg_days: number | null
      median_days: number | null
    }[]) {
      const ended = [...histories.values()]
        .flat()
        .filter((stay) => stay.stage === stage.stage && stay.exited_at && Date.parse(stay.exited_at) >= since)
      assert.equal(stage.exits, ended.length, stage.stage)
      if (stage.stage === 'closed') continue // nothing leaves closed
      assert.ok(stage.exits > 0, stage.stage)
      const average = ended.reduce((total, stay) => total + days(stay.entered_at, stay.exited_at ?? ''), 0)
      assert.ok(Math.abs((stage.avg_days ?? 0) - average / ended.length) <= 0.01, stage.stage)
      assert.ok((stage.avg_days ?? 0) > 1 && (stage.median_days ?? 0) > 1, JSON.stringify(stage))
    }
    const won = deals.filter(
      (deal) => deal.status === 'won' && deal.closed_at && Date.parse(deal.closed_at) >= since,
    )
    assert.ok(won.length > 0 && won.length < deals.filter((deal) => deal.status === 'won').length)
    assert.equal(velocity.won.count, won.length)
    const toClose = won.reduce((total, deal) => total + days(deal.created_at, deal.closed_at ?? ''), 0)
    assert.ok(Math.abs(velocity.won.avg_days_to_close - toClose / won.length) <= 0.01)
    assert.ok(velocity.won.avg_days_to_close > 1 && velocity.won.median_days_to_close > 1)
  })
})
