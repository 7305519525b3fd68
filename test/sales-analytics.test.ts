import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { sql } from 'drizzle-orm'
import type { FastifyInstance } from 'fastify'
import { queryRows } from '../src/db/client.js'
import { dealVelocity } from '../src/features/analytics/metrics.js'
import type { VelocityRow } from '../src/features/analytics/queries.js'
import { byStage } from './analytics-fixtures.js'
import {
  as,
  buildTestApp,
  createContact,
  createDeal,
  expectProblem,
  organizationWithRoles,
  register,
  type TestUser,
} from './helpers.js'
import { assertValidationError, WRITE_ROLES } from './record-helpers.js'

let app: FastifyInstance
before(async () => {
  app = await buildTestApp()
})
after(() => app.close())

const OPEN = new Set(['new', 'in_progress'])

function cents(amount: string): bigint {
  const [whole = '0', fraction = ''] = amount.split('.')
  return BigInt(whole + fraction.padEnd(2, '0').slice(0, 2))
}
function money(value: bigint): string {
  const digits = value.toString().padStart(3, '0')
  return `${digits.slice(0, -2)}.${digits.slice(-2)}`
}
/** round(cents × p / 100) half up, in integers. */
function weightedCents(amount: string, probability: number): bigint {
  return (cents(amount) * BigInt(probability) * 2n + 100n) / 200n
}

interface DealRow {
  currency: string
  status: string
  stage: string
  amount: string
  expected_close_date: string | null
  closed_month: string | null
}

/** Every deal of the organization straight from the table, for a full recount done here in BigInt. */
async function dealsOf(organizationId: string): Promise<DealRow[]> {
  return queryRows<DealRow>(
    app.db.db,
    sql`SELECT currency, status, stage, amount::text AS amount, expected_close_date::text AS expected_close_date,
               to_char(closed_at AT TIME ZONE 'UTC', 'YYYY-MM') AS closed_month
        FROM deals WHERE organization_id = ${organizationId}`,
  )
}

async function probabilities(user: TestUser, organizationId: string): Promise<Record<string, number>> {
  const pipeline = (await as(app, user, organizationId).get('/pipeline')).json()
  return Object.fromEntries(
    pipeline.stages.map((s: { stage: string; probability: number }) => [s.stage, s.probability]),
  )
}

/** The summary's v1.1 fields and the funnel's stages, recounted from the deals. */
async function recount(user: TestUser, organizationId: string, currency: string) {
  const rows = await dealsOf(organizationId)
  const p = await probabilities(user, organizationId)
  const byStatus: Record<string, { count: number; total: bigint }> = {}
  for (const status of ['new', 'in_progress', 'won', 'lost']) byStatus[status] = { count: 0, total: 0n }
  const currencies = new Map<string, number>()
  const stages: Record<string, Record<string, number>> = {}
  let open = { count: 0, amount: 0n, weighted: 0n }
  const openByStage = new Map<
    string,
    { count: number; currency_count: number; amount: bigint; weighted: bigint }
  >()
  for (const row of rows) {
    if (OPEN.has(row.status)) {
      const column = openByStage.get(row.stage) ?? { count: 0, currency_count: 0, amount: 0n, weighted: 0n }
      column.count += 1
      if (row.currency === currency) {
        column.currency_count += 1
        column.amount += cents(row.amount)
        column.weighted += weightedCents(row.amount, p[row.stage] as number)
      }
      openByStage.set(row.stage, column)
    }
    const entry = byStatus[row.status] as { count: number; total: bigint }
    entry.count += 1
    if (row.currency === currency) entry.total += cents(row.amount)
    currencies.set(row.currency, (currencies.get(row.currency) ?? 0) + 1)
    stages[row.stage] ??= {}
    ;(stages[row.stage] as Record<string, number>)[row.status] =
      ((stages[row.stage] as Record<string, number>)[row.status] ?? 0) + 1
    if (OPEN.has(row.status) && row.currency === currency) {
      open = {
        count: open.count + 1,
        amount: open.amount + cents(row.amount),
        weighted: open.weighted + weightedCents(row.amount, p[row.stage] as number),
      }
    }
  }
  return {
    by_status: Object.fromEntries(
      Object.entries(byStatus).map(([s, v]) => [s, { count: v.count, total_amount: money(v.total) }]),
    ),
    currencies: [...currencies]
      .map(([c, count]) => ({ currency: c, count }))
      .sort((a, b) => b.count - a.count || (a.currency < b.currency ? -1 : 1)),
    pipeline: {
      open_count: open.count,
      open_amount: money(open.amount),
      weighted_amount: money(open.weighted),
      by_stage: byStage(
        Object.fromEntries(
          [...openByStage].map(([stage, column]) => [
            stage,
            {
              count: column.count,
              currency_count: column.currency_count,
              amount: money(column.amount),
              weighted_amount: money(column.weighted),
            },
          ]),
        ),
      ),
    },
    stages,
  }
}

