import { type Static, Type } from 'typebox'
import { EXAMPLE_IDS } from '../../lib/examples.js'
import { PageQuery, StringEnum, Timestamp, Uuid } from '../../lib/schemas.js'
import { SORT_ORDERS } from '../../lib/search.js'

const Name = Type.String({ minLength: 1, maxLength: 255 })
// Checked by normalizeDomain after trimming; the bound only keeps absurd input out.
const DomainInput = Type.String({
  maxLength: 300,
  description: 'Host name such as acme.com: trimmed, lower-cased, unique in the organization',
  examples: ['acme.com'],
})

export const Company = Type.Object(
  {
    id: Uuid,
    organization_id: Uuid,
    owner_id: Uuid,
    name: Type.String(),
    domain: Type.Union([Type.String(), Type.Null()]),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  {
    description: 'A company (spec §11)',
    examples: [
      {
        id: EXAMPLE_IDS.company,
        organization_id: EXAMPLE_IDS.organization,
        owner_id: EXAMPLE_IDS.owner,
        name: 'Analytical Engines Ltd',
        domain: 'analytical-engines.example',
        created_at: '2026-09-10T08:15:00.000Z',
        updated_at: '2026-09-10T08:15:00.000Z',
      },
    ],
  },
)

export const CreateCompanyBody = Type.Object(
  {
    name: Name,
    domain: Type.Optional(Type.Union([DomainInput, Type.Null()])),
    owner_id: Type.Optional(Uuid),
  },
  {
    additionalProperties: false,
    examples: [{ name: 'Analytical Engines Ltd', domain: 'analytical-engines.example' }],
  },
)

export type CreateCompanyBody = Static<typeof CreateCompanyBody>

export const UpdateCompanyBody = Type.Object(
  {
    name: Type.Optional(Name),
    domain: Type.Optional(Type.Union([DomainInput, Type.Null()], { description: 'null clears it' })),
    owner_id: Type.Optional(Uuid),
  },
  { additionalProperties: false, examples: [{ name: 'Analytical Engines plc' }] },
)

export type UpdateCompanyBody = Static<typeof UpdateCompanyBody>

export const COMPANY_SORT_FIELDS = ['created_at', 'name'] as const

export const CompanyListQuery = Type.Object(
  {
    ...PageQuery,
    search: Type.Optional(
      Type.String({ maxLength: 255, description: 'Case-insensitive substring of name or domain' }),
    ),
    owner_id: Type.Optional(Uuid),
    order_by: Type.Optional(StringEnum(COMPANY_SORT_FIELDS, { default: 'created_at' })),
    order: Type.Optional(StringEnum(SORT_ORDERS, { default: 'desc' })),
  },
  { additionalProperties: false },
)
