import fastJson from 'fast-json-stringify'

/**
 * Response serialization: fast-json-stringify, as Fastify's default, with one change to the schemas it compiles.
 * fast-json-stringify picks the branch of an `anyOf` by running an ajv validator per value, so every nullable
 * field (`Type.Union([X, Type.Null()])`) cost a validator call per row, and a date or timestamp one a format check
 * (regex and calendar) too: ~3 % of a list request's CPU. A type list (`type: [X, 'null']`) serializes the same
 * JSON with a `=== null` test. Only the serializer's copy changes: validation and the OpenAPI document keep the
 * schemas as written.
 */

type Schema = Record<string | symbol, unknown>

const SCALAR_TYPES = new Set(['string', 'integer', 'number', 'boolean'])

function isPlainObject(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** `{anyOf: [{type: 'null'}, X]}` (either order) with X a scalar schema of one type: X with `type: [X, 'null']`. */
function asNullableType(schema: Schema): Schema | undefined {
  const options = schema.anyOf
  if (!Array.isArray(options) || options.length !== 2) return undefined
  const nullIndex = options.findIndex((option) => isPlainObject(option) && option.type === 'null')
  if (nullIndex === -1) return undefined
  const other = options[1 - nullIndex]
  if (!isPlainObject(other) || typeof other.type !== 'string' || !SCALAR_TYPES.has(other.type))
    return undefined
  if ('anyOf' in other || 'oneOf' in other || 'allOf' in other || '$ref' in other || 'const' in other) {
    return undefined
  }
  const { anyOf: _anyOf, ...siblings } = schema
  return { ...other, ...siblings, type: [other.type, 'null'] }
}

const KEYWORDS_WITH_SCHEMAS = ['items', 'additionalProperties', 'not', 'if', 'then', 'else'] as const
const KEYWORDS_WITH_SCHEMA_LISTS = ['anyOf', 'oneOf', 'allOf', 'prefixItems'] as const
const KEYWORDS_WITH_SCHEMA_MAPS = ['properties', 'patternProperties', '$defs', 'definitions'] as const

/** A copy of `schema` with every nullable scalar union written as a type list; the input is not changed. */
export function withNullableTypes(schema: unknown): unknown {
  if (!isPlainObject(schema)) return schema
  const nullable = asNullableType(schema)
  if (nullable) return nullable
  const copy: Schema = { ...schema }
  for (const keyword of KEYWORDS_WITH_SCHEMAS) {
    if (keyword in copy) copy[keyword] = withNullableTypes(copy[keyword])
  }
  for (const keyword of KEYWORDS_WITH_SCHEMA_LISTS) {
    const list = copy[keyword]
    if (Array.isArray(list)) copy[keyword] = list.map(withNullableTypes)
  }
  for (const keyword of KEYWORDS_WITH_SCHEMA_MAPS) {
    const map = copy[keyword]
    if (isPlainObject(map)) {
      copy[keyword] = Object.fromEntries(
        Object.entries(map).map(([key, value]) => [key, withNullableTypes(value)]),
      )
    }
  }
  return copy
}

type SerializerFactory = (
  externalSchemas?: unknown,
  serializerOpts?: fastJson.Options,
) => (route: { schema?: unknown }) => (data: unknown) => string

/**
 * Fastify's `schemaController.compilersFactory.buildSerializer`: what `@fastify/fast-json-stringify-compiler`
 * does (shared schemas passed along for `$ref`, a route schema with an `$id` not resolved against itself), on the
 * rewritten schemas.
 */
export const buildSerializer: SerializerFactory = (externalSchemas, serializerOpts) => {
  const shared = isPlainObject(externalSchemas)
    ? Object.fromEntries(
        Object.entries(externalSchemas).map(([id, schema]) => [id, withNullableTypes(schema)]),
      )
    : undefined
  return ({ schema }) => {
    let schemas = shared
    const id = isPlainObject(schema) ? schema.$id : undefined
    if (schemas && typeof id === 'string' && schemas[id]) {
      const { [id]: _self, ...others } = schemas
      schemas = others
    }
    return fastJson(withNullableTypes(schema) as object, {
      ...serializerOpts,
      ...(schemas ? { schema: schemas as Record<string, fastJson.Schema> } : {}),
    }) as (data: unknown) => string
  }
}