/** The forecast recounted from the deals (months from the current UTC month). */
async function recountForecast(user: TestUser, organizationId: string, currency: string, months: number) {
  const rows = (await dealsOf(organizationId)).filter((r) => r.currency === currency)
  const p = await probabilities(user, organizationId)
  const now = new Date()
  const monthList = Array.from({ length: months }, (_, i) => {
    const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + i, 1))
    return d.toISOString().slice(0, 7)
  })
  const first = monthList[0] as string
  const bucket = () => ({ count: 0, amount: 0n, weighted: 0n, won: 0, wonAmount: 0n })
  const buckets = new Map(monthList.map((m) => [m, bucket()]))
  const overdue = bucket()
  const unscheduled = bucket()
  for (const row of rows) {
    if (OPEN.has(row.status)) {
      const month = row.expected_close_date?.slice(0, 7)
      const target = month === undefined ? unscheduled : month < first ? overdue : buckets.get(month)
      if (!target) continue
      target.count += 1
      target.amount += cents(row.amount)
      target.weighted += weightedCents(row.amount, p[row.stage] as number)
    } else if (row.status === 'won' && row.closed_month) {
      const target = buckets.get(row.closed_month)
      if (!target) continue
      target.won += 1
      target.wonAmount += cents(row.amount)
    }
  }
  const shape = (b: ReturnType<typeof bucket>) => ({
    count: b.count,
    amount: money(b.amount),
    weighted_amount: money(b.weighted),
  })
  return {
    currency,
    months: monthList.map((month) => {
      const b = buckets.get(month) as ReturnType<typeof bucket>
      return {
        month,
        open_count: b.count,
        open_amount: money(b.amount),
        weighted_amount: money(b.weighted),
        won_count: b.won,
        won_amount: money(b.wonAmount),
      }
    }),
    overdue: shape(overdue),
    unscheduled: shape(unscheduled),
  }
}

async function assertMatchesRecount(user: TestUser, organizationId: string) {
  const api = as(app, user, organizationId)
  for (const currency of ['USD', 'EUR', 'JPY']) {
    const expected = await recount(user, organizationId, currency)
    const summary = (await api.get(`/analytics/deals/summary?currency=${currency}`)).json()
    assert.deepEqual(
      { by_status: summary.by_status, currencies: summary.currencies, pipeline: summary.pipeline },
      { by_status: expected.by_status, currencies: expected.currencies, pipeline: expected.pipeline },
      `summary ${currency}`,
    )
    const funnel = (await api.get('/analytics/deals/funnel')).json()
    for (const [stage, counts] of Object.entries(funnel.stages as Record<string, Record<string, number>>)) {
      for (const [status, count] of Object.entries(counts))
        assert.equal(count, expected.stages[stage]?.[status] ?? 0, `${stage}/${status}`)
    }
    const forecast = (await api.get(`/analytics/deals/forecast?currency=${currency}&months=24`)).json()
    assert.deepEqual(
      forecast,
      await recountForecast(user, organizationId, currency, 24),
      `forecast ${currency}`,
    )
  }
}

function monthOffset(offset: number, day = 15): string {
  const now = new Date()
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, day)).toISOString().slice(0, 10)
}

