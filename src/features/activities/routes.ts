import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { recordNotFound } from '../../lib/errors.js'
import { servePage } from '../../lib/list.js'
import { Page, problems, TenantHeaders } from '../../lib/schemas.js'
import { findDeal } from '../deals/queries.js'
import { activityList } from './list.js'
import * as operations from './operations.js'
import { Activity, CreateCommentBody, DealParams, ListActivitiesQuery, toActivity } from './schemas.js'

const security = [{ bearerAuth: [] }]
const tags = ['activities']

/** The activity feed of one deal, registered under `/deals/:deal_id/activities`. */
export default async function activityRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.get(
    '/',
    {
      config: { errorCodes: ['DEAL_NOT_FOUND'] },
      schema: {
        tags,
        operationId: 'listDealActivities',
        summary: "A deal's activity feed, newest first",
        description:
          'Status and stage changes, task events and comments of one deal, newest first, each with its author; paginated.',
        security,
        headers: TenantHeaders,
        params: DealParams,
        querystring: ListActivitiesQuery,
        response: { 200: Page(Activity), ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { organizationId } = request.actor
      const { deal_id: dealId } = request.params
      if (!(await findDeal(app.db.db, organizationId, dealId))) throw recordNotFound('DEAL_NOT_FOUND')
      return servePage(
        app,
        organizationId,
        request.query,
        activityList(app.db.db, organizationId, dealId),
        toActivity,
      )
    },
  )

  app.post(
    '/',
    {
      config: { errorCodes: ['DEAL_NOT_FOUND'] },
      schema: {
        tags,
        operationId: 'commentOnDeal',
        summary: 'Comment on a deal (any member, any deal)',
        description:
          "Adds a comment to the deal's feed. Any member may comment on any deal of the organization.",
        security,
        headers: TenantHeaders,
        params: DealParams,
        body: CreateCommentBody,
        response: { 201: Activity, ...problems(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const activity = await operations.createComment(
        app.db.db,
        request.actor,
        request.params.deal_id,
        request.body,
      )
      return reply.code(201).send(toActivity(activity))
    },
  )
}
