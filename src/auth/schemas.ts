import { Type } from 'typebox'
import { Timestamp, Uuid } from '../lib/schemas.js'

const Email = Type.String({
  minLength: 3,
  maxLength: 320,
  description: 'Trimmed and compared case-insensitively',
})
const Password = Type.String({ minLength: 8, maxLength: 128 })

export const RegisterBody = Type.Object(
  {
    email: Email,
    password: Password,
    name: Type.String({ minLength: 1, maxLength: 255 }),
    organization_name: Type.String({ minLength: 1, maxLength: 255 }),
  },
  {
    additionalProperties: false,
    examples: [
      {
        email: 'ada@example.com',
        password: 'correct horse battery staple',
        name: 'Ada Lovelace',
        organization_name: 'Analytical Engines Ltd',
      },
    ],
  },
)

export const LoginBody = Type.Object(
  { email: Email, password: Type.String({ minLength: 1, maxLength: 128 }) },
  {
    additionalProperties: false,
    examples: [{ email: 'ada@example.com', password: 'correct horse battery staple' }],
  },
)

export const RefreshBody = Type.Object(
  { refresh_token: Type.String({ minLength: 1, maxLength: 2048 }) },
  {
    additionalProperties: false,
    examples: [{ refresh_token: 'the refresh_token answered by register, login or refresh' }],
  },
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
