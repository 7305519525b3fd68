import { Type } from 'typebox'
import { DELIVERY_STATUSES, type webhookDeliveries, type webhooks } from '../../db/schema.js'
import { isoTimestamp } from '../../lib/dates.js'
import { PageQuery, StringEnum, Timestamp, Uuid } from '../../lib/schemas.js'
import { EVENT_TYPES } from '../events/catalogue.js'

const Url = Type.String({
  minLength: 1,
  maxLength: 2048,
  description: 'http(s) URL; private, loopback and link-local targets are refused',
})
const Events = Type.Array(
  Type.String({
    minLength: 1,
    maxLength: 100,
    description: `An event type (${EVENT_TYPES.join(', ')}), \`<object>.*\` or \`*\``,
  }),
  { minItems: 1, maxItems: 50 },
)
const Description = Type.Union([Type.String({ maxLength: 500 }), Type.Null()])

const fields = {
  id: Uuid,
  url: Type.String(),
  events: Type.Array(Type.String()),
  description: Type.Union([Type.String(), Type.Null()]),
  enabled: Type.Boolean(),
  created_at: Timestamp,
  updated_at: Timestamp,
}

export const Webhook = Type.Object(fields, { $id: 'Webhook' })
export const CreatedWebhook = Type.Object(
  { ...fields, secret: Type.String({ description: '`whsec_…`, shown only here and on rotation' }) },
  { $id: 'CreatedWebhook' },
)
export const WebhookSecret = Type.Object(
  { secret: Type.String({ description: 'The new secret; the old one also signs for 24 hours' }) },
  { $id: 'WebhookSecret' },
)

export const CreateWebhookBody = Type.Object(
  {
    url: Url,
    events: Events,
    description: Type.Optional(Description),
    enabled: Type.Optional(Type.Boolean({ default: true })),
  },
  {
    additionalProperties: false,
    examples: [{ url: 'https://hooks.example.com/mini-crm', events: ['deal.*', 'contact.created'] }],
  },
)

export const UpdateWebhookBody = Type.Object(
  {
    url: Type.Optional(Url),
    events: Type.Optional(Events),
    description: Type.Optional(Description),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, examples: [{ enabled: false }] },
)

export const Delivery = Type.Object(
  {
    id: Uuid,
    event_id: Uuid,
    event_type: Type.String(),
    attempt: Type.Integer({ description: 'Attempts made so far' }),
    status: StringEnum(DELIVERY_STATUSES),
    response_status: Type.Union([Type.Integer(), Type.Null()], { description: 'Of the last attempt' }),
    error: Type.Union([Type.String(), Type.Null()], { description: 'Of the last attempt' }),
    duration_ms: Type.Union([Type.Integer(), Type.Null()], { description: 'Of the last attempt' }),
    created_at: Timestamp,
    next_attempt_at: Type.Union([Timestamp, Type.Null()]),
  },
  { $id: 'WebhookDelivery' },
)

export const DeliveryListQuery = Type.Object(
  { ...PageQuery, status: Type.Optional(StringEnum(DELIVERY_STATUSES)) },
  { additionalProperties: false },
)

export const DeliveryParams = Type.Object({ id: Uuid, delivery_id: Uuid }, { additionalProperties: false })

export function toWebhook(row: typeof webhooks.$inferSelect) {
  return {
    id: row.id,
    url: row.url,
    events: row.events,
    description: row.description,
    enabled: row.enabled,
    created_at: isoTimestamp(row.createdAt),
    updated_at: isoTimestamp(row.updatedAt),
  }
}

export function toDelivery(row: typeof webhookDeliveries.$inferSelect) {
  return {
    id: row.id,
    event_id: row.eventId,
    event_type: row.eventType,
    attempt: row.attempt,
    status: row.status,
    response_status: row.responseStatus,
    error: row.error,
    duration_ms: row.durationMs,
    created_at: isoTimestamp(row.createdAt),
    next_attempt_at: row.nextAttemptAt ? isoTimestamp(row.nextAttemptAt) : null,
  }
}