describe('analytics v1.1: summary per currency (spec §13)', () => {
  it('never adds yen to dollars: amounts per currency, counts over all, currencies by count', async () => {
    const owner = await register(app)
    const org = owner.organizationId
    const contact = await createContact(app, owner, org)
    const make = (fields: Record<string, unknown>) =>
      createDeal(app, owner, org, { contact_id: contact.id, ...fields })
    await make({ amount: 1000000, currency: 'JPY', status: 'won', stage: 'closed' })
    await make({ amount: 1000, currency: 'USD', status: 'won', stage: 'closed' })
    await make({ amount: '4000.00', currency: 'EUR', status: 'won', stage: 'closed' })
    await make({ amount: '0.03', currency: 'EUR', status: 'won', stage: 'closed' })
    await make({ amount: 10, currency: 'USD', status: 'lost', lost_reason: 'Price' })
    await make({ amount: '100.00', currency: 'USD', stage: 'negotiation' })
    const api = as(app, owner, org)
    const usd = (await api.get('/analytics/deals/summary')).json()
    assert.equal(usd.currency, 'USD')
    assert.deepEqual(usd.by_status, {
      new: { count: 1, total_amount: '100.00' },
      in_progress: { count: 0, total_amount: '0.00' },
      won: { count: 4, total_amount: '1000.00' },
      lost: { count: 1, total_amount: '10.00' },
    })
    assert.equal(usd.average_won_amount, '1000.00')
    assert.equal(usd.win_rate, 0.8)
    assert.deepEqual(usd.new_deals_last_n_days, { count: 6, days: 30 })
    assert.deepEqual(usd.currencies, [
      { currency: 'USD', count: 3 },
      { currency: 'EUR', count: 2 },
      { currency: 'JPY', count: 1 },
    ])
    assert.deepEqual(usd.pipeline, {
      open_count: 1,
      open_amount: '100.00',
      weighted_amount: '60.00',
      by_stage: byStage({ negotiation: { count: 1, amount: '100.00', weighted_amount: '60.00' } }),
    })
    const eur = (await api.get('/analytics/deals/summary?currency=eur')).json()
    assert.equal(eur.currency, 'EUR')
    assert.equal(eur.by_status.won.total_amount, '4000.03')
    assert.equal(eur.average_won_amount, '2000.02') // 2000.015 half up
    assert.deepEqual(eur.pipeline, {
      open_count: 0,
      open_amount: '0.00',
      weighted_amount: '0.00',
      // The USD deal is counted in its column, its amount is not added to euros.
      by_stage: byStage({
        negotiation: { count: 1, currency_count: 0, amount: '0.00', weighted_amount: '0.00' },
      }),
    })
    const chf = (await api.get('/analytics/deals/summary?currency=CHF')).json()
    assert.equal(chf.by_status.won.count, 4)
    assert.equal(chf.by_status.won.total_amount, '0.00')
    assert.equal(chf.average_won_amount, '0.00')
  })

  it('sums the deals’ own rounded weighted amounts (not a rounded sum)', async () => {
    const owner = await register(app)
    const contact = await createContact(app, owner, owner.organizationId)
    // 0.05 at 10 % = 0.005 → 0.01 each: three deals weigh 0.03, not round(0.15 × 10 %) = 0.02.
    for (let i = 0; i < 3; i++)
      await createDeal(app, owner, owner.organizationId, { contact_id: contact.id, amount: '0.05' })
    const summary = (await as(app, owner, owner.organizationId).get('/analytics/deals/summary')).json()
    assert.deepEqual(summary.pipeline, {
      open_count: 3,
      open_amount: '0.15',
      weighted_amount: '0.03',
      by_stage: byStage({ qualification: { count: 3, amount: '0.15', weighted_amount: '0.03' } }),
    })
    await as(app, owner, owner.organizationId).patch('/pipeline', { probabilities: { qualification: 30 } })
    // 0.05 × 30 % = 0.015 → 0.02 each.
    const after = (await as(app, owner, owner.organizationId).get('/analytics/deals/summary')).json()
    assert.equal(after.pipeline.weighted_amount, '0.06')
  })
})

