import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { problems, TenantHeaders } from '../../lib/schemas.js'
import { readGeneration } from './generation.js'
import { dealFunnel, dealSummary } from './metrics.js'
import { stageStatusCounts, summaryData } from './queries.js'
import { DealFunnel, DealSummary, FunnelQuery, SummaryQuery } from './schemas.js'

const security = [{ bearerAuth: [] }]

/**
 * `/analytics/deals/*`: any member reads; results are cached under the organization's analytics generation,
 * read from the database first (one prepared index lookup), so no write is ever hidden (see generation.ts).
 */
export default async function analyticsRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.get(
    '/summary',
    {
      schema: {
        tags: ['analytics'],
        summary:
          'Deal counts and amounts per status, average won amount, win rate, new deals in the last days',
        security,
        headers: TenantHeaders,
        querystring: SummaryQuery,
        response: { 200: DealSummary, ...problems(400, 401, 403, 503) },
      },
    },
    async (request) => {
      const { organizationId } = request.actor
      const { days } = request.query
      const generation = await readGeneration(app.db.db, organizationId)
      return app.analyticsCache.get(organizationId, generation, `summary:${days}`, async () => {
        const started = performance.now()
        const data = await summaryData(app.db.db, organizationId, days)
        // The recent count also changes when its oldest deal ages out of the window: expire exactly then.
        const validForMs =
          data.recentWindowMovesInMs === null
            ? undefined
            : data.recentWindowMovesInMs - (performance.now() - started)
        return { value: dealSummary(data, days), validForMs }
      })
    },
  )

  app.get(
    '/funnel',
    {
      schema: {
        tags: ['analytics'],
        summary: 'Deals per current stage and status, and conversions between stages reached',
        security,
        headers: TenantHeaders,
        querystring: FunnelQuery,
        response: { 200: DealFunnel, ...problems(400, 401, 403, 503) },
      },
    },
    async (request) => {
      const { organizationId } = request.actor
      const generation = await readGeneration(app.db.db, organizationId)
      return app.analyticsCache.get(organizationId, generation, 'funnel', async () => ({
        value: dealFunnel(await stageStatusCounts(app.db.db, organizationId)),
      }))
    },
  )
}
