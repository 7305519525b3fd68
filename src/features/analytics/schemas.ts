import { type TObject, type TSchema, Type } from 'typebox'
import { DEAL_STAGES, DEAL_STATUSES } from '../../db/schema.js'
import { CurrencyCode, CurrencyInput } from '../../lib/currency.js'
import { Money } from '../../lib/money.js'
import { Defaulted, StringEnum } from '../../lib/schemas.js'

export const DEFAULT_DAYS = 30

/** An object with exactly these keys, each of one schema (all required: zeros are always present). */
function keyed<const K extends readonly string[], S extends TSchema>(keys: K, schema: S) {
  return Type.Object(Object.fromEntries(keys.map((key) => [key, schema])), {
    additionalProperties: false,
  }) as unknown as TObject<Record<K[number], S>>
}

const Count = Type.Integer({ minimum: 0 })

export const SummaryQuery = Defaulted(
  Type.Object(
    {
      days: Type.Integer({
        minimum: 1,
        maximum: 365,
        default: DEFAULT_DAYS,
        description: 'Window of new_deals_last_n_days',
      }),
      currency: Type.Optional(CurrencyInput),
    },
    { additionalProperties: false },
  ),
)

export const FunnelQuery = Type.Object({}, { additionalProperties: false })

export const DealSummary = Type.Object(
  {
    by_status: keyed(DEAL_STATUSES, Type.Object({ count: Count, total_amount: Money })),
    average_won_amount: Money,
    win_rate: Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()], {
      description: 'won / (won + lost) rounded to 4 decimals; null when no deal is won or lost',
    }),
    new_deals_last_n_days: Type.Object({
      count: Count,
      days: Type.Integer({ description: 'Deals created in the last `days` × 24 hours' }),
    }),
    currency: CurrencyCode,
    currencies: Type.Array(Type.Object({ currency: Type.String(), count: Count }), {
      description: 'Every currency of the organization’s deals, by count desc, then code',
    }),
    pipeline: Type.Object({
      open_count: Count,
      open_amount: Money,
      weighted_amount: Money,
      by_stage: Type.Array(
        Type.Object({
          stage: StringEnum(DEAL_STAGES),
          count: Type.Integer({ minimum: 0, description: 'Open deals in the stage, every currency' }),
          currency_count: Type.Integer({ minimum: 0, description: 'Of them, in `currency`' }),
          amount: Money,
          weighted_amount: Money,
        }),
        { description: 'Open deals (new, in_progress) per stage, every stage in pipeline order' },
      ),
    }),
  },
  {
    // The demo organization (npm run seed) in its default currency, then in EUR: same counts, other amounts.
    examples: [
      {
        by_status: {
          new: { count: 4, total_amount: '127100.00' },
          in_progress: { count: 8, total_amount: '201200.00' },
          won: { count: 7, total_amount: '146900.00' },
          lost: { count: 4, total_amount: '190300.00' },
        },
        average_won_amount: '48966.67',
        win_rate: 0.6364,
        new_deals_last_n_days: { count: 7, days: 30 },
        currency: 'USD',
        currencies: [
          { currency: 'USD', count: 15 },
          { currency: 'EUR', count: 5 },
          { currency: 'GBP', count: 3 },
        ],
        pipeline: {
          open_count: 8,
          open_amount: '328300.00',
          weighted_amount: '106870.00',
          by_stage: [
            {
              stage: 'qualification',
              count: 5,
              currency_count: 4,
              amount: '126100.00',
              weighted_amount: '12610.00',
            },
            {
              stage: 'proposal',
              count: 3,
              currency_count: 2,
              amount: '90200.00',
              weighted_amount: '27060.00',
            },
            {
              stage: 'negotiation',
              count: 4,
              currency_count: 2,
              amount: '112000.00',
              weighted_amount: '67200.00',
            },
            { stage: 'closed', count: 0, currency_count: 0, amount: '0.00', weighted_amount: '0.00' },
          ],
        },
      },
      {
        by_status: {
          new: { count: 4, total_amount: '0.00' },
          in_progress: { count: 8, total_amount: '37400.00' },
          won: { count: 7, total_amount: '53000.00' },
          lost: { count: 4, total_amount: '0.00' },
        },
        average_won_amount: '17666.67',
        win_rate: 0.6364,
        new_deals_last_n_days: { count: 7, days: 30 },
        currency: 'EUR',
        currencies: [
          { currency: 'USD', count: 15 },
          { currency: 'EUR', count: 5 },
          { currency: 'GBP', count: 3 },
        ],
        pipeline: {
          open_count: 2,
          open_amount: '37400.00',
          weighted_amount: '19240.00',
          by_stage: [
            {
              stage: 'qualification',
              count: 5,
              currency_count: 1,
              amount: '6400.00',
              weighted_amount: '640.00',
            },
            { stage: 'proposal', count: 3, currency_count: 0, amount: '0.00', weighted_amount: '0.00' },
            {
              stage: 'negotiation',
              count: 4,
              currency_count: 1,
              amount: '31000.00',
              weighted_amount: '18600.00',
            },
            { stage: 'closed', count: 0, currency_count: 0, amount: '0.00', weighted_amount: '0.00' },
          ],
        },
      },
    ],
  },
)

