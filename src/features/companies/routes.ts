import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { isForeignKeyViolation, isUniqueViolation } from '../../lib/db-errors.js'
import { AppError, recordNotFound } from '../../lib/errors.js'
import { assertMayModify, assertValidOwnerChoice } from '../../lib/policy.js'
import { IdParams, Page, pageOf, problems, TenantHeaders } from '../../lib/schemas.js'
import { uuidv7 } from '../../lib/uuid.js'
import { normalizeDomain } from './domain.js'
import * as queries from './queries.js'
import { Company, CompanyListQuery, CreateCompanyBody, UpdateCompanyBody } from './schemas.js'

const security = [{ bearerAuth: [] }]
const tags = ['companies']

/** The unique index (organization_id, domain) decides, also between concurrent requests. */
function conflictAsDomainExists(error: unknown): never {
  if (isUniqueViolation(error, 'companies_org_domain_key')) {
    throw new AppError('COMPANY_DOMAIN_EXISTS', 'Another company of this organization has this domain')
  }
  throw error
}

/**
 * Companies (spec §11) follow the contacts template and rules: order of checks on writes is schema and domain
 * (400) → the company exists in the organization (404) → the caller may change it (403) → the requested owner
 * (403, then 400 OWNER_NOT_MEMBER) → conflicts (409).
 */
export default async function companyRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.get(
    '/',
    {
      schema: {
        tags,
        summary: 'List companies (search in name and domain, filter by owner, sorted and paginated)',
        security,
        headers: TenantHeaders,
        querystring: CompanyListQuery,
        response: { 200: Page(Company), ...problems(400, 401, 403) },
      },
    },
    async (request) => {
      const { page = 1, page_size: pageSize = 20, search, owner_id, order_by, order } = request.query
      const { rows, total } = await queries.listCompanies(app.db.db, request.membership.organizationId, {
        search,
        ownerId: owner_id,
        orderBy: order_by ?? 'created_at',
        order: order ?? 'desc',
        limit: pageSize,
        offset: (page - 1) * pageSize,
      })
      return pageOf(rows.map(queries.companyBody), total, page, pageSize)
    },
  )

  app.get(
    '/:id',
    {
      schema: {
        tags,
        summary: 'One company',
        security,
        headers: TenantHeaders,
        params: IdParams,
        response: { 200: Company, ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const row = await queries.findCompany(app.db.db, request.membership.organizationId, request.params.id)
      if (!row) throw recordNotFound('COMPANY_NOT_FOUND')
      return queries.companyBody(row)
    },
  )

  app.post(
    '/',
    {
      schema: {
        tags,
        summary: 'Create a company; owner_id defaults to the caller (members may not name anyone else)',
        security,
        headers: TenantHeaders,
        body: CreateCompanyBody,
        response: { 201: Company, ...problems(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      const { membership, userId, body } = request
      const domain = body.domain == null ? null : normalizeDomain(body.domain)
      const ownerId = body.owner_id?.toLowerCase() ?? userId
      await assertValidOwnerChoice(app.db.db, membership, userId, ownerId)
      const row = await queries
        .insertCompany(app.db.db, {
          organizationId: membership.organizationId,
          id: uuidv7(),
          ownerId,
          name: body.name,
          domain,
        })
        .catch(conflictAsDomainExists)
      reply.code(201)
      return queries.companyBody(row)
    },
  )

  app.patch(
    '/:id',
    {
      schema: {
        tags,
        summary: 'Update a company (members: only their own); null clears the domain',
        security,
        headers: TenantHeaders,
        params: IdParams,
        body: UpdateCompanyBody,
        response: { 200: Company, ...problems(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      const { membership, userId, body } = request
      const { organizationId } = membership
      const ownerId = body.owner_id?.toLowerCase()
      const changes: queries.CompanyChanges = {}
      if (body.name !== undefined) changes.name = body.name
      if (body.domain !== undefined)
        changes.domain = body.domain === null ? null : normalizeDomain(body.domain)
      if (ownerId !== undefined) changes.ownerId = ownerId
      const row = await app.db.db
        .transaction(async (tx) => {
          const current = await queries.lockCompany(tx, organizationId, request.params.id)
          if (!current) throw recordNotFound('COMPANY_NOT_FOUND')
          assertMayModify(membership, userId, current.ownerId)
          if (ownerId !== undefined) await assertValidOwnerChoice(tx, membership, userId, ownerId)
          if (Object.keys(changes).length === 0) return current
          return queries.updateCompany(tx, organizationId, current.id, changes)
        })
        .catch(conflictAsDomainExists)
      return queries.companyBody(row)
    },
  )

  app.delete(
    '/:id',
    {
      schema: {
        tags,
        summary: 'Delete a company (members: only their own); 409 while any contact references it',
        security,
        headers: TenantHeaders,
        params: IdParams,
        response: { 204: { type: 'null', description: 'Deleted' }, ...problems(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const { membership, userId } = request
      const { organizationId } = membership
      try {
        await app.db.db.transaction(async (tx) => {
          const current = await queries.lockCompany(tx, organizationId, request.params.id)
          if (!current) throw recordNotFound('COMPANY_NOT_FOUND')
          assertMayModify(membership, userId, current.ownerId)
          await queries.deleteCompany(tx, organizationId, current.id)
        })
      } catch (error) {
        // contacts_company_fkey has no cascade: the database refuses while a contact references the company,
        // also one linked concurrently.
        if (isForeignKeyViolation(error, 'contacts_company_fkey')) {
          throw new AppError('COMPANY_HAS_CONTACTS', 'Unlink or delete the contacts of this company first')
        }
        throw error
      }
      return reply.code(204).send(null)
    },
  )
}
