import { Type } from 'typebox'
import { API_KEY_SCOPES, type apiKeys } from '../../db/schema.js'
import { isoTimestamp } from '../../lib/dates.js'
import { StringEnum, Timestamp, Uuid } from '../../lib/schemas.js'

const fields = {
  id: Uuid,
  name: Type.String(),
  scope: StringEnum(API_KEY_SCOPES),
  prefix: Type.String({ description: 'The first 12 characters of the key, to tell keys apart' }),
  user_id: Uuid,
  organization_id: Uuid,
  created_at: Timestamp,
  expires_at: Type.Union([Timestamp, Type.Null()]),
  last_used_at: Type.Union([Timestamp, Type.Null()], { description: 'Updated at most once a minute' }),
}

export const ApiKey = Type.Object(fields, { $id: 'ApiKey', description: 'An API key (never the key itself)' })

export const CreatedApiKey = Type.Object(
  { ...fields, key: Type.String({ description: 'The key: shown only in this response' }) },
  { $id: 'CreatedApiKey' },
)

export const CreateApiKeyBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    scope: Type.Optional(StringEnum(API_KEY_SCOPES, { default: 'read' })),
    expires_at: Type.Optional(
      Type.Union([Timestamp, Type.Null()], { description: 'A future time; omitted or null: never' }),
    ),
  },
  { additionalProperties: false, examples: [{ name: 'CRM sync', scope: 'write' }] },
)

export function toApiKey(row: typeof apiKeys.$inferSelect) {
  return {
    id: row.id,
    name: row.name,
    scope: row.scope,
    prefix: row.prefix,
    user_id: row.userId,
    organization_id: row.organizationId,
    created_at: isoTimestamp(row.createdAt),
    expires_at: row.expiresAt ? isoTimestamp(row.expiresAt) : null,
    last_used_at: row.lastUsedAt ? isoTimestamp(row.lastUsedAt) : null,
  }
}