export const DealFunnel = Type.Object({
  stages: keyed(DEAL_STAGES, keyed(DEAL_STATUSES, Count)),
  stage_totals: keyed(DEAL_STAGES, Count),
  conversions: Type.Array(
    Type.Object({
      from_stage: StringEnum(DEAL_STAGES),
      to_stage: StringEnum(DEAL_STAGES),
      from_count: Type.Integer({ description: 'Deals at from_stage or later' }),
      to_count: Type.Integer({ description: 'Deals at to_stage or later' }),
      conversion_rate: Type.Number({ minimum: 0, maximum: 100, description: 'round(100 × to / from, 2)' }),
    }),
  ),
})

const MoneyBucket = Type.Object({ count: Count, amount: Money, weighted_amount: Money })

export const ForecastQuery = Defaulted(
  Type.Object(
    {
      months: Type.Integer({ minimum: 1, maximum: 24, default: 6 }),
      currency: Type.Optional(CurrencyInput),
    },
    { additionalProperties: false },
  ),
)

export const DealForecast = Type.Object(
  {
    currency: CurrencyCode,
    months: Type.Array(
      Type.Object({
        month: Type.String({ pattern: '^\\d{4}-\\d{2}$', examples: ['2026-12'] }),
        open_count: Count,
        open_amount: Money,
        weighted_amount: Money,
        won_count: Count,
        won_amount: Money,
      }),
    ),
    overdue: MoneyBucket,
    unscheduled: MoneyBucket,
  },
  {
    examples: [
      {
        currency: 'USD',
        months: [
          {
            month: '2026-12',
            open_count: 1,
            open_amount: '48000.00',
            weighted_amount: '28800.00',
            won_count: 1,
            won_amount: '120000.00',
          },
          {
            month: '2027-01',
            open_count: 1,
            open_amount: '86000.00',
            weighted_amount: '25800.00',
            won_count: 0,
            won_amount: '0.00',
          },
          {
            month: '2027-02',
            open_count: 1,
            open_amount: '9900.00',
            weighted_amount: '990.00',
            won_count: 0,
            won_amount: '0.00',
          },
          {
            month: '2027-03',
            open_count: 1,
            open_amount: '91000.00',
            weighted_amount: '9100.00',
            won_count: 0,
            won_amount: '0.00',
          },
          {
            month: '2027-04',
            open_count: 0,
            open_amount: '0.00',
            weighted_amount: '0.00',
            won_count: 0,
            won_amount: '0.00',
          },
          {
            month: '2027-05',
            open_count: 0,
            open_amount: '0.00',
            weighted_amount: '0.00',
            won_count: 0,
            won_amount: '0.00',
          },
        ],
        overdue: { count: 2, amount: '67200.00', weighted_amount: '38720.00' },
        unscheduled: { count: 2, amount: '26200.00', weighted_amount: '3460.00' },
      },
    ],
  },
)

export const VelocityQuery = Defaulted(
  Type.Object(
    { days: Type.Integer({ minimum: 1, maximum: 365, default: 90, description: 'Window, days × 24 h' }) },
    { additionalProperties: false },
  ),
)

const Days = Type.Union([Type.Number({ minimum: 0 }), Type.Null()])

export const DealVelocity = Type.Object(
  {
    days: Type.Integer(),
    stages: Type.Array(
      Type.Object({ stage: StringEnum(DEAL_STAGES), exits: Count, avg_days: Days, median_days: Days }),
    ),
    won: Type.Object({ count: Count, avg_days_to_close: Days, median_days_to_close: Days }),
  },
  {
    examples: [
      {
        days: 90,
        stages: [
          { stage: 'qualification', exits: 16, avg_days: 12.18, median_days: 12.95 },
          { stage: 'proposal', exits: 12, avg_days: 18.94, median_days: 20.4 },
          { stage: 'negotiation', exits: 7, avg_days: 16.69, median_days: 9.4 },
          { stage: 'closed', exits: 0, avg_days: null, median_days: null },
        ],
        won: { count: 6, avg_days_to_close: 46.1, median_days_to_close: 39.9 },
      },
    ],
  },
)
