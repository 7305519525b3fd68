import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { requireOrganizationMember } from '../../auth/access.js'
import { assertAllowed } from '../../auth/policy.js'
import type { Role } from '../../db/schema.js'
import { isoTimestamp } from '../../lib/dates.js'
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
    created_at: isoTimestamp(row.createdAt),
    expires_at: isoTimestamp(row.expiresAt),
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
        operationId: 'createInvitation',
        summary:
          'Invite an email to the organization (owner, admin; an admin invites only managers and members)',
        description:
          'Invites an email to the organization with a role (owners any role, admins manager or member). The token appears only in this response and in the email; it is valid 7 days.',
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
        operationId: 'listInvitations',
        summary: 'Pending invitations of the organization (owner, admin)',
        description: "The organization's pending invitations, without tokens (owner, admin).",
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
        operationId: 'revokeInvitation',
        summary: 'Revoke a pending invitation (owner, admin)',
        description: 'Revokes a pending invitation; its token stops working (owner, admin).',
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
        operationId: 'listMyInvitations',
        summary: "Pending invitations addressed to the caller's email",
        description:
          "Pending invitations addressed to the caller's email, with the inviting organization and person.",
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
        expires_at: isoTimestamp(row.expiresAt),
      }))
    },
  )

  app.post(
    '/accept',
    {
      schema: {
        tags,
        operationId: 'acceptInvitationByToken',
        summary: 'Accept an invitation by the token of its email (it must name the caller’s email)',
        description:
          "Joins the organization of the invitation with its role. The invitation must name the caller's email; otherwise 404 INVITATION_NOT_FOUND.",
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
        operationId: 'acceptInvitation',
        summary: 'Accept an invitation addressed to the caller',
        description: 'Joins the organization of an invitation addressed to the caller, with its role.',
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
        operationId: 'declineInvitation',
        summary: 'Decline an invitation addressed to the caller',
        description: 'Declines an invitation addressed to the caller; it can no longer be accepted.',
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
