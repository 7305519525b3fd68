import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { exportQuery, sendCsv } from '../../lib/csv-export.js'
import { problems, TenantHeaders } from '../../lib/schemas.js'
import { dealFiltersOf, dealList } from './list.js'
import { Deal, DealListQuery, toDeal } from './schemas.js'

/** The list's filters and order, without its paging. */
export const DealExportQuery = exportQuery(DealListQuery)

/** `GET /deals/export`: the deal list's filters and order, every matching row as streamed CSV (spec §14). */
export default async function dealCsvRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.get(
    '/export',
    {
      schema: {
        tags: ['deals'],
        operationId: 'exportDeals',
        summary: 'Export the deal list (its filters and order) as CSV',
        description:
          'Streams every deal matching the list filters, in the list order, as RFC 4180 CSV with a header row; formula-like cells are prefixed with an apostrophe.',
        produces: ['text/csv'],
        security: [{ bearerAuth: [] }],
        headers: TenantHeaders,
        querystring: DealExportQuery,
        response: {
          200: Type.String({ description: 'text/csv; charset=utf-8' }),
          ...problems(400, 401, 403),
        },
      },
    },
    async (request, reply) => {
      const list = dealList(app.db.db, request.actor.organizationId, dealFiltersOf(request.query))
      return sendCsv(reply, 'deals.csv', {
        ...list,
        columns: Object.keys(Deal.properties),
        toJson: (row) => toDeal(row.deal, row.contact),
      })
    },
  )
}
