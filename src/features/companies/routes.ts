import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { recordNotFound } from '../../lib/errors.js'
import { servePage } from '../../lib/list.js'
import { IdParams, Page, problems, TenantHeaders } from '../../lib/schemas.js'
import { companyFiltersOf, companyList } from './list.js'
import * as operations from './operations.js'
import * as queries from './queries.js'
import { Company, CompanyListQuery, CreateCompanyBody, UpdateCompanyBody } from './schemas.js'

const security = [{ bearerAuth: [] }]
const tags = ['companies']

/** Companies (spec §11); order of checks on writes: see operations.ts. */
export default async function companyRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.get(
    '/',
    {
      schema: {
        tags,
        operationId: 'listCompanies',
        summary: 'List companies (search in name and domain, filter by owner, sorted and paginated)',
        description:
          'Paginated. `search` matches name or domain; `owner_id` filters; sorted by `order_by` and `order`.',
        security,
        headers: TenantHeaders,
        querystring: CompanyListQuery,
        response: { 200: Page(Company), ...problems(400, 401, 403) },
      },
    },
    async (request) => {
      const { organizationId } = request.actor
      const list = companyList(app.db.db, organizationId, companyFiltersOf(request.query))
      return servePage(app, organizationId, request.query, list, queries.companyBody)
    },
  )

  app.get(
    '/:id',
    {
      schema: {
        tags,
        operationId: 'getCompany',
        summary: 'One company',
        description:
          'One company of the organization. An id of another organization answers exactly like a missing one.',
        security,
        headers: TenantHeaders,
        params: IdParams,
        response: { 200: Company, ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const row = await queries.findCompany(app.db.db, request.actor.organizationId, request.params.id)
      if (!row) throw recordNotFound('COMPANY_NOT_FOUND')
      return queries.companyBody(row)
    },
  )

  app.post(
    '/',
    {
      schema: {
        tags,
        operationId: 'createCompany',
        summary: 'Create a company; owner_id defaults to the caller (members may not name anyone else)',
        description:
          'Any member may create companies. `owner_id` defaults to the caller; naming another owner is for owners, admins and managers.',
        security,
        headers: TenantHeaders,
        body: CreateCompanyBody,
        response: { 201: Company, ...problems(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      const row = await operations.createCompany(app.db.db, request.actor, request.body)
      return reply.code(201).send(queries.companyBody(row))
    },
  )

  app.patch(
    '/:id',
    {
      schema: {
        tags,
        operationId: 'updateCompany',
        summary: 'Update a company (members: only their own); null clears the domain',
        description:
          'Only the fields sent change; `null` clears the domain. Members change only companies they own.',
        security,
        headers: TenantHeaders,
        params: IdParams,
        body: UpdateCompanyBody,
        response: { 200: Company, ...problems(400, 401, 403, 404, 409) },
      },
    },
    async (request) =>
      queries.companyBody(
        await operations.changeCompany(app.db.db, request.actor, request.params.id, request.body),
      ),
  )

  app.delete(
    '/:id',
    {
      schema: {
        tags,
        operationId: 'deleteCompany',
        summary: 'Delete a company (members: only their own); 409 while any contact references it',
        description:
          'Members delete only companies they own. Refused while any contact references the company.',
        security,
        headers: TenantHeaders,
        params: IdParams,
        response: { 204: { type: 'null', description: 'Deleted' }, ...problems(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      await operations.deleteCompany(app.db.db, request.actor, request.params.id)
      return reply.code(204).send(null)
    },
  )
}
