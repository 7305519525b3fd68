import { Type } from 'typebox'
import { ROLES } from '../../db/schema.js'
import { StringEnum, Timestamp, Uuid } from '../../lib/schemas.js'

const RoleSchema = StringEnum(ROLES)

export const CreateInvitationBody = Type.Object(
  {
    email: Type.String({
      minLength: 3,
      maxLength: 320,
      description: 'Trimmed and compared case-insensitively',
    }),
    role: Type.Optional(StringEnum(ROLES, { default: 'member' })),
  },
  { additionalProperties: false, examples: [{ email: 'grace@example.com', role: 'manager' }] },
)

/** An invitation as the organization's owners and admins see it (the token never again after creation). */
export const Invitation = Type.Object({
  id: Uuid,
  email: Type.String(),
  role: RoleSchema,
  invited_by: Uuid,
  created_at: Timestamp,
  expires_at: Timestamp,
})

export const CreatedInvitation = Type.Object({
  ...Invitation.properties,
  token: Type.String({ description: 'Shown only here and in the email; single use, valid 7 days' }),
})

/** An invitation as the invitee sees it. */
export const ReceivedInvitation = Type.Object({
  id: Uuid,
  organization_id: Uuid,
  organization_name: Type.String(),
  role: RoleSchema,
  invited_by: Type.Object({ name: Type.String(), email: Type.String() }),
  expires_at: Timestamp,
})

export const Accepted = Type.Object({ organization_id: Uuid, role: RoleSchema })

export const AcceptByTokenBody = Type.Object(
  { token: Type.String({ minLength: 1, maxLength: 512 }) },
  { additionalProperties: false, examples: [{ token: 'Z3b0nQk1m1Yp6V0cJr9WmQ2c8Jx4Lq7TtHh5Ss3Dd0E' }] },
)

export const OrganizationInvitationParams = Type.Object(
  { id: Uuid, invitation_id: Uuid },
  { additionalProperties: false },
)
