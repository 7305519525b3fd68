import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { requireOrganizationMember } from '../../auth/access.js'
import { assertAllowed } from '../../auth/policy.js'
import type { Role } from '../../db/schema.js'
import { IdParams, problems } from '../../lib/schemas.js'
import { OrganizationParams } from '../organizations/schemas.js'
import * as operations from './operations.js'
import * as queries from './queries.js'
import {
  AcceptByTokenBody,
  Accepted,
  CreatedInvitation,
  CreateInvitationBody,
  Invitation,
  OrganizationInvitationParams,
  ReceivedInvitation,
} from './schemas.js'

const security = [{ bearerAuth: [] }]
const tags = ['invitations']

type InvitationRow = {
  id: string
  email: string
  role: Role
  invitedBy: string
  createdAt: Date
  expiresAt: Date
}

function toInvitation(row: InvitationRow) {
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    invited_by: row.invitedBy,
    created_at: row.createdAt.toISOString(),
    expires_at: row.expiresAt.toISOString(),
  }
}

/** Spec §15 invitations: the organization's side under `/organizations/{id}/invitations`, the invitee's under `/invitations`. */
export default async function invitationRoutes(app: FastifyInstance) {
  await app.register(organizationInvitationRoutes, { prefix: '/organizations/:id/invitations' })
  await app.register(receivedInvitationRoutes, { prefix: '/invitations' })
}

async function organizationInvitationRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.addHook('onRequest', requireOrganizationMember)

  app.post(
    '/',
    {
      schema: {
        tags,
        summary:
          'Invite an email to the organization (owner, admin; an admin invites only managers and members)',
        security,
        params: OrganizationParams,
        body: CreateInvitationBody,
        response: { 201: CreatedInvitation, ...problems(400, 401, 403, 409, 413) },
      },
    },
    async (request, reply) => {
      const created = await operations.createInvitation(app, request.actor, request.body)
      reply.code(201)
      return { ...toInvitation(created), token: created.token }
    },
  )

  app.get(
    '/',
    {
      schema: {
        tags,
        summary: 'Pending invitations of the organization (owner, admin)',
        security,
        params: OrganizationParams,
        response: { 200: { type: 'array', items: Invitation }, ...problems(400, 401, 403) },
      },
    },
    async (request) => {
      assertAllowed(request.actor, 'invitation.list')
      const rows = await queries.listPending(app.db.db, request.actor.organizationId, app.clock())
      return rows.map(toInvitation)
    },
  )

  app.delete(
    '/:invitation_id',
    {
      schema: {
        tags,
        summary: 'Revoke a pending invitation (owner, admin)',
        security,
        params: OrganizationInvitationParams,
        response: { 204: { type: 'null', description: 'Revoked' }, ...problems(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await operations.revokeInvitation(app, request.actor, request.params.invitation_id.toLowerCase())
      return reply.code(204).send(null)
    },
  )
}

async function receivedInvitationRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.get(
    '/',
    {
      schema: {
        tags,
        summary: "Pending invitations addressed to the caller's email",
        security,
        response: { 200: { type: 'array', items: ReceivedInvitation }, ...problems(401) },
      },
    },
    async (request) => {
      const rows = await operations.receivedInvitations(app, request.userId)
      return rows.map((row) => ({
        id: row.id,
        organization_id: row.organizationId,
        organization_name: row.organizationName,
        role: row.role,
        invited_by: { name: row.inviterName, email: row.inviterEmail },
        expires_at: row.expiresAt.toISOString(),
      }))
    },
  )

  app.post(
    '/accept',
    {
      schema: {
        tags,
        summary: 'Accept an invitation by the token of its email (it must name the caller’s email)',
        security,
        body: AcceptByTokenBody,
        response: { 200: Accepted, ...problems(400, 401, 404, 409) },
      },
    },
    async (request) => {
      const joined = await operations.acceptInvitation(app, request.userId, { token: request.body.token })
      return { organization_id: joined.organizationId, role: joined.role }
    },
  )

  app.post(
    '/:id/accept',
    {
      schema: {
        tags,
        summary: 'Accept an invitation addressed to the caller',
        security,
        params: IdParams,
        response: { 200: Accepted, ...problems(400, 401, 404, 409) },
      },
    },
    async (request) => {
      const joined = await operations.acceptInvitation(app, request.userId, {
        id: request.params.id.toLowerCase(),
      })
      return { organization_id: joined.organizationId, role: joined.role }
    },
  )

  app.post(
    '/:id/decline',
    {
      schema: {
        tags,
        summary: 'Decline an invitation addressed to the caller',
        security,
        params: IdParams,
        response: { 204: { type: 'null', description: 'Declined' }, ...problems(400, 401, 404) },
      },
    },
    async (request, reply) => {
      await operations.declineInvitation(app, request.userId, request.params.id.toLowerCase())
      return reply.code(204).send(null)
    },
  )
}