describe('analytics v1.1: forecast (spec §13)', () => {
  it('buckets open deals by close month, overdue and unscheduled, won deals by the month they closed', async () => {
    const owner = await register(app)
    const org = owner.organizationId
    const contact = await createContact(app, owner, org)
    const make = (fields: Record<string, unknown>) =>
      createDeal(app, owner, org, { contact_id: contact.id, ...fields })
    await make({ amount: '100.00', expected_close_date: monthOffset(0, 1) })
    await make({ amount: '0.05', expected_close_date: monthOffset(0, 28), stage: 'qualification' })
    await make({
      amount: '200.00',
      status: 'in_progress',
      stage: 'negotiation',
      expected_close_date: monthOffset(2),
    })
    await make({ amount: '300.00', expected_close_date: monthOffset(-1, 28) })
    await make({ amount: '50.00', expected_close_date: monthOffset(-14) })
    await make({ amount: '70.00', stage: 'proposal' })
    await make({ amount: '999.00', expected_close_date: monthOffset(6) }) // past a 6-month window
    await make({ amount: '500.00', status: 'won', stage: 'closed', expected_close_date: monthOffset(-3) })
    await make({ amount: '1.00', status: 'lost', expected_close_date: monthOffset(0) })
    await make({ amount: '400.00', currency: 'EUR', expected_close_date: monthOffset(0) })
    const forecast = (await as(app, owner, org).get('/analytics/deals/forecast')).json()
    assert.equal(forecast.currency, 'USD')
    assert.equal(forecast.months.length, 6)
    assert.equal(forecast.months[0].month, monthOffset(0).slice(0, 7))
    assert.deepEqual(forecast.months[0], {
      month: monthOffset(0).slice(0, 7),
      open_count: 2,
      open_amount: '100.05',
      weighted_amount: '10.01',
      won_count: 1,
      won_amount: '500.00',
    })
    assert.deepEqual(forecast.months[2], {
      month: monthOffset(2).slice(0, 7),
      open_count: 1,
      open_amount: '200.00',
      weighted_amount: '120.00',
      won_count: 0,
      won_amount: '0.00',
    })
    assert.deepEqual(forecast.overdue, { count: 2, amount: '350.00', weighted_amount: '35.00' })
    assert.deepEqual(forecast.unscheduled, { count: 1, amount: '70.00', weighted_amount: '21.00' })
    assert.deepEqual(forecast, await recountForecast(owner, org, 'USD', 6))
    const long = (await as(app, owner, org).get('/analytics/deals/forecast?months=24&currency=eur')).json()
    assert.equal(long.months.length, 24)
    assert.equal(long.currency, 'EUR')
    assert.equal(long.months[0].open_amount, '400.00')
  })
})

describe('analytics v1.1: velocity (spec §13)', () => {
  it('measures stays that ended in the window per stage and the time to win', async () => {
    const owner = await register(app)
    const org = owner.organizationId
    const api = as(app, owner, org)
    const deal = await createDeal(app, owner, org, { amount: 10 })
    await api.patch(`/deals/${deal.id}`, { stage: 'proposal' })
    await api.patch(`/deals/${deal.id}`, { stage: 'closed', status: 'won' })
    // Age the history by rewriting its times (the API cannot travel in time): 2 days, then 1.5 days.
    await app.db.db.execute(sql`
      UPDATE deal_stage_history SET
        entered_at = CASE seq WHEN 1 THEN now() - interval '3.5 days' WHEN 2 THEN now() - interval '1.5 days' ELSE now() END,
        exited_at = CASE seq WHEN 1 THEN now() - interval '1.5 days' WHEN 2 THEN now() ELSE NULL END
      WHERE organization_id = ${org} AND deal_id = ${deal.id}`)
    await app.db.db.execute(
      sql`UPDATE deals SET created_at = now() - interval '3.5 days' WHERE organization_id = ${org} AND id = ${deal.id}`,
    )
    const other = await createDeal(app, owner, org, { amount: 10 })
    await api.patch(`/deals/${other.id}`, { stage: 'proposal' })
    const velocity = (await api.get('/analytics/deals/velocity')).json()
    assert.equal(velocity.days, 90)
    assert.deepEqual(
      velocity.stages.map((s: { stage: string }) => s.stage),
      ['qualification', 'proposal', 'negotiation', 'closed'],
    )
    const qualification = velocity.stages[0]
    assert.equal(qualification.exits, 2)
    assert.ok(Math.abs(qualification.avg_days - 1) < 0.02, JSON.stringify(qualification)) // (2 + ~0) / 2
    assert.equal(velocity.stages[1].exits, 1)
    assert.equal(velocity.stages[1].avg_days, 1.5)
    assert.equal(velocity.stages[1].median_days, 1.5)
    assert.deepEqual(velocity.stages[2], {
      stage: 'negotiation',
      exits: 0,
      avg_days: null,
      median_days: null,
    })
    assert.equal(velocity.won.count, 1)
    assert.ok(Math.abs(velocity.won.avg_days_to_close - 3.5) < 0.02, JSON.stringify(velocity.won))
    // A 1-day window keeps the stays that ended now and drops the one that ended 1.5 days ago.
    const short = (await api.get('/analytics/deals/velocity?days=1')).json()
    assert.deepEqual(
      short.stages.map((s: { exits: number }) => s.exits),
      [1, 1, 0, 0],
    )
    assert.equal(short.won.count, 1)
  })
})

