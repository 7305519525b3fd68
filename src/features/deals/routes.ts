import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { isForeignKeyViolation } from '../../lib/db-errors.js'
import { AppError, recordNotFound } from '../../lib/errors.js'
import { parseAmount } from '../../lib/money.js'
import { assertMayModify, assertValidOwnerChoice } from '../../lib/policy.js'
import { IdParams, Page, pageOf, problems, TenantHeaders } from '../../lib/schemas.js'
import { uuidv7 } from '../../lib/uuid.js'
import { dealsChanged } from '../analytics/freshness.js'
import * as queries from './queries.js'
import { assertValidDealChange, assertValidLostReason, dealChangeActivities } from './rules.js'
import { CreateDealBody, Deal, DealListQuery, DealReadQuery, UpdateDealBody } from './schemas.js'

const security = [{ bearerAuth: [] }]
const tags = ['deals']

// One body for a missing record and another organization's record, so ids cannot be probed.
/** Each failed attempt means another change of the deal committed; this many in a row is pathological. */
const MAX_PATCH_ATTEMPTS = 50

/** The composite FK (organization_id, contact_id) refuses a contact of another organization, atomically. */
function unknownContactAsNotFound(error: unknown): never {
  if (isForeignKeyViolation(error, 'deals_contact_fkey')) throw recordNotFound('CONTACT_NOT_FOUND')
  throw error
}

/**
 * Order of checks on writes: schema and amounts (400 VALIDATION_ERROR) → the deal exists in the organization
 * (404 DEAL_NOT_FOUND) → the caller may change it (403 FORBIDDEN) → the requested owner (403 FORBIDDEN, then
 * 400 OWNER_NOT_MEMBER) → stage rollback (403 STAGE_ROLLBACK_FORBIDDEN) → won without amount
 * (400 INVALID_DEAL_AMOUNT) → the contact is in the organization (404 CONTACT_NOT_FOUND, from the FK).
 */
