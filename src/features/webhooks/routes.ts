import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { and, count, desc, eq, type SQL, sql } from 'drizzle-orm'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { assertAllowed } from '../../auth/policy.js'
import { events, webhookDeliveries, webhooks } from '../../db/schema.js'
import { AppError } from '../../lib/errors.js'
import { IdParams, Page, pageOf, problems, TenantHeaders } from '../../lib/schemas.js'
import { uuidv7 } from '../../lib/uuid.js'
import { isEventPattern, PING_EVENT } from '../events/catalogue.js'
import {
  CreateWebhookBody,
  DeliveryListQuery,
  DeliveryParams,
  toDelivery,
  toWebhook,
  UpdateWebhookBody,
} from './schemas.js'
import { generateSecret } from './signing.js'
import { forbiddenTargetReason } from './ssrf.js'

const security = [{ bearerAuth: [] }]
const tags = ['webhooks']
const ROTATION_OVERLAP = sql`interval '24 hours'`

function notFound(): AppError {
  return new AppError('WEBHOOK_NOT_FOUND', 'No webhook with this id in this organization')
}

/** http(s), at most 2048 characters (schema), and not aimed at the local network (spec §16). */
async function checkUrl(raw: string, allowPrivate: boolean): Promise<string> {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw invalid('body.url', 'must be an absolute http(s) URL')
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw invalid('body.url', 'must be an http or https URL')
  }
  if (!allowPrivate) {
    const reason = await forbiddenTargetReason(url)
    if (reason) throw new AppError('WEBHOOK_URL_NOT_ALLOWED', `Webhook URL not allowed: ${reason}`)
  }
  return raw
}

function checkEvents(patterns: string[]): string[] {
  const unknown = patterns.filter((pattern) => !isEventPattern(pattern))
  if (unknown.length > 0) {
    throw invalid('body.events', `unknown event type or pattern: ${unknown.join(', ')}`)
  }
  return [...new Set(patterns)]
}

function invalid(field: string, message: string): AppError {
  return new AppError('VALIDATION_ERROR', `Invalid request: ${field} ${message}`, {
    errors: [{ field, message }],
  })
}

