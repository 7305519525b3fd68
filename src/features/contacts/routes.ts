import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { recordNotFound } from '../../lib/errors.js'
import { servePage } from '../../lib/list.js'
import { IdParams, Page, problems, TenantHeaders } from '../../lib/schemas.js'
import { contactList } from './list.js'
import * as operations from './operations.js'
import * as queries from './queries.js'
import { Contact, ContactListQuery, CreateContactBody, toContact, UpdateContactBody } from './schemas.js'

const security = [{ bearerAuth: [] }]
const tags = ['contacts']

/** Contacts: the feature template (schemas, queries, operations, routes that only translate HTTP). */
export default async function contactRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.get(
    '/',
    {
      schema: {
        tags,
        operationId: 'listContacts',
        summary: 'List contacts (search in name and email, filter by owner, sorted and paginated)',
        description:
          'Paginated. `search` matches name or email (case-insensitive substring); `owner_id` filters; `order_by` and `order` sort.',
        security,
        headers: TenantHeaders,
        querystring: ContactListQuery,
        response: { 200: Page(Contact), ...problems(400, 401, 403) },
      },
    },
    async (request) => {
      const { search, owner_id, company_id, order_by, order } = request.query
      const { organizationId } = request.actor
      const list = contactList(app.db.db, organizationId, {
        search,
        ownerId: owner_id,
        companyId: company_id,
        orderBy: order_by,
        order,
      })
      return servePage(app, organizationId, request.query, list, toContact)
    },
  )

  app.get(
    '/:id',
    {
      config: { errorCodes: ['CONTACT_NOT_FOUND'] },
      schema: {
        tags,
        operationId: 'getContact',
        summary: 'One contact',
        description:
          'One contact of the organization. An id of another organization answers exactly like a missing one.',
        security,
        headers: TenantHeaders,
        params: IdParams,
        response: { 200: Contact, ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const row = await queries.findContact(app.db.db, request.actor.organizationId, request.params.id)
      if (!row) throw recordNotFound('CONTACT_NOT_FOUND')
      return toContact(row)
    },
  )

  app.post(
    '/',
    {
      config: { errorCodes: ['FORBIDDEN', 'OWNER_NOT_MEMBER'] },
      schema: {
        tags,
        operationId: 'createContact',
        summary: 'Create a contact; owner_id defaults to the caller (members may not name anyone else)',
        description:
          'Any member may create contacts. `owner_id` defaults to the caller; naming another owner is for owners, admins and managers, and that owner must be a member.',
        security,
        headers: TenantHeaders,
        body: CreateContactBody,
        response: { 201: Contact, ...problems(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const row = await operations.createContact(app.db.db, request.actor, request.body)
      return reply.code(201).send(toContact(row))
    },
  )

  app.patch(
    '/:id',
    {
      config: { errorCodes: ['CONTACT_NOT_FOUND', 'FORBIDDEN', 'OWNER_NOT_MEMBER'] },
      schema: {
        tags,
        operationId: 'updateContact',
        summary: 'Update a contact (members: only their own); null clears email or phone',
        description:
          'Only the fields sent change; `null` clears email or phone. Members change only contacts they own.',
        security,
        headers: TenantHeaders,
        params: IdParams,
        body: UpdateContactBody,
        response: { 200: Contact, ...problems(400, 401, 403, 404) },
      },
    },
    async (request) =>
      toContact(await operations.changeContact(app.db.db, request.actor, request.params.id, request.body)),
  )

  app.delete(
    '/:id',
    {
      config: { errorCodes: ['CONTACT_NOT_FOUND', 'FORBIDDEN', 'CONTACT_HAS_DEALS'] },
      schema: {
        tags,
        operationId: 'deleteContact',
        summary: 'Delete a contact (members: only their own); 409 while any deal references it',
        description: 'Members delete only contacts they own. Refused while any deal references the contact.',
        security,
        headers: TenantHeaders,
        params: IdParams,
        response: { 204: { type: 'null', description: 'Deleted' }, ...problems(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      await operations.deleteContact(app.db.db, request.actor, request.params.id)
      return reply.code(204).send(null)
    },
  )
}
