import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { exportQuery, sendCsv } from '../../lib/csv-export.js'
import { problems, TenantHeaders } from '../../lib/schemas.js'
import { taskList } from './list.js'
import { ListTasksQuery, Task, toTask } from './schemas.js'

/** The list's filters and order, without its paging. */
export const TaskExportQuery = exportQuery(ListTasksQuery)

/** `GET /tasks/export`: the task list's filters and order as streamed CSV (spec §14). */
export default async function taskCsvRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.get(
    '/export',
    {
      schema: {
        tags: ['tasks'],
        operationId: 'exportTasks',
        summary: 'Export the task list (its filters and order) as CSV',
        description:
          'Streams every task matching the list filters, in the list order, as RFC 4180 CSV with a header row; formula-like cells are prefixed with an apostrophe.',
        produces: ['text/csv'],
        security: [{ bearerAuth: [] }],
        headers: TenantHeaders,
        querystring: TaskExportQuery,
        response: {
          200: Type.String({ description: 'text/csv; charset=utf-8' }),
          ...problems(400, 401, 403),
        },
      },
    },
    async (request, reply) => {
      const { deal_id, deal_owner_id, only_open, due_before, due_after } = request.query
      const list = taskList(app.db.db, request.actor.organizationId, {
        dealId: deal_id,
        dealOwnerId: deal_owner_id,
        onlyOpen: only_open,
        dueBefore: due_before,
        dueAfter: due_after,
      })
      return sendCsv(reply, 'tasks.csv', { ...list, columns: Object.keys(Task.properties), toJson: toTask })
    },
  )
}
