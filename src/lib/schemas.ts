import { type TObject, type TSchema, type TUnsafe, Type } from 'typebox'
import { ERROR_CODES } from './errors.js'

/** A string enum rendered as `{type: string, enum: [...]}`, which OpenAPI tools read best. */
export function StringEnum<const T extends readonly string[]>(
  values: T,
  options: Record<string, unknown> = {},
): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options })
}

/** A UUID in its 36-character form (no `urn:uuid:`, no braces), lower-cased by the schema layer. */
export const Uuid = Type.String({ format: 'uuid', 'x-normalize': 'id', description: 'UUID' })
/** An email address, trimmed and lower-cased by the schema layer: one rule for users and contacts. */
export const Email = Type.String({
  format: 'email',
  maxLength: 320,
  'x-normalize': 'email',
  description: 'Trimmed and compared case-insensitively',
})
export const Timestamp = Type.String({ format: 'date-time' })
// Year 0000 passes the `date` format but PostgreSQL has no year 0: the pattern keeps it a 400, not a 500.
export const DateOnly = Type.String({ format: 'date', pattern: '^(?!0000)', description: 'YYYY-MM-DD' })

export const IdParams = Type.Object({ id: Uuid }, { additionalProperties: false })

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: StringEnum(Object.keys(ERROR_CODES) as (keyof typeof ERROR_CODES)[]),
    errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
    request_id: Type.String(),
  },
  { $id: 'Problem', description: 'RFC 9457 problem details' },
)

/** Response entries for the listed error statuses, all sharing the Problem schema. */
export function problems(...statuses: number[]): Record<number, TSchema> {
  const ref = Type.Ref('Problem')
  return Object.fromEntries(statuses.map((status) => [status, ref]))
}

/** Header schema of tenant-scoped routes; the tenant hook enforces it before validation (spec §1 order). */
export const TenantHeaders = Type.Object({
  'x-organization-id': Type.String({
    format: 'uuid',
    'x-normalize': 'id',
    description: "Organization the request acts in (optional with an API key: the key's organization)",
  }),
})

/**
 * An object schema whose properties with a `default` may be left out by clients (they leave `required`) while
 * the handler's type has them: the validator (ajv `useDefaults`) fills them in before any handler runs. Defaults
 * live here, in the schema, once: never again as `?? 1` in a handler.
 */
export function Defaulted<T extends TObject>(schema: T): T {
  const properties = schema.properties as Record<string, { default?: unknown }>
  const required = (schema.required ?? []).filter((key) => properties[key]?.default === undefined)
  // A copy with every property descriptor (TypeBox keeps its kind in non-enumerable ones).
  const copy = Object.create(Object.getPrototypeOf(schema), Object.getOwnPropertyDescriptors(schema)) as {
    required?: string[]
  }
  if (required.length === 0) delete copy.required
  else copy.required = required
  return copy as T
}

/** Page parameters of every paginated list (page or cursor, page_size, count): use inside a `Defaulted` object. */
export { ListPage as Page, ListPageQuery as PageQuery } from './list.js'

/**
 * A page of a list not (yet) on the list engine (lib/list.ts): offset only, so `next_cursor` is always null.
 * Lists that can grow large use `servePage` instead.
 */
export function pageOf<T>(items: T[], total: number, page: number, pageSize: number) {
  return { items, total, page, page_size: pageSize, pages: Math.ceil(total / pageSize), next_cursor: null }
}
