import { Type } from 'typebox'
import { PageQuery, StringEnum, Timestamp, Uuid } from '../../lib/schemas.js'
import { SORT_ORDERS } from '../../lib/search.js'

const Name = Type.String({ minLength: 1, maxLength: 255 })
const Email = Type.String({ format: 'email', maxLength: 254 })
const Phone = Type.String({ maxLength: 50 })

export const Contact = Type.Object({
  id: Uuid,
  organization_id: Uuid,
  owner_id: Uuid,
  name: Type.String(),
  email: Type.Union([Type.String(), Type.Null()]),
  phone: Type.Union([Type.String(), Type.Null()]),
  company_id: Type.Union([Uuid, Type.Null()]),
  created_at: Timestamp,
  updated_at: Timestamp,
})

export const CreateContactBody = Type.Object(
  {
    name: Name,
    email: Type.Optional(Type.Union([Email, Type.Null()])),
    phone: Type.Optional(Type.Union([Phone, Type.Null()])),
    owner_id: Type.Optional(Uuid),
    company_id: Type.Optional(Type.Union([Uuid, Type.Null()])),
  },
  { additionalProperties: false },
)

export const UpdateContactBody = Type.Object(
  {
    name: Type.Optional(Name),
    email: Type.Optional(Type.Union([Email, Type.Null()], { description: 'null clears it' })),
    phone: Type.Optional(Type.Union([Phone, Type.Null()], { description: 'null clears it' })),
    owner_id: Type.Optional(Uuid),
    company_id: Type.Optional(
      Type.Union([Uuid, Type.Null()], { description: 'A company of the organization; null unlinks' }),
    ),
  },
  { additionalProperties: false },
)

export const CONTACT_SORT_FIELDS = ['created_at', 'name'] as const

export const ContactListQuery = Type.Object(
  {
    ...PageQuery,
    search: Type.Optional(
      Type.String({ maxLength: 255, description: 'Case-insensitive substring of name or email' }),
    ),
    owner_id: Type.Optional(Uuid),
    company_id: Type.Optional(Uuid),
    order_by: Type.Optional(StringEnum(CONTACT_SORT_FIELDS, { default: 'created_at' })),
    order: Type.Optional(StringEnum(SORT_ORDERS, { default: 'desc' })),
  },
  { additionalProperties: false },
)
