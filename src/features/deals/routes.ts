import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { recordNotFound } from '../../lib/errors.js'
import { servePage } from '../../lib/list.js'
import { IdParams, Page, problems, TenantHeaders } from '../../lib/schemas.js'
import { dealFiltersOf, dealList } from './list.js'
import * as operations from './operations.js'
import * as queries from './queries.js'
import { CreateDealBody, Deal, DealListQuery, DealReadQuery, toDeal, UpdateDealBody } from './schemas.js'

const security = [{ bearerAuth: [] }]
const tags = ['deals']

/** Order of checks on writes: see operations.ts. */
export default async function dealRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.get(
    '/',
    {
      schema: {
        tags,
        operationId: 'listDeals',
        summary: 'List deals (filters by status, stage, owner, contact, amount range, title search)',
        description:
          'Paginated. `status` and `stage` are repeatable filters; amounts are decimal strings; `search` matches the title.',
        security,
        headers: TenantHeaders,
        querystring: DealListQuery,
        response: { 200: Page(Deal), ...problems(400, 401, 403) },
      },
    },
    async (request) => {
      const { organizationId } = request.actor
      const list = dealList(app.db.db, organizationId, dealFiltersOf(request.query))
      return servePage(app, organizationId, request.query, list, (row) => toDeal(row.deal, row.contact))
    },
  )

  app.get(
    '/:id',
    {
      config: { errorCodes: ['DEAL_NOT_FOUND'] },
      schema: {
        tags,
        operationId: 'getDeal',
        summary: 'One deal',
        description:
          'One deal of the organization. An id of another organization answers exactly like a missing one.',
        security,
        headers: TenantHeaders,
        params: IdParams,
        querystring: DealReadQuery,
        response: { 200: Deal, ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => {
      if (request.query.expand === 'contact') {
        const found = await queries.findDealWithContact(
          app.db.db,
          request.actor.organizationId,
          request.params.id,
        )
        if (!found) throw recordNotFound('DEAL_NOT_FOUND')
        return toDeal(found.deal, found.contact)
      }
      const row = await queries.findDeal(app.db.db, request.actor.organizationId, request.params.id)
      if (!row) throw recordNotFound('DEAL_NOT_FOUND')
      return toDeal(row)
    },
  )

  app.post(
    '/',
    {
      config: { errorCodes: ['FORBIDDEN', 'OWNER_NOT_MEMBER'] },
      schema: {
        tags,
        operationId: 'createDeal',
        summary: 'Create a deal on a contact of the organization; owner_id defaults to the caller',
        description:
          'Opens a deal in stage `qualification` with status `new` on a contact of the organization. `owner_id` defaults to the caller (naming another owner: owners, admins, managers).',
        security,
        headers: TenantHeaders,
        body: CreateDealBody,
        response: { 201: Deal, ...problems(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const row = await operations.createDeal(app.db.db, request.actor, request.body)
      return reply.code(201).send(toDeal(row))
    },
  )

  app.patch(
    '/:id',
    {
      config: {
        errorCodes: [
          'DEAL_NOT_FOUND',
          'INVALID_DEAL_AMOUNT',
          'OWNER_NOT_MEMBER',
          'FORBIDDEN',
          'STAGE_ROLLBACK_FORBIDDEN',
        ],
      },
      schema: {
        tags,
        operationId: 'updateDeal',
        summary: 'Update a deal; status and stage changes are recorded as activities',
        description:
          'A resulting status `won` needs an amount > 0 (400 INVALID_DEAL_AMOUNT). Moving the stage back is ' +
          'for owners and admins only (403 STAGE_ROLLBACK_FORBIDDEN). Members change only their own deals.',
        security,
        headers: TenantHeaders,
        params: IdParams,
        body: UpdateDealBody,
        response: { 200: Deal, ...problems(400, 401, 403, 404) },
      },
    },
    async (request) =>
      toDeal(await operations.changeDeal(app.db.db, request.actor, request.params.id, request.body)),
  )

  app.delete(
    '/:id',
    {
      config: { errorCodes: ['DEAL_NOT_FOUND', 'FORBIDDEN'] },
      schema: {
        tags,
        operationId: 'deleteDeal',
        summary: 'Delete a deal with its tasks and activities (members: only their own)',
        description:
          'Deletes the deal with its tasks and activities in one transaction. Members delete only deals they own.',
        security,
        headers: TenantHeaders,
        params: IdParams,
        response: { 204: { type: 'null', description: 'Deleted' }, ...problems(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await operations.deleteDeal(app.db.db, request.actor, request.params.id)
      return reply.code(204).send(null)
    },
  )
}