export default async function dealRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.get(
    '/',
    {
      schema: {
        tags,
        summary: 'List deals (filters by status, stage, owner, contact, amount range, title search)',
        security,
        headers: TenantHeaders,
        querystring: DealListQuery,
        response: { 200: Page(Deal), ...problems(400, 401, 403) },
      },
    },
    async (request) => {
      const query = request.query
      const { page = 1, page_size: pageSize = 20 } = query
      const { rows, contacts, total } = await queries.listDeals(
        app.db.db,
        request.membership.organizationId,
        {
          statuses: query.status,
          stages: query.stage,
          ownerId: query.owner_id,
          contactId: query.contact_id,
          companyId: query.company_id,
          minAmount:
            query.min_amount === undefined
              ? undefined
              : parseAmount(query.min_amount, 'querystring.min_amount'),
          maxAmount:
            query.max_amount === undefined
              ? undefined
              : parseAmount(query.max_amount, 'querystring.max_amount'),
          search: query.search,
          expectedCloseBefore: query.expected_close_before,
          expectedCloseAfter: query.expected_close_after,
          expandContact: query.expand === 'contact',
          orderBy: query.order_by ?? 'created_at',
          order: query.order ?? 'desc',
          limit: pageSize,
          offset: (page - 1) * pageSize,
        },
      )
      return pageOf(
        rows.map((row, index) => queries.dealBody(row, contacts?.[index])),
        total,
        page,
        pageSize,
      )
    },
  )

  app.get(
    '/:id',
    {
      schema: {
        tags,
        summary: 'One deal',
        security,
        headers: TenantHeaders,
        params: IdParams,
        querystring: DealReadQuery,
        response: { 200: Deal, ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { organizationId } = request.membership
      if (request.query.expand === 'contact') {
        const found = await queries.findDealWithContact(app.db.db, organizationId, request.params.id)
        if (!found) throw recordNotFound('DEAL_NOT_FOUND')
        return queries.dealBody(found.deal, found.contact)
      }
      const row = await queries.findDeal(app.db.db, organizationId, request.params.id)
      if (!row) throw recordNotFound('DEAL_NOT_FOUND')
      return queries.dealBody(row)
    },
  )

  app.post(
    '/',
    {
      schema: {
        tags,
        summary: 'Create a deal on a contact of the organization; owner_id defaults to the caller',
        security,
        headers: TenantHeaders,
        body: CreateDealBody,
        response: { 201: Deal, ...problems(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { membership, userId, body } = request
      const { organizationId } = membership
      const amount = parseAmount(body.amount ?? 0)
      const ownerId = body.owner_id?.toLowerCase() ?? userId
      const status = body.status ?? 'new'
      await assertValidOwnerChoice(app.db.db, membership, userId, ownerId)
      // The initial values write no activity; the stage history starts at the given stage (spec §12).
      assertValidDealChange(membership.role, { status, stage: 'qualification', amount }, {})
      assertValidLostReason(status, body.lost_reason)
      const row = await queries
        .insertDeal(app.db.db, {
          organizationId,
          id: uuidv7(),
          contactId: body.contact_id,
          ownerId,
          title: body.title,
          amount,
          currency: body.currency?.toUpperCase(),
          status,
          stage: body.stage ?? 'qualification',
          expectedCloseDate: body.expected_close_date ?? null,
          lostReason: body.lost_reason ?? null,
          stageChangedBy: userId,
        })
        .catch(unknownContactAsNotFound)
      await dealsChanged(app, organizationId)
      reply.code(201)
      return queries.dealBody(row)
    },
  )

  app.patch(
    '/:id',
    {
      schema: {
        tags,
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
    async (request) => {
      const { membership, userId, body } = request
      const { organizationId } = membership
      const changes: queries.DealChanges = {}
      if (body.title !== undefined) changes.title = body.title
      if (body.amount !== undefined) changes.amount = parseAmount(body.amount)
      if (body.currency !== undefined) changes.currency = body.currency.toUpperCase()
      if (body.status !== undefined) changes.status = body.status
      if (body.stage !== undefined) changes.stage = body.stage
      if (body.contact_id !== undefined) changes.contactId = body.contact_id
      if (body.owner_id !== undefined) changes.ownerId = body.owner_id.toLowerCase()
      if (body.expected_close_date !== undefined) changes.expectedCloseDate = body.expected_close_date
      if (body.lost_reason !== undefined) changes.lostReason = body.lost_reason
      // Optimistic: read, check the rules, then one guarded statement writes the change and its activities;
      // if another change got there first, read again (the rules must see the state they change).
      let row: Awaited<ReturnType<typeof queries.findDeal>>
      for (let attempt = 1; ; attempt++) {
        const current = await queries.findDeal(app.db.db, organizationId, request.params.id)
        if (!current) throw recordNotFound('DEAL_NOT_FOUND')
        assertMayModify(membership, userId, current.ownerId)
        if (changes.ownerId !== undefined && attempt === 1) {
          await assertValidOwnerChoice(app.db.db, membership, userId, changes.ownerId)
        }
        assertValidDealChange(membership.role, current, changes)
        assertValidLostReason(changes.status ?? current.status, changes.lostReason)
        if (Object.keys(changes).length === 0) return queries.dealBody(current)
        // The history row of a stage change names who moved the deal (the trigger writes it with the change).
        const write =
          changes.stage !== undefined && changes.stage !== current.stage
            ? { ...changes, stageChangedBy: userId }
            : changes
        const activities = dealChangeActivities(current, changes).map((activity) => ({
          id: uuidv7(),
          ...activity,
        }))
        row = await queries
          .updateDealIfUnchanged(app.db.db, current, write, userId, activities)
          .catch(unknownContactAsNotFound)
        if (row) break
        if (attempt >= MAX_PATCH_ATTEMPTS) {
          throw new AppError('SERVICE_UNAVAILABLE', 'The deal is changing too fast; retry shortly', {
            headers: { 'retry-after': '1' },
          })
        }
      }
      await dealsChanged(app, organizationId)
      return queries.dealBody(row)
    },
  )

  app.delete(
    '/:id',
    {
      schema: {
        tags,
        summary: 'Delete a deal with its tasks and activities (members: only their own)',
        security,
        headers: TenantHeaders,
        params: IdParams,
        response: { 204: { type: 'null', description: 'Deleted' }, ...problems(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { membership, userId } = request
      const { organizationId } = membership
      await app.db.db.transaction(async (tx) => {
        const current = await queries.lockDeal(tx, organizationId, request.params.id)
        if (!current) throw recordNotFound('DEAL_NOT_FOUND')
        assertMayModify(membership, userId, current.ownerId)
        await queries.deleteDeal(tx, organizationId, current.id)
      })
      await dealsChanged(app, organizationId)
      return reply.code(204).send(null)
    },
  )
}
