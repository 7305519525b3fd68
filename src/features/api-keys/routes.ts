import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { and, asc, eq } from 'drizzle-orm'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { allows, assertAllowed } from '../../auth/policy.js'
import { apiKeys } from '../../db/schema.js'
import { AppError } from '../../lib/errors.js'
import { IdParams, problems, TenantHeaders } from '../../lib/schemas.js'
import { uuidv7 } from '../../lib/uuid.js'
import { generateApiKey } from './keys.js'
import { CreateApiKeyBody, toApiKey } from './schemas.js'

const security = [{ bearerAuth: [] }]
const tags = ['api-keys']

/** Tenant routes; an API key never reaches them (the authentication step refuses it with 403). */
export default async function apiKeyRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.post(
    '/',
    {
      schema: {
        tags,
        operationId: 'createApiKey',
        summary: 'Create an API key acting as the caller in this organization',
        description:
          'The key (`mcrm_…`) appears only in this response; it is stored hashed. A `read` key may only GET.',
        security,
        headers: TenantHeaders,
        body: CreateApiKeyBody,
        response: { 201: Type.Ref('CreatedApiKey'), ...problems(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const { body, actor } = request
      assertAllowed(actor, 'api_key.create')
      let expiresAt: Date | null = null
      if (body.expires_at) {
        expiresAt = new Date(body.expires_at)
        if (expiresAt.getTime() <= Date.now()) {
          throw new AppError('VALIDATION_ERROR', 'expires_at must be in the future', {
            errors: [{ field: 'body.expires_at', message: 'must be in the future' }],
          })
        }
      }
      const { key, prefix, hash } = generateApiKey()
      const [row] = await app.db.db
        .insert(apiKeys)
        .values({
          organizationId: actor.organizationId,
          id: uuidv7(),
          userId: actor.userId,
          name: body.name,
          scope: body.scope ?? 'read',
          prefix,
          keyHash: hash,
          expiresAt,
        })
        .returning()
      reply.code(201)
      return { ...toApiKey(row as typeof apiKeys.$inferSelect), key }
    },
  )

  app.get(
    '/',
    {
      schema: {
        tags,
        operationId: 'listApiKeys',
        summary: "The caller's API keys (every key of the organization for owners and admins)",
        description:
          "Lists the caller's own keys, or every key of the organization for owners and admins; the key itself is never shown again, only its prefix.",
        security,
        headers: TenantHeaders,
        response: { 200: Type.Array(Type.Ref('ApiKey')), ...problems(400, 401, 403) },
      },
    },
    async (request) => {
      const { actor } = request
      const rows = await app.db.db
        .select()
        .from(apiKeys)
        .where(
          and(
            eq(apiKeys.organizationId, actor.organizationId),
            allows(actor, 'api_key.manage_any') ? undefined : eq(apiKeys.userId, actor.userId),
          ),
        )
        .orderBy(asc(apiKeys.createdAt), asc(apiKeys.id))
      return rows.map(toApiKey)
    },
  )

  app.delete(
    '/:id',
    {
      schema: {
        tags,
        operationId: 'revokeApiKey',
        summary: 'Revoke an API key (one of your own; owners and admins: any); it stops working at once',
        description:
          'Revokes a key: requests with it answer 401 at once, on every instance. Members revoke their own keys; owners and admins any key of the organization.',
        security,
        headers: TenantHeaders,
        params: IdParams,
        response: { 204: { type: 'null', description: 'Revoked' }, ...problems(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { actor } = request
      const [row] = await app.db.db
        .delete(apiKeys)
        .where(
          and(
            eq(apiKeys.organizationId, actor.organizationId),
            eq(apiKeys.id, request.params.id),
            allows(actor, 'api_key.manage_any') ? undefined : eq(apiKeys.userId, actor.userId),
          ),
        )
        .returning({ id: apiKeys.id })
      if (!row) throw new AppError('API_KEY_NOT_FOUND', 'No API key with this id in this organization')
      await app.apiKeys.forget(row.id)
      return reply.code(204).send(null)
    },
  )
}
