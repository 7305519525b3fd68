import assert from 'node:assert/strict'
import { type SQL, sql } from 'drizzle-orm'
import type { FastifyInstance } from 'fastify'
import { contacts, type DealStage, type DealStatus, deals } from '../src/db/schema.js'
import type { AnalyticsCache } from '../src/features/analytics/cache.js'
import { bumpGeneration } from '../src/features/analytics/generation.js'
import { uuidv7 } from '../src/lib/uuid.js'
import { as, type TestUser } from './helpers.js'

/** The value behind the cache's JSON text: what a client of the route would parse. */
export async function cachedValue(
  cache: AnalyticsCache,
  ...args: Parameters<AnalyticsCache['getJson']>
): Promise<unknown> {
  return JSON.parse(await cache.getJson(...args))
}

export interface SeedDeal {
  status?: DealStatus
  stage?: DealStage
  amount?: string
  /** created_at (and updated_at) as SQL; default now(). */
  createdAt?: SQL
}

/** `count` copies of one deal. */
export function times(count: number, deal: SeedDeal): SeedDeal[] {
  return Array.from({ length: count }, () => ({ ...deal }))
}

/** created_at `interval` before the database's now(), e.g. ago('30 days 1 minute'). */
export function ago(interval: string): SQL {
  return sql`now() - ${interval}::interval`
}

/**
 * Inserts deals straight into the table, as the API would store them (one contact owned by `owner`), then
 * signals the change as the deal routes do after commit.
 */
export async function seedDeals(
  app: FastifyInstance,
  owner: TestUser,
  organizationId: string,
  rows: SeedDeal[],
): Promise<void> {
  const contactId = uuidv7()
  await app.db.db
    .insert(contacts)
    .values({ organizationId, id: contactId, ownerId: owner.id, name: 'Seeded' })
  if (rows.length > 0) {
    await app.db.db.insert(deals).values(
      rows.map((row) => ({
        organizationId,
        id: uuidv7(),
        contactId,
        ownerId: owner.id,
        title: 'Seeded deal',
        amount: row.amount ?? '0.00',
        status: row.status ?? 'new',
        stage: row.stage ?? 'qualification',
        ...(row.createdAt ? { createdAt: row.createdAt, updatedAt: row.createdAt } : {}),
      })),
    )
  }
  // Written past the API: bump the generation as a deal write's after-write hook does.
  await bumpGeneration(app.db.db, organizationId)
}

export async function summary(app: FastifyInstance, user: TestUser, organizationId: string, query = '') {
  const response = await as(app, user, organizationId).get(`/analytics/deals/summary${query}`)
  assert.equal(response.statusCode, 200, response.body)
  return response.json()
}

export async function funnel(app: FastifyInstance, user: TestUser, organizationId: string) {
  const response = await as(app, user, organizationId).get('/analytics/deals/funnel')
  assert.equal(response.statusCode, 200, response.body)
  return response.json()
}

/** The summary of an organization without deals (days = 30). */
export const EMPTY_SUMMARY = {
  by_status: {
    new: { count: 0, total_amount: '0.00' },
    in_progress: { count: 0, total_amount: '0.00' },
    won: { count: 0, total_amount: '0.00' },
    lost: { count: 0, total_amount: '0.00' },
  },
  average_won_amount: '0.00',
  win_rate: null,
  new_deals_last_n_days: { count: 0, days: 30 },
  // v1.1 (spec §13): the summary's currency, the currencies in use and the open pipeline.
  currency: 'USD',
  currencies: [],
  pipeline: { open_count: 0, open_amount: '0.00', weighted_amount: '0.00', by_stage: byStage() },
}

/** The summary's `pipeline.by_stage`: every stage in order, zeros where `stages` gives nothing. */
export function byStage(
  stages: Partial<
    Record<DealStage, { count: number; currency_count?: number; amount: string; weighted_amount: string }>
  > = {},
) {
  return (['qualification', 'proposal', 'negotiation', 'closed'] as const).map((stage) => {
    const given = stages[stage]
    return {
      stage,
      count: given?.count ?? 0,
      currency_count: given?.currency_count ?? given?.count ?? 0,
      amount: given?.amount ?? '0.00',
      weighted_amount: given?.weighted_amount ?? '0.00',
    }
  })
}

/** Funnel `stages` with the given counts and zeros everywhere else. */
export function funnelStages(counts: Partial<Record<DealStage, Partial<Record<DealStatus, number>>>> = {}) {
  const zeros = { new: 0, in_progress: 0, won: 0, lost: 0 }
  return {
    qualification: { ...zeros, ...counts.qualification },
    proposal: { ...zeros, ...counts.proposal },
    negotiation: { ...zeros, ...counts.negotiation },
    closed: { ...zeros, ...counts.closed },
  }
}

/** The funnel of an organization without deals. */
export const EMPTY_FUNNEL = {
  stages: funnelStages(),
  stage_totals: { qualification: 0, proposal: 0, negotiation: 0, closed: 0 },
  conversions: [
    { from_stage: 'qualification', to_stage: 'proposal', from_count: 0, to_count: 0, conversion_rate: 0 },
    { from_stage: 'proposal', to_stage: 'negotiation', from_count: 0, to_count: 0, conversion_rate: 0 },
    { from_stage: 'negotiation', to_stage: 'closed', from_count: 0, to_count: 0, conversion_rate: 0 },
  ],
}
