import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { requireOrganizationMember } from '../../auth/access.js'
import { memberships, organizations } from '../../db/schema.js'
import { isUniqueViolation } from '../../lib/db-errors.js'
import { normalizeEmail } from '../../lib/email.js'
import { AppError } from '../../lib/errors.js'
import { problems } from '../../lib/schemas.js'
import { uuidv7 } from '../../lib/uuid.js'
import { assertKeepsAnOwner, assertMayGrant, assertMayManage } from './members.js'
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

const security = [{ bearerAuth: [] }]

export default async function organizationRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.get(
    '/me',
    {
      schema: {
        tags: ['organizations'],
        summary: "The caller's organizations with their role in each",
        security,
        response: { 200: { type: 'array', items: OrganizationWithRole }, ...problems(401) },
      },
    },
    async (request) => {
      const rows = await queries.listOrganizationsOf(app.db.db, request.userId)
      if (rows.length === 0 && !(await queries.userExists(app.db.db, request.userId))) {
        throw new AppError('UNAUTHORIZED', 'The user of this token no longer exists')
      }
      return rows.map((row) => ({ ...row, created_at: row.created_at.toISOString() }))
    },
  )

  app.post(
    '/',
    {
      schema: {
        tags: ['organizations'],
        summary: 'Create an organization; the caller becomes its owner',
        security,
        body: CreateOrganizationBody,
        response: { 201: OrganizationWithRole, ...problems(400, 401) },
      },
    },
    async (request, reply) => {
      const id = uuidv7()
      const created = await app.db.db.transaction(async (tx) => {
        const [organization] = await tx
          .insert(organizations)
          .values({ id, name: request.body.name })
          .returning({ createdAt: organizations.createdAt })
        await tx.insert(memberships).values({ organizationId: id, userId: request.userId, role: 'owner' })
        return organization
      })
      reply.code(201)
      return {
        id,
        name: request.body.name,
        created_at: (created?.createdAt ?? new Date()).toISOString(),
        role: 'owner' as const,
      }
    },
  )

  await app.register(organizationMemberRoutes, { prefix: '/:id/members' })
}

/** The same answer for an unknown email and a registered stranger: members-add is no account oracle. */
function userNotVisible(): AppError {
  return new AppError(
    'USER_NOT_FOUND',
    'No user with this email shares an organization with you; invite them (POST /organizations/{id}/invitations)',
  )
}

function memberBody(member: NonNullable<Awaited<ReturnType<typeof queries.findMember>>>) {
  return { ...member, joined_at: member.joined_at.toISOString() }
}

/** Everything under `/organizations/{id}/members`: the hook resolves the caller's membership first. */
async function organizationMemberRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.addHook('onRequest', requireOrganizationMember)

  app.get(
    '/',
    {
      schema: {
        tags: ['organizations'],
        summary: 'Members of the organization',
        security,
        params: OrganizationParams,
        response: { 200: { type: 'array', items: Member }, ...problems(400, 401, 403) },
      },
    },
    async (request) => {
      const members = await queries.listMembers(app.db.db, request.membership.organizationId)
      return members.map(memberBody)
    },
  )

  app.post(
    '/',
    {
      schema: {
        tags: ['organizations'],
        summary: 'Add a user who already shares an organization with you (owner, admin); invite anyone else',
        security,
        params: OrganizationParams,
        body: AddMemberBody,
        response: { 201: Member, ...problems(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const { organizationId, role: actorRole } = request.membership
      const role = request.body.role ?? 'member'
      assertMayGrant(actorRole, role)
      const email = normalizeEmail(request.body.email)
      const userId = await queries.findVisibleUserIdByEmail(app.db.db, request.userId, email)
      if (!userId) throw userNotVisible()
      try {
        await app.db.db.insert(memberships).values({ organizationId, userId, role })
      } catch (error) {
        if (isUniqueViolation(error, 'memberships_pkey')) {
          throw new AppError('MEMBER_ALREADY_EXISTS', 'This user is already a member')
        }
        throw error
      }
      const member = await queries.findMember(app.db.db, organizationId, userId)
      if (!member) throw new AppError('MEMBER_NOT_FOUND', 'The member was removed meanwhile')
      reply.code(201)
      return memberBody(member)
    },
  )

  app.patch(
    '/:user_id',
    {
      schema: {
        tags: ['organizations'],
        summary: "Change a member's role (owner, admin; never one's own)",
        security,
        params: MemberParams,
        body: ChangeRoleBody,
        response: { 200: Member, ...problems(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      const { organizationId, role } = request.membership
      const targetId = request.params.user_id.toLowerCase()
      const newRole = request.body.role
      // Fail fast before taking the lock; the decision below uses the role read under the lock.
      assertMayGrant(role, newRole)
      if (targetId === request.userId) throw new AppError('FORBIDDEN', 'You cannot change your own role')
      const member = await app.db.db.transaction(async (tx) => {
        const actorRole = await queries.lockOrganizationAsMember(tx, organizationId, request.userId)
        assertMayGrant(actorRole, newRole)
        const target = await queries.findMember(tx, organizationId, targetId)
        if (!target) throw new AppError('MEMBER_NOT_FOUND', 'This user is not a member of the organization')
        assertMayManage(actorRole, target.role)
        if (target.role === newRole) return target
        assertKeepsAnOwner(target.role, newRole, await queries.countOwners(tx, organizationId))
        await queries.setRole(tx, organizationId, targetId, newRole)
        return { ...target, role: newRole }
      })
      await app.membershipCache.forget(organizationId, targetId)
      return memberBody(member)
    },
  )

  app.delete(
    '/:user_id',
    {
      schema: {
        tags: ['organizations'],
        summary: 'Remove a member (owner, admin), or leave the organization (anyone, for themselves)',
        security,
        params: MemberParams,
        response: { 204: { type: 'null', description: 'Removed' }, ...problems(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const { organizationId, role } = request.membership
      const targetId = request.params.user_id.toLowerCase()
      const leaving = targetId === request.userId
      // Fail fast before taking the lock; the decision below uses the role read under the lock.
      if (!leaving) assertMayManage(role, 'member')
      await app.db.db.transaction(async (tx) => {
        const actorRole = await queries.lockOrganizationAsMember(tx, organizationId, request.userId)
        const target = await queries.findMember(tx, organizationId, targetId)
        if (!target) throw new AppError('MEMBER_NOT_FOUND', 'This user is not a member of the organization')
        if (!leaving) assertMayManage(actorRole, target.role)
        assertKeepsAnOwner(target.role, null, await queries.countOwners(tx, organizationId))
        await queries.deleteMember(tx, organizationId, targetId)
      })
      await app.membershipCache.forget(organizationId, targetId)
      return reply.code(204).send(null)
    },
  )
}
