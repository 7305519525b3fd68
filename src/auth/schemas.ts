import { Type } from 'typebox'
import { Email, Timestamp, Uuid } from '../lib/schemas.js'

const Password = Type.String({ minLength: 8, maxLength: 128 })
const Name = Type.String({ minLength: 1, maxLength: 255 })

export const RegisterBody = Type.Object(
  {
    email: Email,
    password: Password,
    name: Name,
    organization_name: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 255,
        description: 'Creates an organization the user owns; without it none is created',
      }),
    ),
    invitation_token: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 512,
        description: "Joins the invitation's organization with its role; the email must be the invitation's",
      }),
    ),
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

export const AccessToken = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('bearer'),
  expires_in: Type.Integer({ description: 'Access token lifetime in seconds' }),
})

export const Registered = Type.Object({
  user_id: Uuid,
  email: Type.String(),
  name: Type.String(),
  organization_id: Type.Union([Uuid, Type.Null()], {
    description: 'The organization created from organization_name; null without it',
  }),
  organization_name: Type.Union([Type.String(), Type.Null()]),
  access_token: Type.String(),
  refresh_token: Type.String(),
  token_type: Type.Literal('bearer'),
  expires_in: Type.Integer(),
})

export const Me = Type.Object({ id: Uuid, email: Type.String(), name: Type.String(), created_at: Timestamp })

export const UpdateMeBody = Type.Object(
  { name: Type.Optional(Name) },
  { additionalProperties: false, examples: [{ name: 'Ada King' }] },
)

export const Session = Type.Object({
  id: Uuid,
  created_at: Timestamp,
  last_used_at: Timestamp,
  user_agent: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  current: Type.Boolean({ description: "True for the session of the request's access token" }),
})

export const ChangePasswordBody = Type.Object(
  { current_password: Type.String({ minLength: 1, maxLength: 128 }), new_password: Password },
  {
    additionalProperties: false,
    examples: [{ current_password: 'correct horse battery', new_password: 'staple paper clip 42' }],
  },
)

export const PasswordResetBody = Type.Object(
  { email: Email },
  { additionalProperties: false, examples: [{ email: 'ada@example.com' }] },
)

export const PasswordResetAccepted = Type.Object({
  detail: Type.String({ description: 'The same text whether or not the email belongs to an account' }),
})

export const PasswordResetConfirmBody = Type.Object(
  { token: Type.String({ minLength: 1, maxLength: 512 }), new_password: Password },
  {
    additionalProperties: false,
    examples: [
      { token: 'Z3b0nQk1m1Yp6V0cJr9WmQ2c8Jx4Lq7TtHh5Ss3Dd0E', new_password: 'staple paper clip 42' },
    ],
  },
)
