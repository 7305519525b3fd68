import { type Static, Type } from 'typebox'
import { DEAL_STAGES, DEAL_STATUSES, type deals } from '../../db/schema.js'
import { AmountInput, formatMoney, Money } from '../../lib/money.js'
import { Defaulted, PageQuery, StringEnum, Timestamp, Uuid } from '../../lib/schemas.js'
import { SORT_ORDERS } from '../../lib/search.js'

const Title = Type.String({ minLength: 1, maxLength: 255 })
const Currency = Type.String({
  pattern: '^[A-Za-z]{3}$',
  description: 'ISO 4217 code, three letters; stored upper-case',
})
const Status = StringEnum(DEAL_STATUSES)
const Stage = StringEnum(DEAL_STAGES, {
  description: 'qualification → proposal → negotiation → closed; moving back is owner/admin only',
})

export const Deal = Type.Object({
  id: Uuid,
  organization_id: Uuid,
  contact_id: Uuid,
  owner_id: Uuid,
  title: Type.String(),
  amount: Money,
  currency: Type.String(),
  status: Status,
  stage: Stage,
  created_at: Timestamp,
  updated_at: Timestamp,
})
export type Deal = Static<typeof Deal>

export type DealRow = typeof deals.$inferSelect

export function toDeal(row: DealRow): Deal {
  return {
    id: row.id,
    organization_id: row.organizationId,
    contact_id: row.contactId,
    owner_id: row.ownerId,
    title: row.title,
    amount: formatMoney(row.amount),
    currency: row.currency,
    status: row.status,
    stage: row.stage,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  }
}

export const CreateDealBody = Defaulted(
  Type.Object(
    {
      contact_id: Uuid,
      title: Title,
      amount: { ...AmountInput, default: 0 } as typeof AmountInput,
      currency: { ...Currency, default: 'USD' } as typeof Currency,
      owner_id: Type.Optional(Uuid),
    },
    { additionalProperties: false },
  ),
)
export type CreateDealBody = Static<typeof CreateDealBody>

export const UpdateDealBody = Type.Object(
  {
    title: Type.Optional(Title),
    amount: Type.Optional(AmountInput),
    currency: Type.Optional(Currency),
    status: Type.Optional(Status),
    stage: Type.Optional(Stage),
    contact_id: Type.Optional(Uuid),
    owner_id: Type.Optional(Uuid),
  },
  { additionalProperties: false },
)
export type UpdateDealBody = Static<typeof UpdateDealBody>

export const DEAL_SORT_FIELDS = ['created_at', 'updated_at', 'amount', 'title'] as const

// Bounds arrive as text and are checked by parseAmount exactly like body amounts.
const AmountBound = Type.String({
  maxLength: 32,
  description: 'Inclusive; a decimal with at most two decimals',
})

export const DealListQuery = Defaulted(
  Type.Object(
    {
      ...PageQuery,
      status: Type.Optional(Type.Array(Status, { maxItems: 10, description: 'Repeatable' })),
      stage: Type.Optional(Type.Array(StringEnum(DEAL_STAGES), { maxItems: 10, description: 'Repeatable' })),
      owner_id: Type.Optional(Uuid),
      contact_id: Type.Optional(Uuid),
      min_amount: Type.Optional(AmountBound),
      max_amount: Type.Optional(AmountBound),
      search: Type.Optional(
        Type.String({ maxLength: 255, description: 'Case-insensitive substring of title' }),
      ),
      order_by: StringEnum(DEAL_SORT_FIELDS, { default: 'created_at' }),
      order: StringEnum(SORT_ORDERS, { default: 'desc' }),
    },
    { additionalProperties: false },
  ),
)
