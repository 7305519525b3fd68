import { type Static, Type } from 'typebox'
import type { contacts } from '../../db/schema.js'
import { isoTimestamp } from '../../lib/dates.js'
import { Defaulted, Email, PageQuery, StringEnum, Timestamp, Uuid } from '../../lib/schemas.js'
import { SORT_ORDERS } from '../../lib/search.js'

const Name = Type.String({ minLength: 1, maxLength: 255 })
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
export type Contact = Static<typeof Contact>

export type ContactRow = typeof contacts.$inferSelect

export function toContact(row: ContactRow): Contact {
  return {
    id: row.id,
    organization_id: row.organizationId,
    owner_id: row.ownerId,
    name: row.name,
    email: row.email,
    phone: row.phone,
    company_id: row.companyId,
    created_at: isoTimestamp(row.createdAt),
    updated_at: isoTimestamp(row.updatedAt),
  }
}

export const CreateContactBody = Defaulted(
  Type.Object(
    {
      name: Name,
      email: Type.Union([Email, Type.Null()], { default: null }),
      phone: Type.Union([Phone, Type.Null()], { default: null }),
      owner_id: Type.Optional(Uuid),
      company_id: Type.Union([Uuid, Type.Null()], {
        default: null,
        description: 'A company of the organization',
      }),
    },
    {
      additionalProperties: false,
      examples: [{ name: 'Charles Babbage', email: 'charles@example.com', phone: '+44 20 7946 0000' }],
    },
  ),
)
export type CreateContactBody = Static<typeof CreateContactBody>

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
  { additionalProperties: false, examples: [{ phone: '+44 20 7946 0001' }] },
)
export type UpdateContactBody = Static<typeof UpdateContactBody>

export const CONTACT_SORT_FIELDS = ['created_at', 'name'] as const

export const ContactListQuery = Defaulted(
  Type.Object(
    {
      ...PageQuery,
      search: Type.Optional(
        Type.String({ maxLength: 255, description: 'Case-insensitive substring of name or email' }),
      ),
      owner_id: Type.Optional(Uuid),
      company_id: Type.Optional(Uuid),
      order_by: StringEnum(CONTACT_SORT_FIELDS, { default: 'created_at' }),
      order: StringEnum(SORT_ORDERS, { default: 'desc' }),
    },
    { additionalProperties: false },
  ),
)
