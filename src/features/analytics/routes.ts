import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance, FastifyReply } from 'fastify'
import { problems, TenantHeaders } from '../../lib/schemas.js'
import type { Computed } from './cache.js'
import { readAnalyticsState } from './generation.js'
import { dealForecast, dealFunnel, dealSummary, dealVelocity } from './metrics.js'
import { forecastData, stageStatusCounts, summaryData, velocityData } from './queries.js'
import {
  DealForecast,
  DealFunnel,
  DealSummary,
  DealVelocity,
  ForecastQuery,
  FunnelQuery,
  SummaryQuery,
  VelocityQuery,
} from './schemas.js'

const security = [{ bearerAuth: [] }]
const tags = ['analytics']

/**
 * A kept answer as the JSON text the cache holds (the value the route computed, which is exactly its response
 * schema's shape): Fastify sends a string with a JSON content type as it is, without serializing it again.
 */
function sendKept(reply: FastifyReply, json: string) {
  return reply.type('application/json; charset=utf-8').send(json)
}

/** What a cached analytics answer is kept under and computed from: its key and currency, given the state. */
interface KeptRequest<T> {
  key: (currency: string) => string
  compute: (currency: string) => Promise<Computed<T>>
}

/**
 * `/analytics/deals/*`: any member reads; results are cached under the organization's analytics generation,
 * read from the database first (one prepared statement, with the default currency), so no write is ever hidden
 * (see generation.ts). Computations read the aggregate rows kept exact in every deal write's transaction (see
 * queries.ts).
 */
export default async function analyticsRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  /**
   * The organization's analytics state (generation and default currency), then the answer kept for it, computed
   * once per generation: the currency asked for, else the organization's.
   */
  async function answerKept<T>(
    reply: FastifyReply,
    organizationId: string,
    requestedCurrency: string | undefined,
    kept: KeptRequest<T>,
  ) {
    const { generation, defaultCurrency } = await readAnalyticsState(app.db.db, organizationId)
    const currency = requestedCurrency?.toUpperCase() ?? defaultCurrency
    const json = await app.analyticsCache.getJson(organizationId, generation, kept.key(currency), () =>
      kept.compute(currency),
    )
    return sendKept(reply, json)
  }

  app.get(
    '/summary',
    {
      schema: {
        tags,
        operationId: 'getDealSummary',
        summary:
          'Deals per status (amounts in one currency), win rate, new deals, currencies in use, open pipeline',
        description:
          'Counts and amount totals by status, the average won amount, the win rate, the deals created in the last `days` (default 30), the currencies in use and the open pipeline. Exact and always fresh, whatever instance answers.',
        security,
        headers: TenantHeaders,
        querystring: SummaryQuery,
        response: { 200: DealSummary, ...problems(400, 401, 403, 503) },
      },
    },
    async (request, reply) => {
      const { organizationId } = request.actor
      const { days } = request.query
      return answerKept(reply, organizationId, request.query.currency, {
        key: (currency) => `summary:${days}:${currency}`,
        compute: async (currency) => {
          const data = await summaryData(app.db.db, organizationId, days, currency)
          // The recent count also changes when its oldest deal ages out of the window: expire exactly then.
          return {
            value: dealSummary(data, days, currency),
            validForMs: data.recentWindowMovesInMs ?? undefined,
          }
        },
      })
    },
  )

  app.get(
    '/funnel',
    {
      schema: {
        tags,
        operationId: 'getDealFunnel',
        summary: 'Deals per current stage and status, and conversions between stages reached',
        description:
          'Deals per stage and status, stage totals, and the conversion from each stage to the next among deals that reached it. Exact and always fresh.',
        security,
        headers: TenantHeaders,
        querystring: FunnelQuery,
        response: { 200: DealFunnel, ...problems(400, 401, 403, 503) },
      },
    },
    async (request, reply) => {
      const { organizationId } = request.actor
      // One currency-free answer: counts only.
      return answerKept(reply, organizationId, undefined, {
        key: () => 'funnel',
        compute: async () => ({ value: dealFunnel(await stageStatusCounts(app.db.db, organizationId)) }),
      })
    },
  )

  app.get(
    '/forecast',
    {
      schema: {
        tags,
        operationId: 'getDealForecast',
        summary:
          'Open deals by expected close month (weighted), won deals by close month, overdue, unscheduled',
        description:
          'Open deals by expected close month, weighted by stage probability; won deals by close month; overdue and unscheduled open deals.',
        security,
        headers: TenantHeaders,
        querystring: ForecastQuery,
        response: { 200: DealForecast, ...problems(400, 401, 403, 503) },
      },
    },
    async (request, reply) => {
      const { organizationId } = request.actor
      const { months } = request.query
      return answerKept(reply, organizationId, request.query.currency, {
        key: (currency) => `forecast:${months}:${currency}`,
        compute: async (currency) => {
          const data = await forecastData(app.db.db, organizationId, currency, months)
          // The buckets move when the UTC month turns: expire then at the latest.
          return {
            value: dealForecast(data.rows, currency, data.firstMonth, months),
            validForMs: data.nextMonthInMs,
          }
        },
      })
    },
  )

  app.get(
    '/velocity',
    {
      schema: {
        tags,
        operationId: 'getDealVelocity',
        summary: 'Time spent per stage (stays ended in the window) and time to win',
        description:
          'Time deals spent in each stage (stays that ended in the window) and the time from creation to winning.',
        security,
        headers: TenantHeaders,
        querystring: VelocityQuery,
        response: { 200: DealVelocity, ...problems(400, 401, 403, 503) },
      },
    },
    // A rolling window over stays and wins: the answer moves with time alone, so it is not cached.
    async (request) =>
      dealVelocity(
        await velocityData(app.db.db, request.actor.organizationId, request.query.days),
        request.query.days,
      ),
  )
}