/**
 * The velocity of a scan of every stay and won deal in the window (the query before migration 0008 kept the
 * durations): what the kept durations must answer, for any window.
 */
async function scanVelocity(organizationId: string, days: number) {
  const rows = await queryRows<VelocityRow>(
    app.db.db,
    sql`WITH stays AS (
      SELECT h.stage, date_part('epoch', h.exited_at - h.entered_at) AS seconds
      FROM deal_stage_history h
      WHERE h.organization_id = ${organizationId} AND h.exited_at IS NOT NULL
        AND h.exited_at >= now() - make_interval(days => ${days}::int)
    ), won AS (
      SELECT date_part('epoch', d.closed_at - d.created_at) AS seconds
      FROM deals d
      WHERE d.organization_id = ${organizationId} AND d.status = 'won'
        AND d.closed_at >= now() - make_interval(days => ${days}::int)
    )
    SELECT stage, count(*)::int AS exits,
           round((avg(seconds) / 86400)::numeric, 2)::text AS avg_days,
           round((percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds))::numeric / 86400, 2)::text AS median_days
    FROM stays GROUP BY stage
    UNION ALL
    SELECT NULL, count(*)::int,
           round((avg(seconds) / 86400)::numeric, 2)::text,
           round((percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds))::numeric / 86400, 2)::text
    FROM won`,
  )
  return dealVelocity(
    rows.filter((row) => Number(row.exits) > 0).map((row) => ({ ...row, exits: Number(row.exits) })),
    days,
  )
}

