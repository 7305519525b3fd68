import type { FastifyInstance } from 'fastify'
import { requireTenant } from './auth/access.js'
import activityRoutes from './features/activities/routes.js'
import analyticsRoutes from './features/analytics/routes.js'
import apiKeyRoutes from './features/api-keys/routes.js'
import companyCsvRoutes from './features/companies/csv-routes.js'
import companyRoutes from './features/companies/routes.js'
import contactCsvRoutes from './features/contacts/csv-routes.js'
import contactRoutes from './features/contacts/routes.js'
import dealCsvRoutes from './features/deals/csv-routes.js'
import dealRoutes from './features/deals/routes.js'
import pipelineRoutes from './features/pipeline/routes.js'
import searchRoutes from './features/search/routes.js'
import stageHistoryRoutes from './features/stage-history/routes.js'
import taskCsvRoutes from './features/tasks/csv-routes.js'
import taskRoutes from './features/tasks/routes.js'
import webhookRoutes from './features/webhooks/routes.js'

/**
 * The record features (contacts, deals, tasks, activities, analytics) live inside this scope, whose hook
 * resolves `X-Organization-Id` into `request.actor` before anything else: no route can forget it.
 */
export async function tenantRoutes(app: FastifyInstance) {
  app.addHook('onRequest', requireTenant)
  await app.register(contactRoutes, { prefix: '/contacts' })
  await app.register(dealRoutes, { prefix: '/deals' })
  await app.register(taskRoutes, { prefix: '/tasks' })
  await app.register(activityRoutes, { prefix: '/deals/:deal_id/activities' })
  await app.register(analyticsRoutes, { prefix: '/analytics/deals' })
  await app.register(searchRoutes, { prefix: '/search' })
  await app.register(contactCsvRoutes, { prefix: '/contacts' })
  await app.register(dealCsvRoutes, { prefix: '/deals' })
  await app.register(taskCsvRoutes, { prefix: '/tasks' })
  await app.register(companyRoutes, { prefix: '/companies' })
  await app.register(companyCsvRoutes, { prefix: '/companies' })
  await app.register(pipelineRoutes, { prefix: '/pipeline' })
  await app.register(stageHistoryRoutes, { prefix: '/deals/:deal_id/stage-history' })
  await app.register(apiKeyRoutes, { prefix: '/api-keys' })
  await app.register(webhookRoutes, { prefix: '/webhooks' })
}
