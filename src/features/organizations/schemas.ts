import { Type } from 'typebox'
import { ROLES } from '../../db/schema.js'
import { Defaulted, Email, StringEnum, Timestamp, Uuid } from '../../lib/schemas.js'

export const RoleSchema = StringEnum(ROLES)

export const OrganizationWithRole = Type.Object({
  id: Uuid,
  name: Type.String(),
  created_at: Timestamp,
  role: RoleSchema,
})

export const CreateOrganizationBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 255 }) },
  { additionalProperties: false, examples: [{ name: 'Globex Corporation' }] },
)

export const Member = Type.Object({
  user_id: Uuid,
  name: Type.String(),
  email: Type.String(),
  role: RoleSchema,
  joined_at: Timestamp,
})

export const OrganizationParams = Type.Object({ id: Uuid }, { additionalProperties: false })
export const MemberParams = Type.Object({ id: Uuid, user_id: Uuid }, { additionalProperties: false })

export const AddMemberBody = Defaulted(
  Type.Object(
    {
      email: Email,
      role: StringEnum(ROLES, { default: 'member' }),
    },
    { additionalProperties: false, examples: [{ email: 'grace@example.com', role: 'manager' }] },
  ),
)

export const ChangeRoleBody = Type.Object(
  { role: RoleSchema },
  { additionalProperties: false, examples: [{ role: 'admin' }] },
)
