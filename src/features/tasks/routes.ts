import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { recordNotFound } from '../../lib/errors.js'
import { servePage } from '../../lib/list.js'
import { IdParams, Page, problems, TenantHeaders } from '../../lib/schemas.js'
import { taskList } from './list.js'
import * as operations from './operations.js'
import * as queries from './queries.js'
import { CreateTaskBody, ListTasksQuery, Task, toTask, UpdateTaskBody } from './schemas.js'

const security = [{ bearerAuth: [] }]
const tags = ['tasks']

export default async function taskRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.get(
    '/',
    {
      schema: {
        tags,
        operationId: 'listTasks',
        summary: 'Tasks, by due date (undated last), then creation time',
        description:
          'Paginated. Filters: `deal_id`, `deal_owner_id` (tasks on deals that user owns), `only_open`, `due_before`, `due_after`. Ordered by due date (undated last), then creation time.',
        security,
        headers: TenantHeaders,
        querystring: ListTasksQuery,
        response: { 200: Page(Task), ...problems(400, 401, 403) },
      },
    },
    async (request) => {
      const { deal_id, deal_owner_id, only_open, due_before, due_after } = request.query
      const { organizationId } = request.actor
      const list = taskList(app.db.db, organizationId, {
        dealId: deal_id,
        dealOwnerId: deal_owner_id,
        onlyOpen: only_open,
        dueBefore: due_before,
        dueAfter: due_after,
      })
      return servePage(app, organizationId, request.query, list, toTask)
    },
  )

  app.get(
    '/:id',
    {
      config: { errorCodes: ['TASK_NOT_FOUND'] },
      schema: {
        tags,
        operationId: 'getTask',
        summary: 'One task',
        description: 'One task of the organization.',
        security,
        headers: TenantHeaders,
        params: IdParams,
        response: { 200: Task, ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const task = await queries.findTask(app.db.db, request.actor.organizationId, request.params.id)
      if (!task) throw recordNotFound('TASK_NOT_FOUND')
      return toTask(task)
    },
  )

  app.post(
    '/',
    {
      config: { errorCodes: ['FORBIDDEN', 'INVALID_DUE_DATE'] },
      schema: {
        tags,
        operationId: 'createTask',
        summary: 'Create a task on a deal (members: only on deals they own); writes task_created',
        description:
          'On a deal of the organization; members only on deals they own. `due_date` must not be in the past (UTC). Writes a `task_created` activity on the deal.',
        security,
        headers: TenantHeaders,
        body: CreateTaskBody,
        response: { 201: Task, ...problems(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const task = await operations.createTask(app.db.db, request.actor, request.body)
      return reply.code(201).send(toTask(task))
    },
  )

  app.patch(
    '/:id',
    {
      config: { errorCodes: ['TASK_NOT_FOUND', 'FORBIDDEN', 'INVALID_DUE_DATE'] },
      schema: {
        tags,
        operationId: 'updateTask',
        summary: 'Change a task (members: only on deals they own); completing it writes task_completed',
        description:
          'Only the fields sent change. Setting `is_done` to true writes a `task_completed` activity on the deal.',
        security,
        headers: TenantHeaders,
        params: IdParams,
        body: UpdateTaskBody,
        response: { 200: Task, ...problems(400, 401, 403, 404) },
      },
    },
    async (request) =>
      toTask(await operations.changeTask(app.db.db, request.actor, request.params.id, request.body)),
  )

  app.delete(
    '/:id',
    {
      config: { errorCodes: ['TASK_NOT_FOUND', 'FORBIDDEN'] },
      schema: {
        tags,
        operationId: 'deleteTask',
        summary: 'Delete a task (members: only on deals they own)',
        description: 'Members delete tasks only on deals they own.',
        security,
        headers: TenantHeaders,
        params: IdParams,
        response: { 204: { type: 'null', description: 'Deleted' }, ...problems(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await operations.deleteTask(app.db.db, request.actor, request.params.id)
      return reply.code(204).send(null)
    },
  )
}
