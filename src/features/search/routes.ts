import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { AppError } from '../../lib/errors.js'
import { problems, TenantHeaders } from '../../lib/schemas.js'
import { SEARCH_SOURCES, search } from './queries.js'
import { SearchQuery, SearchResult } from './schemas.js'

/** `GET /search` (spec §14): one box over contacts and deals (and companies once they exist), any member. */
export default async function searchRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.get(
    '/',
    {
      schema: {
        tags: ['search'],
        operationId: 'search',
        summary: 'Search records by substring: title prefix matches first, then by similarity, then id',
        description:
          'Finds contacts (name, email, phone), companies (name, domain) and deals (title) whose text contains `q`, case-insensitively with `%` and `_` literal, on trigram indexes; sees every committed write at once.',
        security: [{ bearerAuth: [] }],
        headers: TenantHeaders,
        querystring: SearchQuery,
        response: { 200: SearchResult, ...problems(400, 401, 403) },
      },
    },
    async (request) => {
      const { q, limit = 20 } = request.query
      const available = Object.keys(SEARCH_SOURCES)
      const types = request.query.types ? [...new Set(request.query.types.split(','))] : available
      const unknown = types.filter((type) => !available.includes(type))
      if (unknown.length > 0) {
        const message = `Unknown type ${unknown.join(', ')}; use ${available.join(', ')}`
        throw new AppError('VALIDATION_ERROR', message, { errors: [{ field: 'querystring.types', message }] })
      }
      return { items: await search(app.db.db, request.actor.organizationId, q, types, limit) }
    },
  )
}