describe('analytics v1.1: velocity from kept durations', () => {
  const WINDOWS = [1, 2, 3, 5, 7, 30, 90, 200, 365]

  async function assertMatchesScan(user: TestUser, organizationId: string, label: string) {
    for (const days of WINDOWS) {
      const response = await as(app, user, organizationId).get(`/analytics/deals/velocity?days=${days}`)
      assert.equal(response.statusCode, 200, response.body)
      assert.deepEqual(response.json(), await scanVelocity(organizationId, days), `${label}, days=${days}`)
    }
  }

  it('equals a scan of every stay and won deal for any window, after every kind of write', async () => {
    const owner = await register(app)
    const org = owner.organizationId
    const api = as(app, owner, org)
    const stages = ['qualification', 'proposal', 'negotiation', 'closed']
    const deals = await Promise.all(
      Array.from({ length: 14 }, () => createDeal(app, owner, org, { amount: 5 })),
    )
    // Stays written by SQL over 400 days (the API cannot travel in time): durations from minutes to weeks,
    // some equal (ties at the median), some ending on the window's first, partial day.
    for (const [i, deal] of deals.entries()) {
      await app.db.db.execute(
        sql`DELETE FROM deal_stage_history WHERE organization_id = ${org} AND deal_id = ${deal.id}`,
      )
      const stays = 1 + (i % 4)
      let end = (i * 29) % 400 // days ago the last stay ended
      for (let seq = stays; seq >= 1; seq--) {
        const lasted = i % 5 === 0 ? 2.25 : ((i * 7 + seq * 13) % 30) / 3 + (seq % 2) * 0.04
        await app.db.db.execute(sql`
          INSERT INTO deal_stage_history (organization_id, deal_id, seq, stage, entered_at, exited_at)
          VALUES (${org}, ${deal.id}, ${seq}, ${stages[(seq - 1) % 4]},
            now() - make_interval(secs => ${Math.round((end + lasted) * 86_400_000 + 3_600_123)} / 1000.0),
            now() - make_interval(secs => ${Math.round(end * 86_400_000 + 3_600_123)} / 1000.0))`)
        end += lasted + 0.3
      }
    }
    // Stays that ended just inside and just outside each window (its first day is read from the rows).
    let seq = 100
    for (const days of WINDOWS) {
      for (const minutes of [-25, 25]) {
        seq += 1
        await app.db.db.execute(sql`
          INSERT INTO deal_stage_history (organization_id, deal_id, seq, stage, entered_at, exited_at)
          SELECT ${org}, ${deals[13]?.id}, ${seq}, ${stages[seq % 4]}, ended - make_interval(secs => ${days * 32_000 + seq}),
            ended
          FROM (SELECT now() - make_interval(days => ${days}, mins => ${minutes}) AS ended) e`)
      }
    }
    // Durations of exactly whole days (the kept rows count them apart): stays of 1 and 3 days, deals created won.
    for (const [n, lasted] of [1, 1, 3, 3, 3].entries()) {
      await app.db.db.execute(sql`
        INSERT INTO deal_stage_history (organization_id, deal_id, seq, stage, entered_at, exited_at)
        SELECT ${org}, ${deals[13]?.id}, ${200 + n}, 'proposal', ended - make_interval(days => ${lasted}), ended
        FROM (SELECT now() - make_interval(hours => ${5 + n * 30}) AS ended) e`)
    }
    for (let n = 0; n < 5; n++)
      await createDeal(app, owner, org, { status: 'won', stage: 'closed', amount: 3 })
    // Won deals: through the API (closed now), then created earlier by SQL (moves their duration).
    for (const deal of deals.slice(0, 9)) await api.patch(`/deals/${deal.id}`, { status: 'won' })
    for (const [i, deal] of deals.slice(0, 6).entries()) {
      await app.db.db.execute(sql`
        UPDATE deals SET created_at = now() - make_interval(secs => ${(i % 3) * 86_400 * 40 + i * 7_001}),
          closed_at = now() - make_interval(secs => ${(i % 3) * 86_400 * 30 + 5})
        WHERE organization_id = ${org} AND id = ${deal.id}`)
    }
    await assertMatchesScan(owner, org, 'after SQL writes')
    // A stay rewritten, a win undone, a won deal and a deal with stays deleted.
    await app.db.db.execute(sql`
      UPDATE deal_stage_history SET entered_at = entered_at - interval '3 days'
      WHERE organization_id = ${org} AND deal_id = ${deals[10]?.id} AND exited_at IS NOT NULL`)
    await api.patch(`/deals/${deals[7]?.id}`, { status: 'in_progress' })
    await api.delete(`/deals/${deals[0]?.id}`)
    await api.delete(`/deals/${deals[12]?.id}`)
    await assertMatchesScan(owner, org, 'after changes and deletes')
    // Concurrent stage moves, wins and deletes through the API.
    await Promise.all(
      deals
        .slice(1)
        .flatMap((deal, i) => [
          () => api.patch(`/deals/${deal.id}`, { stage: stages[(i + 1) % 4] }),
          () => api.patch(`/deals/${deal.id}`, { status: i % 2 ? 'won' : 'lost' }),
          ...(i % 5 === 4 ? [() => api.delete(`/deals/${deal.id}`)] : []),
        ])
        .map((write) => write()),
    )
    await assertMatchesScan(owner, org, 'after concurrent writes')
  })

  it('has nothing to measure for an organization without stays or wins, and ignores other organizations', async () => {
    const owner = await register(app)
    const other = await register(app)
    const deal = await createDeal(app, other, other.organizationId)
    await as(app, other, other.organizationId).patch(`/deals/${deal.id}`, {
      stage: 'proposal',
      status: 'won',
    })
    await assertMatchesScan(owner, owner.organizationId, 'empty')
    const empty = (await as(app, owner, owner.organizationId).get('/analytics/deals/velocity')).json()
    assert.deepEqual(empty.won, { count: 0, avg_days_to_close: null, median_days_to_close: null })
    assert.ok(empty.stages.every((stage: { exits: number }) => stage.exits === 0))
  })
})

