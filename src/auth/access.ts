import { sql } from 'drizzle-orm'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { queryRows } from '../db/client.js'
import type { Role } from '../db/schema.js'
import { API_KEY_SCOPES_OF, authenticateApiKey, isApiKey } from '../features/api-keys/keys.js'
import { AppError } from '../lib/errors.js'
import { isUuid } from '../lib/uuid.js'
import type { Actor } from './policy.js'

/**
 * The one authentication hook (onRequest, before the body is read): sets `request.userId` and
 * `request.sessionId`. A token of an ended session fails here, answered from memory (see revocations.ts).
 */
export async function authenticate(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
  // No route matched: let the 404 handler answer instead of asking for a token. Public routes say so in their
  // options (`config: { public: true }`); everything else needs a token (spec §1).
  if (request.routeOptions.url === undefined || request.routeOptions.config.public === true) return
  const header = request.headers.authorization
  if (!header) throw new AppError('UNAUTHORIZED', 'Authorization header is missing')
  const match = /^Bearer ([A-Za-z0-9_\-.]+)$/i.exec(header)
  if (!match?.[1]) throw new AppError('UNAUTHORIZED', 'Authorization header must be "Bearer <token>"')
  if (isApiKey(match[1])) return authenticateApiKey(request, match[1])
  const { userId, sessionId } = await request.server.tokens.verify(match[1])
  const revoked = request.server.revocations.isRevoked(sessionId)
  if (revoked === true || (revoked !== false && (await revoked))) {
    throw new AppError('INVALID_TOKEN', 'The session of this token has ended')
  }
  request.userId = userId
  request.sessionId = sessionId
}

/**
 * The caller's role in an organization. A user that no longer exists is 401; a non-member gets the same 403
 * whether or not the organization exists, so ids cannot be probed.
 */
export async function resolveActor(request: FastifyRequest, organizationId: string): Promise<Actor> {
  const { membershipCache } = request.server
  const userId = request.userId
  const cached = membershipCache.get(organizationId, userId)
  if (cached) return { userId, organizationId, role: cached }
  const generation = membershipCache.generation
  const [row] = await queryRows<{ role: Role | null }>(
    request.server.db.db,
    sql`
    SELECT m.role FROM users u
    LEFT JOIN memberships m ON m.user_id = u.id AND m.organization_id = ${organizationId}
    WHERE u.id = ${request.userId}`,
  )
  if (!row) throw new AppError('UNAUTHORIZED', 'The user of this token no longer exists')
  if (!row.role) {
    // An API key whose user left its organization is dead (spec §16), not merely refused.
    if (request.apiKey) throw new AppError('INVALID_TOKEN', "The API key's user is no longer a member")
    throw new AppError('ORGANIZATION_ACCESS_DENIED', 'You are not a member of this organization')
  }
  membershipCache.set(organizationId, request.userId, row.role, generation)
  return { userId, organizationId, role: row.role }
}

/** onRequest hook of the record features: `X-Organization-Id` → `request.actor` (401 → 400 → 403). */
export async function requireTenant(request: FastifyRequest): Promise<void> {
  const header = request.headers['x-organization-id']
  // An API key names its organization; the header is optional and, when sent, must agree.
  if (request.apiKey) {
    const { organizationId } = request.apiKey
    if (header !== undefined && (!isUuid(header) || header.toLowerCase() !== organizationId)) {
      throw new AppError('ORGANIZATION_ACCESS_DENIED', 'This API key belongs to another organization')
    }
    const actor = await resolveActor(request, organizationId)
    request.actor = { ...actor, apiKeyId: request.apiKey.id, scopes: API_KEY_SCOPES_OF[request.apiKey.scope] }
    // The routes' header schema requires it: fill in the key's organization, as if the client had sent it.
    request.headers['x-organization-id'] = organizationId
    return
  }
  if (!isUuid(header)) {
    throw new AppError(
      'ORGANIZATION_HEADER_REQUIRED',
      'X-Organization-Id header must be an organization UUID',
    )
  }
  request.actor = await resolveActor(request, header.toLowerCase())
}

/** onRequest hook of `/organizations/:id/...`: the organization comes from the path. */
export async function requireOrganizationMember(request: FastifyRequest): Promise<void> {
  const { id } = request.params as { id?: unknown }
  if (!isUuid(id)) {
    throw new AppError('VALIDATION_ERROR', 'Organization id must be a UUID', {
      errors: [{ field: 'params.id', message: 'must be a UUID' }],
    })
  }
  request.actor = await resolveActor(request, id.toLowerCase())
}
