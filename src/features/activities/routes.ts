import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { recordNotFound } from '../../lib/errors.js'
import { Page, pageOf, problems, TenantHeaders } from '../../lib/schemas.js'
import { findDeal } from '../deals/queries.js'
import * as queries from './queries.js'
import { recordActivity } from './record.js'
import { Activity, CreateCommentBody, DealParams, ListActivitiesQuery } from './schemas.js'

const security = [{ bearerAuth: [] }]
const tags = ['activities']

/** The activity feed of one deal, registered under `/deals/:deal_id/activities`. */
export default async function activityRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.get(
    '/',
    {
      schema: {
        tags,
        summary: "A deal's activity feed, newest first",
        security,
        headers: TenantHeaders,
        params: DealParams,
        querystring: ListActivitiesQuery,
        response: { 200: Page(Activity), ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { organizationId } = request.membership
      const { deal_id: dealId } = request.params
      const { page = 1, page_size: pageSize = 20 } = request.query
      if (!(await findDeal(app.db.db, organizationId, dealId))) throw recordNotFound('DEAL_NOT_FOUND')
      const { rows, total } = await queries.listActivities(app.db.db, organizationId, dealId, page, pageSize)
      return pageOf(rows.map(queries.toActivityBody), total, page, pageSize)
    },
  )

  app.post(
    '/',
    {
      schema: {
        tags,
        summary: 'Comment on a deal (any member, any deal)',
        security,
        headers: TenantHeaders,
        params: DealParams,
        body: CreateCommentBody,
        response: { 201: Activity, ...problems(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { organizationId } = request.membership
      const { deal_id: dealId } = request.params
      const activity = await app.db.db.transaction(async (tx) => {
        if (!(await queries.shareLockDeal(tx, organizationId, dealId))) throw recordNotFound('DEAL_NOT_FOUND')
        const id = await recordActivity(tx, {
          organizationId,
          dealId,
          authorId: request.userId,
          type: 'comment',
          payload: { text: request.body.payload.text },
        })
        return queries.findActivity(tx, organizationId, id)
      })
      if (!activity) throw new Error('a comment just written was not found')
      reply.code(201)
      return queries.toActivityBody(activity)
    },
  )
}
