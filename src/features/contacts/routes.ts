import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { isForeignKeyViolation } from '../../lib/db-errors.js'
import { AppError, recordNotFound } from '../../lib/errors.js'
import { assertMayModify, assertValidOwnerChoice } from '../../lib/policy.js'
import { IdParams, Page, pageOf, problems, TenantHeaders } from '../../lib/schemas.js'
import { uuidv7 } from '../../lib/uuid.js'
import * as queries from './queries.js'
import { Contact, ContactListQuery, CreateContactBody, UpdateContactBody } from './schemas.js'

const security = [{ bearerAuth: [] }]
const tags = ['contacts']

// One body for a missing contact and another organization's contact, so ids cannot be probed.

/** The composite FK (organization_id, company_id) refuses a company of another organization, atomically. */
function unknownCompanyAsNotFound(error: unknown): never {
  if (isForeignKeyViolation(error, 'contacts_company_fkey')) throw recordNotFound('COMPANY_NOT_FOUND')
  throw error
}

/**
 * Order of checks on writes: schema (400) → the contact exists in the organization (404) → the caller may
 * change it (403 FORBIDDEN) → the requested owner (403 FORBIDDEN, then 400 OWNER_NOT_MEMBER) → conflicts (409).
 */
export default async function contactRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.get(
    '/',
    {
      schema: {
        tags,
        summary: 'List contacts (search in name and email, filter by owner, sorted and paginated)',
        security,
        headers: TenantHeaders,
        querystring: ContactListQuery,
        response: { 200: Page(Contact), ...problems(400, 401, 403) },
      },
    },
    async (request) => {
      const {
        page = 1,
        page_size: pageSize = 20,
        search,
        owner_id,
        company_id,
        order_by,
        order,
      } = request.query
      const { rows, total } = await queries.listContacts(app.db.db, request.membership.organizationId, {
        search,
        ownerId: owner_id,
        companyId: company_id?.toLowerCase(),
        orderBy: order_by ?? 'created_at',
        order: order ?? 'desc',
        limit: pageSize,
        offset: (page - 1) * pageSize,
      })
      return pageOf(rows.map(queries.contactBody), total, page, pageSize)
    },
  )

  app.get(
    '/:id',
    {
      schema: {
        tags,
        summary: 'One contact',
        security,
        headers: TenantHeaders,
        params: IdParams,
        response: { 200: Contact, ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const row = await queries.findContact(app.db.db, request.membership.organizationId, request.params.id)
      if (!row) throw recordNotFound('CONTACT_NOT_FOUND')
      return queries.contactBody(row)
    },
  )

  app.post(
    '/',
    {
      schema: {
        tags,
        summary: 'Create a contact; owner_id defaults to the caller (members may not name anyone else)',
        security,
        headers: TenantHeaders,
        body: CreateContactBody,
        response: { 201: Contact, ...problems(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { membership, userId, body } = request
      const ownerId = body.owner_id?.toLowerCase() ?? userId
      await assertValidOwnerChoice(app.db.db, membership, userId, ownerId)
      const row = await queries
        .insertContact(app.db.db, {
          organizationId: membership.organizationId,
          id: uuidv7(),
          ownerId,
          name: body.name,
          email: body.email ?? null,
          phone: body.phone ?? null,
          companyId: body.company_id?.toLowerCase() ?? null,
        })
        .catch(unknownCompanyAsNotFound)
      reply.code(201)
      return queries.contactBody(row)
    },
  )

  app.patch(
    '/:id',
    {
      schema: {
        tags,
        summary: 'Update a contact (members: only their own); null clears email or phone',
        security,
        headers: TenantHeaders,
        params: IdParams,
        body: UpdateContactBody,
        response: { 200: Contact, ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { membership, userId, body } = request
      const { organizationId } = membership
      const ownerId = body.owner_id?.toLowerCase()
      const changes: queries.ContactChanges = {}
      if (body.name !== undefined) changes.name = body.name
      if (body.email !== undefined) changes.email = body.email
      if (body.phone !== undefined) changes.phone = body.phone
      if (ownerId !== undefined) changes.ownerId = ownerId
      if (body.company_id !== undefined) changes.companyId = body.company_id?.toLowerCase() ?? null
      const row = await app.db.db
        .transaction(async (tx) => {
          const current = await queries.lockContact(tx, organizationId, request.params.id)
          if (!current) throw recordNotFound('CONTACT_NOT_FOUND')
          assertMayModify(membership, userId, current.ownerId)
          if (ownerId !== undefined) await assertValidOwnerChoice(tx, membership, userId, ownerId)
          if (Object.keys(changes).length === 0) return current
          return queries.updateContact(tx, organizationId, current.id, changes)
        })
        .catch(unknownCompanyAsNotFound)
      return queries.contactBody(row)
    },
  )

  app.delete(
    '/:id',
    {
      schema: {
        tags,
        summary: 'Delete a contact (members: only their own); 409 while any deal references it',
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
          const current = await queries.lockContact(tx, organizationId, request.params.id)
          if (!current) throw recordNotFound('CONTACT_NOT_FOUND')
          assertMayModify(membership, userId, current.ownerId)
          await queries.deleteContact(tx, organizationId, current.id)
        })
      } catch (error) {
        // The database refuses while any deal references the contact (deals_contact_fkey has no cascade),
        // also when a deal is inserted concurrently.
        if (isForeignKeyViolation(error, 'deals_contact_fkey')) {
          throw new AppError('CONTACT_HAS_DEALS', 'Delete or move the deals of this contact first')
        }
        throw error
      }
      return reply.code(204).send(null)
    },
  )
}
