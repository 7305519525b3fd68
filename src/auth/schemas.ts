import { Type } from 'typebox'
import { Email, Timestamp, Uuid } from '../lib/schemas.js'

const Password = Type.String({ minLength: 8, maxLength: 128 })

export const RegisterBody = Type.Object(
  {
    email: Email,
    password: Password,
    name: Type.String({ minLength: 1, maxLength: 255 }),
    organization_name: Type.String({ minLength: 1, maxLength: 255 }),
  },
  { additionalProperties: false },
)

export const LoginBody = Type.Object(
  { email: Email, password: Type.String({ minLength: 1, maxLength: 128 }) },
  { additionalProperties: false },
)

export const RefreshBody = Type.Object(
  { refresh_token: Type.String({ minLength: 1, maxLength: 2048 }) },
  { additionalProperties: false },
)

export const TokenPair = Type.Object({
  access_token: Type.String(),
  refresh_token: Type.String(),
  token_type: Type.Literal('bearer'),
  expires_in: Type.Integer({ description: 'Access token lifetime in seconds' }),
})

export const Registered = Type.Object({
  user_id: Uuid,
  email: Type.String(),
  name: Type.String(),
  organization_id: Uuid,
  organization_name: Type.String(),
  access_token: Type.String(),
  refresh_token: Type.String(),
  token_type: Type.Literal('bearer'),
  expires_in: Type.Integer(),
})

export const Me = Type.Object({ id: Uuid, email: Type.String(), name: Type.String(), created_at: Timestamp })
