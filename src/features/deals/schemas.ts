import { type Static, Type } from 'typebox'
import { DEAL_STAGES, DEAL_STATUSES, type deals } from '../../db/schema.js'
import { CurrencyInput } from '../../lib/currency.js'
import { isoTimestamp } from '../../lib/dates.js'
import { EXAMPLE_IDS } from '../../lib/examples.js'
import { AmountInput, formatMoney, Money } from '../../lib/money.js'
import { DateOnly, Defaulted, PageQuery, StringEnum, Timestamp, Uuid } from '../../lib/schemas.js'
import { SORT_ORDERS } from '../../lib/search.js'

const Title = Type.String({ minLength: 1, maxLength: 255 })
const Currency = CurrencyInput
const LostReason = Type.String({
  minLength: 1,
  maxLength: 500,
  description: 'Only while the status is lost (else 400 INVALID_LOST_REASON); cleared when it leaves lost',
})
const CloseDate = Type.Union([DateOnly, Type.Null()], { description: 'Expected close date; null clears it' })

export const DealContact = Type.Object(
  {
    id: Uuid,
    name: Type.String(),
    email: Type.Union([Type.String(), Type.Null()]),
    company_id: Type.Union([Uuid, Type.Null()]),
  },
  { description: 'The deal’s contact, with expand=contact' },
)
export type DealContact = Static<typeof DealContact>
const Status = StringEnum(DEAL_STATUSES)
const Stage = StringEnum(DEAL_STAGES, {
  description: 'qualification → proposal → negotiation → closed; moving back is owner/admin only',
})

export const Deal = Type.Object(
  {
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
    expected_close_date: Type.Union([Type.String({ format: 'date' }), Type.Null()]),
    lost_reason: Type.Union([Type.String(), Type.Null()]),
    probability: Type.Integer({
      minimum: 0,
      maximum: 100,
      description: "100 when won, 0 when lost, else the organization's probability of the stage",
    }),
    weighted_amount: Money,
    closed_at: Type.Union([Timestamp, Type.Null()], {
      description: 'When the status last became won or lost',
    }),
    stage_changed_at: Timestamp,
    contact: Type.Optional(DealContact),
  },
  {
    examples: [
      {
        id: EXAMPLE_IDS.deal,
        organization_id: EXAMPLE_IDS.organization,
        contact_id: EXAMPLE_IDS.contact,
        owner_id: EXAMPLE_IDS.owner,
        title: 'Difference Engine No. 2',
        amount: '12500.00',
        currency: 'GBP',
        status: 'in_progress',
        stage: 'negotiation',
        created_at: '2026-09-14T09:30:00.000Z',
        updated_at: '2026-11-02T16:05:00.000Z',
        expected_close_date: '2026-12-18',
        lost_reason: null,
        probability: 60,
        weighted_amount: '7500.00',
        closed_at: null,
        stage_changed_at: '2026-11-02T16:05:00.000Z',
      },
      {
        id: EXAMPLE_IDS.lostDeal,
        organization_id: EXAMPLE_IDS.organization,
        contact_id: EXAMPLE_IDS.contact,
        owner_id: EXAMPLE_IDS.member,
        title: 'Analytical Engine maintenance',
        amount: '4800.00',
        currency: 'USD',
        status: 'lost',
        stage: 'proposal',
        created_at: '2026-08-03T10:00:00.000Z',
        updated_at: '2026-09-21T15:40:00.000Z',
        expected_close_date: '2026-09-30',
        lost_reason: 'Chose a competitor with a lower price',
        probability: 0,
        weighted_amount: '0.00',
        closed_at: '2026-09-21T15:40:00.000Z',
        stage_changed_at: '2026-08-19T11:20:00.000Z',
        contact: {
          id: EXAMPLE_IDS.contact,
          name: 'Charles Babbage',
          email: 'charles@example.com',
          company_id: EXAMPLE_IDS.company,
        },
      },
    ],
  },
)
export type Deal = Static<typeof Deal>

/** A deal as read: its columns and the derived fields of spec §12, computed by the database. */
export type DealRow = typeof deals.$inferSelect & { probability: number; weightedAmount: string }

export function toDeal(row: DealRow, contact?: DealContact): Deal {
  const deal: Deal = {
    id: row.id,
    organization_id: row.organizationId,
    contact_id: row.contactId,
    owner_id: row.ownerId,
    title: row.title,
    amount: formatMoney(row.amount),
    currency: row.currency,
    status: row.status,
    stage: row.stage,
    created_at: isoTimestamp(row.createdAt),
    updated_at: isoTimestamp(row.updatedAt),
    expected_close_date: row.expectedCloseDate,
    lost_reason: row.lostReason,
    probability: Number(row.probability),
    weighted_amount: formatMoney(row.weightedAmount),
    closed_at: row.closedAt ? isoTimestamp(row.closedAt) : null,
    stage_changed_at: isoTimestamp(row.stageChangedAt),
  }
  if (contact) deal.contact = contact
  return deal
}

export const CreateDealBody = Defaulted(
  Type.Object(
    {
      contact_id: Uuid,
      title: Title,
      amount: { ...AmountInput, default: 0 } as typeof AmountInput,
      // Without one, the organization's default_currency (spec §10).
      currency: Type.Optional(Currency),
      owner_id: Type.Optional(Uuid),
      status: StringEnum(DEAL_STATUSES, { default: 'new' }),
      stage: StringEnum(DEAL_STAGES, { default: 'qualification' }),
      expected_close_date: Type.Union([DateOnly, Type.Null()], { default: null }),
      lost_reason: Type.Union([LostReason, Type.Null()], { default: null }),
    },
    {
      additionalProperties: false,
      examples: [
        {
          contact_id: EXAMPLE_IDS.contact,
          title: 'Difference Engine No. 2',
          amount: '12500.00',
          currency: 'GBP',
        },
        {
          contact_id: EXAMPLE_IDS.contact,
          title: 'Analytical Engine service contract',
          amount: '4800.00',
          stage: 'proposal',
          status: 'in_progress',
          expected_close_date: '2027-01-31',
        },
      ],
    },
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
    expected_close_date: Type.Optional(CloseDate),
    lost_reason: Type.Optional(Type.Union([LostReason, Type.Null()])),
  },
  {
    additionalProperties: false,
    examples: [
      { status: 'won', stage: 'closed' },
      { status: 'lost', lost_reason: 'Chose a competitor with a lower price' },
      { stage: 'negotiation', expected_close_date: '2026-12-18' },
    ],
  },
)
export type UpdateDealBody = Static<typeof UpdateDealBody>

export const DEAL_SORT_FIELDS = [
  'created_at',
  'updated_at',
  'amount',
  'title',
  'expected_close_date',
] as const

const Expand = {
  expand: Type.Optional(StringEnum(['contact'] as const, { description: 'contact: add the deal’s contact' })),
}

export const DealReadQuery = Type.Object({ ...Expand }, { additionalProperties: false })

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
      company_id: Type.Optional(Uuid),
      min_amount: Type.Optional(AmountBound),
      max_amount: Type.Optional(AmountBound),
      search: Type.Optional(
        Type.String({ maxLength: 255, description: 'Case-insensitive substring of title' }),
      ),
      expected_close_before: Type.Optional(DateOnly),
      expected_close_after: Type.Optional(DateOnly),
      order_by: StringEnum(DEAL_SORT_FIELDS, {
        default: 'created_at',
        description: 'expected_close_date: deals without one last, in both directions',
      }),
      order: StringEnum(SORT_ORDERS, { default: 'desc' }),
      ...Expand,
    },
    { additionalProperties: false },
  ),
)
