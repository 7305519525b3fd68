import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { requireOrganizationMember } from '../../auth/access.js'
import { isoTimestamp } from '../../lib/dates.js'
import { AppError } from '../../lib/errors.js'
import { problems } from '../../lib/schemas.js'
import * as operations from './operations.js'
import * as queries from './queries.js'
import {
  AddMemberBody,
  ChangeRoleBody,
  CreateOrganizationBody,
  Member,
  MemberParams,
  OrganizationParams,
  OrganizationWithRole,
} from './schemas.js'
import organizationSettingsRoutes from './settings.js'

const security = [{ bearerAuth: [] }]

export default async function organizationRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.get(
    '/me',
    {
      schema: {
        tags: ['organizations'],
        operationId: 'listMyOrganizations',
        summary: "The caller's organizations with their role in each",
        description:
          "Every organization the caller is a member of, with the caller's role in each. Use one of these ids as `X-Organization-Id` on the record routes.",
        security,
        response: { 200: { type: 'array', items: OrganizationWithRole }, ...problems(401) },
      },
    },
    async (request) => {
      const rows = await queries.listOrganizationsOf(app.db.db, request.userId)
      if (rows.length === 0 && !(await queries.userExists(app.db.db, request.userId))) {
        throw new AppError('UNAUTHORIZED', 'The user of this token no longer exists')
      }
      return rows.map((row) => ({ ...row, created_at: isoTimestamp(row.created_at) }))
    },
  )

  app.post(
    '/',
    {
      schema: {
        tags: ['organizations'],
        operationId: 'createOrganization',
        summary: 'Create an organization; the caller becomes its owner',
        description: 'Creates an organization; the caller becomes its owner.',
        security,
        body: CreateOrganizationBody,
        response: { 201: OrganizationWithRole, ...problems(400, 401) },
      },
    },
    async (request, reply) => {
      const organization = await operations.createOrganization(app, request.userId, request.body.name)
      return reply.code(201).send({
        id: organization.id,
        name: organization.name,
        created_at: isoTimestamp(organization.createdAt),
        role: 'owner' as const,
      })
    },
  )

  await app.register(organizationMemberRoutes, { prefix: '/:id/members' })
  await app.register(organizationSettingsRoutes, { prefix: '/:id' })
}

function memberBody(member: NonNullable<Awaited<ReturnType<typeof queries.findMember>>>) {
  return { ...member, joined_at: isoTimestamp(member.joined_at) }
}

/** Everything under `/organizations/{id}/members`: the hook resolves the caller into `request.actor` first. */
async function organizationMemberRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.addHook('onRequest', requireOrganizationMember)

  app.get(
    '/',
    {
      config: { errorCodes: ['ORGANIZATION_ACCESS_DENIED'] },
      schema: {
        tags: ['organizations'],
        operationId: 'listMembers',
        summary: 'Members of the organization',
        description: 'Members of the organization with their roles and emails; any member may read them.',
        security,
        params: OrganizationParams,
        response: { 200: { type: 'array', items: Member }, ...problems(400, 401, 403) },
      },
    },
    async (request) => {
      const members = await queries.listMembers(app.db.db, request.actor.organizationId)
      return members.map(memberBody)
    },
  )

  app.post(
    '/',
    {
      config: {
        errorCodes: ['ORGANIZATION_ACCESS_DENIED', 'FORBIDDEN', 'USER_NOT_FOUND', 'MEMBER_ALREADY_EXISTS'],
      },
      schema: {
        tags: ['organizations'],
        operationId: 'addMember',
        summary: 'Add a user who already shares an organization with you (owner, admin); invite anyone else',
        description:
          'Adds an already registered user, found by email, with a role (default member). Owners grant any role; admins grant manager or member only.',
        security,
        params: OrganizationParams,
        body: AddMemberBody,
        response: { 201: Member, ...problems(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const { email, role } = request.body
      const member = await operations.addMember(app, request.actor, email, role)
      return reply.code(201).send(memberBody(member))
    },
  )

  app.patch(
    '/:user_id',
    {
      config: { errorCodes: ['ORGANIZATION_ACCESS_DENIED', 'FORBIDDEN', 'MEMBER_NOT_FOUND', 'LAST_OWNER'] },
      schema: {
        tags: ['organizations'],
        operationId: 'changeMemberRole',
        summary: "Change a member's role (owner, admin; never one's own)",
        description:
          'Owners change any role; admins only between manager and member. Nobody changes their own role, and the last owner cannot be demoted.',
        security,
        params: MemberParams,
        body: ChangeRoleBody,
        response: { 200: Member, ...problems(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      const targetId = request.params.user_id
      return memberBody(await operations.changeMemberRole(app, request.actor, targetId, request.body.role))
    },
  )

  app.delete(
    '/:user_id',
    {
      config: { errorCodes: ['ORGANIZATION_ACCESS_DENIED', 'FORBIDDEN', 'MEMBER_NOT_FOUND', 'LAST_OWNER'] },
      schema: {
        tags: ['organizations'],
        operationId: 'removeMember',
        summary: 'Remove a member (owner, admin), or leave the organization (anyone, for themselves)',
        description:
          'Owners and admins remove members (admins: managers and members only); any member may remove themselves to leave. The last owner can neither leave nor be removed.',
        security,
        params: MemberParams,
        response: { 204: { type: 'null', description: 'Removed' }, ...problems(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      await operations.removeMember(app, request.actor, request.params.user_id)
      return reply.code(204).send(null)
    },
  )
}