/** Webhook endpoints (tenant routes) for owners and admins; API keys never reach them. */
export default async function webhookRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.addHook('onRequest', async (request) => {
    assertAllowed(request.actor, 'webhook.manage')
  })
  const byId = (organizationId: string, id: string) =>
    and(eq(webhooks.organizationId, organizationId), eq(webhooks.id, id))

  app.post(
    '/',
    {
      schema: {
        tags,
        operationId: 'createWebhook',
        summary: 'Subscribe a URL to events',
        description:
          'The answer carries the signing secret, shown only here and on rotation. Deliveries are signed ' +
          'per Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`).',
        security,
        headers: TenantHeaders,
        body: CreateWebhookBody,
        response: { 201: Type.Ref('CreatedWebhook'), ...problems(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const { body, actor } = request
      const url = await checkUrl(body.url, app.config.webhookAllowPrivateUrls)
      const secret = generateSecret()
      const [row] = await app.db.db
        .insert(webhooks)
        .values({
          organizationId: actor.organizationId,
          id: uuidv7(),
          url,
          events: checkEvents(body.events),
          description: body.description ?? null,
          enabled: body.enabled ?? true,
          secret,
        })
        .returning()
      reply.code(201)
      return { ...toWebhook(row as typeof webhooks.$inferSelect), secret }
    },
  )

  app.get(
    '/',
    {
      schema: {
        tags,
        operationId: 'listWebhooks',
        summary: "The organization's webhooks, oldest first",
        description: "Lists the organization's webhook endpoints (owner, admin), without their secrets.",
        security,
        headers: TenantHeaders,
        response: { 200: Type.Array(Type.Ref('Webhook')), ...problems(400, 401, 403) },
      },
    },
    async (request) => {
      const rows = await app.db.db
        .select()
        .from(webhooks)
        .where(eq(webhooks.organizationId, request.actor.organizationId))
        .orderBy(webhooks.createdAt, webhooks.id)
      return rows.map(toWebhook)
    },
  )

  app.get(
    '/:id',
    {
      schema: {
        tags,
        operationId: 'getWebhook',
        summary: 'One webhook',
        description: 'One webhook endpoint of the organization, without its secret (owner, admin).',
        security,
        headers: TenantHeaders,
        params: IdParams,
        response: { 200: Type.Ref('Webhook'), ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const [row] = await app.db.db
        .select()
        .from(webhooks)
        .where(byId(request.actor.organizationId, request.params.id))
      if (!row) throw notFound()
      return toWebhook(row)
    },
  )

  app.patch(
    '/:id',
    {
      schema: {
        tags,
        operationId: 'updateWebhook',
        summary: 'Change the URL, events, description or enabled flag',
        description:
          'Changes the URL (checked against private addresses again), the event patterns, the description or the enabled flag (owner, admin).',
        security,
        headers: TenantHeaders,
        params: IdParams,
        body: UpdateWebhookBody,
        response: { 200: Type.Ref('Webhook'), ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { body, actor } = request
      const changes: Partial<typeof webhooks.$inferInsert> = {}
      if (body.url !== undefined) changes.url = await checkUrl(body.url, app.config.webhookAllowPrivateUrls)
      if (body.events !== undefined) changes.events = checkEvents(body.events)
      if (body.description !== undefined) changes.description = body.description
      if (body.enabled !== undefined) changes.enabled = body.enabled
      const where = byId(actor.organizationId, request.params.id)
      const [row] =
        Object.keys(changes).length === 0
          ? await app.db.db.select().from(webhooks).where(where)
          : await app.db.db
              .update(webhooks)
              .set({ ...changes, updatedAt: sql`now()` })
              .where(where)
              .returning()
      if (!row) throw notFound()
      return toWebhook(row)
    },
  )

  app.delete(
    '/:id',
    {
      schema: {
        tags,
        operationId: 'deleteWebhook',
        summary: 'Delete a webhook with its delivery log',
        description:
          'Deletes the webhook endpoint; its pending deliveries are dropped with its delivery log (owner, admin).',
        security,
        headers: TenantHeaders,
        params: IdParams,
        response: { 204: { type: 'null', description: 'Deleted' }, ...problems(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const [row] = await app.db.db
        .delete(webhooks)
        .where(byId(request.actor.organizationId, request.params.id))
        .returning({ id: webhooks.id })
      if (!row) throw notFound()
      return reply.code(204).send(null)
    },
  )

  app.post(
    '/:id/rotate-secret',
    {
      schema: {
        tags,
        operationId: 'rotateWebhookSecret',
        summary: 'Replace the signing secret; for 24 hours the old one signs too',
        description:
          'Deliveries carry two signatures (space-separated) until the old secret expires. Rotating again ' +
          'within those 24 hours retires the oldest secret at once.',
        security,
        headers: TenantHeaders,
        params: IdParams,
        response: { 200: Type.Ref('WebhookSecret'), ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const secret = generateSecret()
      const [row] = await app.db.db
        .update(webhooks)
        .set({
          previousSecret: sql`${webhooks.secret}`,
          previousSecretExpiresAt: sql`now() + ${ROTATION_OVERLAP}`,
          secret,
          updatedAt: sql`now()`,
        })
        .where(byId(request.actor.organizationId, request.params.id))
        .returning({ id: webhooks.id })
      if (!row) throw notFound()
      return { secret }
    },
  )

  app.post(
    '/:id/ping',
    {
      schema: {
        tags,
        operationId: 'pingWebhook',
        summary: 'Send a `webhook.ping` event to this webhook, whatever it subscribes to',
        description:
          'Queues a `webhook.ping` event for this endpoint only, signed like every delivery, to test the receiver (owner, admin).',
        security,
        headers: TenantHeaders,
        params: IdParams,
        response: { 202: Type.Ref('WebhookDelivery'), ...problems(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { organizationId } = request.actor
      const delivery = await app.db.db.transaction(async (tx) => {
        const [hook] = await tx
          .select({ id: webhooks.id })
          .from(webhooks)
          .where(byId(organizationId, request.params.id))
        if (!hook) throw notFound()
        const eventId = uuidv7()
        // Already dispatched: a ping goes to this webhook only, never through the fan-out.
        const [event] = await tx
          .insert(events)
          .values({
            organizationId,
            id: eventId,
            type: PING_EVENT,
            data: { webhook_id: hook.id },
            dispatchedAt: sql`now()`,
          })
          .returning({ createdAt: events.createdAt })
        const [row] = await tx
          .insert(webhookDeliveries)
          .values({
            organizationId,
            id: uuidv7(),
            webhookId: hook.id,
            eventId,
            eventType: PING_EVENT,
            nextAttemptAt: event?.createdAt,
          })
          .returning()
        return row as typeof webhookDeliveries.$inferSelect
      })
      app.webhookDispatcher?.nudge()
      reply.code(202)
      return toDelivery(delivery)
    },
  )

  app.get(
    '/:id/deliveries',
    {
      schema: {
        tags,
        operationId: 'listWebhookDeliveries',
        summary: "The webhook's delivery log, newest first",
        description:
          'The delivery log of the webhook, newest first, filterable by status: attempts made, the last response status, error and duration, and when the next attempt is due.',
        security,
        headers: TenantHeaders,
        params: IdParams,
        querystring: DeliveryListQuery,
        response: { 200: Page(Type.Ref('WebhookDelivery')), ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { organizationId } = request.actor
      const { page = 1, page_size: pageSize = 20, status } = request.query
      const [hook] = await app.db.db
        .select({ id: webhooks.id })
        .from(webhooks)
        .where(byId(organizationId, request.params.id))
      if (!hook) throw notFound()
      const conditions: SQL[] = [
        eq(webhookDeliveries.organizationId, organizationId),
        eq(webhookDeliveries.webhookId, hook.id),
      ]
      if (status) conditions.push(eq(webhookDeliveries.status, status))
      const where = and(...conditions)
      const [rows, [counted]] = await Promise.all([
        app.db.db
          .select()
          .from(webhookDeliveries)
          .where(where)
          .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
          .limit(pageSize)
          .offset((page - 1) * pageSize),
        app.db.db.select({ total: count() }).from(webhookDeliveries).where(where),
      ])
      return pageOf(rows.map(toDelivery), counted?.total ?? 0, page, pageSize)
    },
  )

  app.post(
    '/:id/deliveries/:delivery_id/retry',
    {
      schema: {
        tags,
        operationId: 'retryWebhookDelivery',
        summary: 'Make one more attempt of a delivery now, whatever its status',
        description:
          'Schedules one more attempt of the delivery now, whatever its status; a failed delivery becomes pending again.',
        security,
        headers: TenantHeaders,
        params: DeliveryParams,
        response: { 202: Type.Ref('WebhookDelivery'), ...problems(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { organizationId } = request.actor
      const [row] = await app.db.db
        .update(webhookDeliveries)
        .set({ status: 'pending', nextAttemptAt: sql`now()` })
        .where(
          and(
            eq(webhookDeliveries.organizationId, organizationId),
            eq(webhookDeliveries.webhookId, request.params.id),
            eq(webhookDeliveries.id, request.params.delivery_id),
          ),
        )
        .returning()
      if (!row) throw new AppError('NOT_FOUND', 'No delivery with this id for this webhook')
      app.webhookDispatcher?.nudge()
      reply.code(202)
      return toDelivery(row)
    },
  )
}
