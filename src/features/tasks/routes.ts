import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { todayUtc } from '../../lib/dates.js'
import { recordNotFound } from '../../lib/errors.js'
import { assertMayModify } from '../../lib/policy.js'
import { IdParams, Page, pageOf, problems, TenantHeaders } from '../../lib/schemas.js'
import { uuidv7 } from '../../lib/uuid.js'
import { shareLockDeal } from '../activities/queries.js'
import { recordActivity } from '../activities/record.js'
import * as queries from './queries.js'
import { assertDueDateAllowed, taskChanges } from './rules.js'
import { CreateTaskBody, ListTasksQuery, Task, UpdateTaskBody } from './schemas.js'

const security = [{ bearerAuth: [] }]
const tags = ['tasks']

export default async function taskRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.get(
    '/',
    {
      schema: {
        tags,
        summary: 'Tasks, by due date (undated last), then creation time',
        security,
        headers: TenantHeaders,
        querystring: ListTasksQuery,
        response: { 200: Page(Task), ...problems(400, 401, 403) },
      },
    },
    async (request) => {
      const { page = 1, page_size: pageSize = 20, deal_id, only_open, due_before, due_after } = request.query
      const { rows, total } = await queries.listTasks(
        app.db.db,
        request.membership.organizationId,
        { dealId: deal_id, onlyOpen: only_open, dueBefore: due_before, dueAfter: due_after },
        page,
        pageSize,
      )
      return pageOf(rows.map(queries.toTaskBody), total, page, pageSize)
    },
  )

  app.get(
    '/:id',
    {
      schema: {
        tags,
        summary: 'One task',
        security,
        headers: TenantHeaders,
        params: IdParams,
        response: { 200: Task, ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const task = await queries.findTask(app.db.db, request.membership.organizationId, request.params.id)
      if (!task) throw recordNotFound('TASK_NOT_FOUND')
      return queries.toTaskBody(task)
    },
  )

  app.post(
    '/',
    {
      schema: {
        tags,
        summary: 'Create a task on a deal (members: only on deals they own); writes task_created',
        security,
        headers: TenantHeaders,
        body: CreateTaskBody,
        response: { 201: Task, ...problems(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { organizationId } = request.membership
      const { deal_id: dealId, title, description = null, due_date: dueDate = null } = request.body
      const task = await app.db.db.transaction(async (tx) => {
        const deal = await shareLockDeal(tx, organizationId, dealId)
        if (!deal) throw recordNotFound('DEAL_NOT_FOUND')
        assertMayModify(request.membership, request.userId, deal.ownerId)
        if (dueDate !== null) assertDueDateAllowed(dueDate, todayUtc())
        const created = await queries.insertTask(tx, {
          organizationId,
          id: uuidv7(),
          dealId,
          title,
          description,
          dueDate,
        })
        await recordActivity(tx, {
          organizationId,
          dealId,
          authorId: request.userId,
          type: 'task_created',
          payload: { task_id: created.id, task_title: created.title },
        })
        return created
      })
      reply.code(201)
      return queries.toTaskBody(task)
    },
  )

  app.patch(
    '/:id',
    {
      schema: {
        tags,
        summary: 'Change a task (members: only on deals they own); completing it writes task_completed',
        security,
        headers: TenantHeaders,
        params: IdParams,
        body: UpdateTaskBody,
        response: { 200: Task, ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { organizationId } = request.membership
      const task = await app.db.db.transaction(async (tx) => {
        const locked = await queries.lockTaskWithDeal(tx, organizationId, request.params.id)
        if (!locked) throw recordNotFound('TASK_NOT_FOUND')
        assertMayModify(request.membership, request.userId, locked.dealOwnerId)
        // Decided on the row read under the lock: of two parallel completions only one sees the task open.
        const { changes, completed } = taskChanges(locked.task, request.body, todayUtc())
        if (Object.keys(changes).length === 0) return locked.task
        const updated = await queries.updateTask(tx, organizationId, locked.task.id, changes)
        if (completed) {
          await recordActivity(tx, {
            organizationId,
            dealId: updated.dealId,
            authorId: request.userId,
            type: 'task_completed',
            payload: { task_id: updated.id, task_title: updated.title },
          })
        }
        return updated
      })
      return queries.toTaskBody(task)
    },
  )

  app.delete(
    '/:id',
    {
      schema: {
        tags,
        summary: 'Delete a task (members: only on deals they own)',
        security,
        headers: TenantHeaders,
        params: IdParams,
        response: { 204: { type: 'null', description: 'Deleted' }, ...problems(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { organizationId } = request.membership
      await app.db.db.transaction(async (tx) => {
        const locked = await queries.lockTaskWithDeal(tx, organizationId, request.params.id)
        if (!locked) throw recordNotFound('TASK_NOT_FOUND')
        assertMayModify(request.membership, request.userId, locked.dealOwnerId)
        await queries.deleteTask(tx, organizationId, locked.task.id)
      })
      return reply.code(204).send(null)
    },
  )
}