describe('analytics v1.1: exact and fresh', () => {
  it('equals a full recount after every kind of write, also under concurrent writes', async () => {
    const org = await organizationWithRoles(app)
    const contacts = await Promise.all([0, 1, 2].map(() => createContact(app, org.owner, org.organizationId)))
    const currencies = ['USD', 'EUR', 'JPY']
    const statuses = ['new', 'in_progress', 'won', 'lost']
    const stages = ['qualification', 'proposal', 'negotiation', 'closed']
    let n = 0
    const pick = <T>(values: T[]) => values[n++ % values.length] as T
    const deals = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        createDeal(app, org.owner, org.organizationId, {
          contact_id: (contacts[i % 3] as { id: string }).id,
          amount: `${(i * 37) % 1000}.${String((i * 13) % 100).padStart(2, '0')}`,
          currency: currencies[i % 3],
          status: i % 4 === 2 ? 'won' : statuses[i % 2],
          stage: stages[i % 4],
          expected_close_date: i % 5 === 0 ? null : monthOffset((i % 9) - 3, 1 + (i % 27)),
        }),
      ),
    )
    await assertMatchesRecount(org.owner, org.organizationId)
    const api = as(app, org.owner, org.organizationId)
    const writes = deals.flatMap((deal, i) => [
      () =>
        api.patch(`/deals/${deal.id}`, {
          status: pick(statuses),
          amount: `${i + 1}.${i % 10}5`,
          lost_reason: null,
        }),
      () => api.patch(`/deals/${deal.id}`, { stage: pick(stages), currency: pick(currencies) }),
      () => api.patch(`/deals/${deal.id}`, { expected_close_date: i % 3 ? monthOffset(i % 7) : null }),
      ...(i % 6 === 0 ? [() => api.delete(`/deals/${deal.id}`)] : []),
    ])
    writes.push(() => api.patch('/pipeline', { probabilities: { proposal: 33, negotiation: 67 } }))
    writes.push(() => createDeal(app, org.member, org.organizationId, { amount: '12.34', currency: 'EUR' }))
    const responses = await Promise.all(writes.map((write) => write()))
    for (const response of responses) {
      if ('statusCode' in response) assert.ok(response.statusCode < 500, response.body)
    }
    await assertMatchesRecount(org.owner, org.organizationId)
    // And after one more write of each kind, at once.
    const survivor = deals[1] as { id: string }
    await api.patch(`/deals/${survivor.id}`, { status: 'won', amount: '0.05' })
    await assertMatchesRecount(org.owner, org.organizationId)
  })
})

describe('analytics v1.1: roles and bad input', () => {
  it('lets every member read summary, forecast and velocity; refuses others and bad parameters', async () => {
    const org = await organizationWithRoles(app)
    for (const role of WRITE_ROLES) {
      const api = as(app, org[role], org.organizationId)
      for (const path of [
        'summary?currency=EUR',
        'forecast',
        'forecast?months=24',
        'velocity',
        'velocity?days=365',
      ]) {
        assert.equal((await api.get(`/analytics/deals/${path}`)).statusCode, 200, path)
      }
    }
    const outsider = as(app, org.outsider, org.organizationId)
    for (const path of ['forecast', 'velocity'])
      expectProblem(await outsider.get(`/analytics/deals/${path}`), 403, 'ORGANIZATION_ACCESS_DENIED')
    const api = as(app, org.member, org.organizationId)
    for (const path of [
      'forecast?months=0',
      'forecast?months=25',
      'forecast?months=1.5',
      'forecast?months=x',
      'forecast?currency=ZZZ',
      'forecast?currency=',
      'forecast?days=3',
      'velocity?days=0',
      'velocity?days=366',
      'velocity?currency=USD',
      'summary?currency=ZZZ',
      'summary?currency=EURO',
      'funnel?currency=USD',
    ]) {
      assertValidationError(await api.get(`/analytics/deals/${path}`), path)
    }
  })
})
