import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { eq, sql } from 'drizzle-orm'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { requireOrganizationMember } from '../../auth/access.js'
import { type Actor, assertAllowed } from '../../auth/policy.js'
import type { Executor, Tx } from '../../db/client.js'
import { deals, memberships, organizations, type Role } from '../../db/schema.js'
import { CurrencyCode, CurrencyInput } from '../../lib/currency.js'
import { isoTimestamp } from '../../lib/dates.js'
import { AppError } from '../../lib/errors.js'
import { EXAMPLE_IDS } from '../../lib/examples.js'
import { problems, Timestamp, Uuid } from '../../lib/schemas.js'
import { lockOrganizationAsMember } from './queries.js'
import { OrganizationParams, RoleSchema } from './schemas.js'

const security = [{ bearerAuth: [] }]
const tags = ['organizations']

export const OrganizationSettings = Type.Object(
  {
    id: Uuid,
    name: Type.String(),
    created_at: Timestamp,
    role: RoleSchema,
    default_currency: CurrencyCode,
  },
  {
    description: 'An organization with its settings and the caller’s role',
    examples: [
      {
        id: EXAMPLE_IDS.organization,
        name: 'Analytical Engines',
        created_at: '2026-03-02T08:00:00.000Z',
        role: 'owner',
        default_currency: 'EUR',
      },
    ],
  },
)

const UpdateOrganizationBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    default_currency: Type.Optional(CurrencyInput),
  },
  { additionalProperties: false, examples: [{ name: 'Analytical Engines', default_currency: 'EUR' }] },
)

/** The role re-read under the organization's row lock (a concurrent demotion or removal is respected). */
async function lockedActor(tx: Tx, actor: Actor): Promise<Actor> {
  const role = await lockOrganizationAsMember(tx, actor.organizationId, actor.userId)
  if (!role) throw new AppError('ORGANIZATION_ACCESS_DENIED', 'You are not a member of this organization')
  return { ...actor, role }
}

async function settingsOf(db: Executor, organizationId: string, role: Role) {
  const [row] = await db
    .select({
      id: organizations.id,
      name: organizations.name,
      createdAt: organizations.createdAt,
      defaultCurrency: organizations.defaultCurrency,
    })
    .from(organizations)
    .where(eq(organizations.id, organizationId))
  // The tenant hook found a membership, so only a concurrent deletion gets here: the same 403 as a non-member.
  if (!row) throw new AppError('ORGANIZATION_ACCESS_DENIED', 'You are not a member of this organization')
  return {
    id: row.id,
    name: row.name,
    created_at: isoTimestamp(row.createdAt),
    role,
    default_currency: row.defaultCurrency,
  }
}

/** `GET|PATCH|DELETE /organizations/{id}` (spec §10): settings, and deleting everything at once. */
export default async function organizationSettingsRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.addHook('onRequest', requireOrganizationMember)

  app.get(
    '/',
    {
      schema: {
        tags,
        operationId: 'getOrganization',
        summary: 'The organization with its settings and the caller’s role (any member)',
        description: 'The organization, its settings (name, default currency) and the caller’s role in it.',
        security,
        params: OrganizationParams,
        response: { 200: OrganizationSettings, ...problems(400, 401, 403) },
      },
    },
    async (request) => {
      const { organizationId, role } = request.actor
      assertAllowed(request.actor, 'organization.read')
      return settingsOf(app.db.db, organizationId, role)
    },
  )

  app.patch(
    '/',
    {
      schema: {
        tags,
        operationId: 'updateOrganization',
        summary: 'Rename the organization or change its default currency (owner, admin)',
        description: 'Owners and admins rename the organization or change its default currency.',
        security,
        params: OrganizationParams,
        body: UpdateOrganizationBody,
        response: { 200: OrganizationSettings, ...problems(400, 401, 403) },
      },
    },
    async (request) => {
      const { organizationId } = request.actor
      assertAllowed(request.actor, 'organization.update')
      const { body } = request
      const changes: Partial<typeof organizations.$inferInsert> = {}
      if (body.name !== undefined) changes.name = body.name
      if (body.default_currency !== undefined) changes.defaultCurrency = body.default_currency.toUpperCase()
      return app.db.db.transaction(async (tx) => {
        const actor = await lockedActor(tx, request.actor)
        assertAllowed(actor, 'organization.update')
        if (Object.keys(changes).length > 0) {
          await tx.update(organizations).set(changes).where(eq(organizations.id, organizationId))
        }
        return settingsOf(tx, organizationId, actor.role)
      })
    },
  )

  app.delete(
    '/',
    {
      schema: {
        tags,
        operationId: 'deleteOrganization',
        summary: 'Delete the organization and everything in it (owner only)',
        description:
          'Records, memberships, invitations, API keys and webhooks go in one transaction; every member ' +
          'loses access at once.',
        security,
        params: OrganizationParams,
        response: { 204: { type: 'null', description: 'Deleted' }, ...problems(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const { organizationId } = request.actor
      assertAllowed(request.actor, 'organization.delete')
      const members = await app.db.db.transaction(async (tx) => {
        // The row lock serializes with membership changes, which take it too.
        assertAllowed(await lockedActor(tx, request.actor), 'organization.delete')
        const rows = await tx
          .select({ userId: memberships.userId })
          .from(memberships)
          .where(eq(memberships.organizationId, organizationId))
        // Deals are not cascaded from the organization (they reference contacts without cascade), so they go
        // first; their per-row aggregate upkeep is skipped, the aggregate rows go with the organization.
        await tx.execute(sql`SELECT set_config('mini_crm.bulk_delete', 'on', true)`)
        await tx.delete(deals).where(eq(deals.organizationId, organizationId))
        await tx.execute(sql`SELECT set_config('mini_crm.bulk_delete', 'off', true)`)
        await tx.delete(organizations).where(eq(organizations.id, organizationId))
        return rows.map((row) => row.userId)
      })
      await Promise.all(members.map((userId) => app.membershipCache.forget(organizationId, userId)))
      return reply.code(204).send(null)
    },
  )
}
