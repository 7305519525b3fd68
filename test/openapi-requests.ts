import { randomUUID } from 'node:crypto'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'

/**
 * The app's operations as its own OpenAPI document lists them, and valid requests for each: the fuzz test
 * and the database-outage test iterate over whatever routes exist at run time, so routes added later are
 * covered without touching the tests.
 */

export type JsonSchema = Record<string, unknown>

export interface Parameter {
  name: string
  in: 'path' | 'query' | 'header'
  required: boolean
  schema: JsonSchema
}

export interface Operation {
  method: string
  /** OpenAPI path, e.g. `/api/v1/contacts/{id}`. */
  path: string
  parameters: Parameter[]
  body: JsonSchema | undefined
  /** Media type of the body when it is not JSON (e.g. text/csv), else undefined. */
  bodyType: string | undefined
  public: boolean
}

/** Replaces every local `$ref` by the schema it names, so generators see whole schemas (named components). */
function inlineRefs(value: unknown, document: Record<string, unknown>, depth = 0): unknown {
  if (Array.isArray(value)) return value.map((item) => inlineRefs(item, document, depth))
  if (!value || typeof value !== 'object') return value
  const object = value as Record<string, unknown>
  if (typeof object.$ref === 'string' && object.$ref.startsWith('#/') && depth < 32) {
    let target: unknown = document
    for (const part of object.$ref.slice(2).split('/')) target = (target as Record<string, unknown>)?.[part]
    const { $ref: _ref, ...rest } = object
    return inlineRefs({ ...(target as Record<string, unknown>), ...rest }, document, depth + 1)
  }
  return Object.fromEntries(
    Object.entries(object).map(([key, item]) => [key, inlineRefs(item, document, depth)]),
  )
}

export async function listOperations(app: FastifyInstance): Promise<Operation[]> {
  const response = await app.inject({ method: 'GET', url: '/openapi.json' })
  const raw = response.json() as Record<string, unknown>
  const document = { ...raw, paths: inlineRefs(raw.paths, raw) } as {
    paths: Record<string, Record<string, Record<string, unknown>>>
    security?: unknown[]
  }
  const operations: Operation[] = []
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, raw] of Object.entries(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue
      const operation = raw as {
        parameters?: Parameter[]
        requestBody?: { content?: Record<string, { schema?: JsonSchema }> }
        security?: unknown[]
      }
      const content = operation.requestBody?.content ?? {}
      const json = content['application/json']
      const [otherType] = Object.keys(content).filter((type) => type !== 'application/json')
      const security = operation.security ?? document.security
      operations.push({
        method: method.toUpperCase(),
        path,
        parameters: (operation.parameters ?? []).map((parameter) => ({
          ...parameter,
          required: parameter.required ?? parameter.in === 'path',
          schema: parameter.schema ?? {},
        })),
        body: json?.schema ?? (otherType ? content[otherType]?.schema : undefined),
        bodyType: json ? undefined : otherType,
        public: !security || security.length === 0,
      })
    }
  }
  return operations
}

export function operationName(operation: Operation): string {
  return `${operation.method} ${operation.path}`
}

/** Real ids to put where a schema asks for a UUID, by field name; others get a random UUID. */
export type IdsByName = Record<string, string>

const DAY_MS = 86_400_000

/** A value valid for `schema` (the simplest one), using `ids` for UUID fields named there. */
export function validValue(schema: JsonSchema, ids: IdsByName = {}, name = ''): unknown {
  if ('default' in schema) return schema.default
  if (Array.isArray(schema.enum)) return schema.enum[0]
  if ('const' in schema) return schema.const
  const variants = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined
  if (variants) {
    const nonNull = variants.find((variant) => variant.type !== 'null') ?? variants[0]
    return validValue(nonNull ?? {}, ids, name)
  }
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type
  switch (type) {
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, JsonSchema>
      const required = (schema.required ?? []) as string[]
      return Object.fromEntries(required.map((key) => [key, validValue(properties[key] ?? {}, ids, key)]))
    }
    case 'array':
      return []
    case 'integer':
    case 'number':
      return typeof schema.minimum === 'number' ? Math.max(schema.minimum, 1) : 1
    case 'boolean':
      return false
    case 'null':
      return null
    default:
      return validString(schema, ids, name)
  }
}

function validString(schema: JsonSchema, ids: IdsByName, name: string): string {
  switch (schema.format) {
    case 'uuid':
      return ids[name] ?? randomUUID()
    case 'email':
      return `fuzz-${randomUUID()}@example.test`
    case 'date':
      return new Date(Date.now() + 7 * DAY_MS).toISOString().slice(0, 10)
    case 'date-time':
      return new Date().toISOString()
  }
  if (name === 'currency') return 'USD'
  if (name === 'amount' || name.endsWith('_amount')) return '10.00'
  const minLength = typeof schema.minLength === 'number' ? schema.minLength : 1
  return 'x'.repeat(Math.max(minLength, name === 'password' || name.endsWith('_password') ? 12 : 1))
}

export interface RequestParts {
  path: Record<string, string>
  query: Record<string, unknown>
  headers: Record<string, string>
  /** undefined: no body; a string: sent verbatim as the raw body. */
  body: unknown
  rawBody?: boolean
}

/** A valid request for `operation`: every path parameter, required query parameters and headers, body. */
export function validRequest(operation: Operation, ids: IdsByName): RequestParts {
  const parts: RequestParts = { path: {}, query: {}, headers: {}, body: undefined }
  for (const parameter of operation.parameters) {
    if (!parameter.required && parameter.in !== 'path') continue
    const value = validValue(parameter.schema, ids, parameter.name)
    if (parameter.in === 'path') parts.path[parameter.name] = String(value)
    else if (parameter.in === 'header') parts.headers[parameter.name] = String(value)
    else parts.query[parameter.name] = value
  }
  if (operation.body) parts.body = validValue(operation.body, ids)
  // The console's session routes read their refresh token from a cookie (no parameter describes it).
  if (parts.headers['x-session-cookie'] === '1') parts.headers.cookie = 'mc_refresh=not-a-live-refresh-token'
  return parts
}

/** `encodeURIComponent`, except that a lone surrogate goes out as its (invalid) 3-byte WTF-8 form. */
export function encodeLoose(value: string): string {
  try {
    return encodeURIComponent(value)
  } catch {
    let out = ''
    for (const char of value) {
      const code = char.codePointAt(0) ?? 0
      if (code >= 0xd800 && code <= 0xdfff) {
        out += [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)]
          .map((byte) => `%${byte.toString(16).toUpperCase()}`)
          .join('')
      } else out += encodeURIComponent(char)
    }
    return out
  }
}

export function toInject(
  operation: Operation,
  parts: RequestParts,
  headers: Record<string, string>,
): InjectOptions {
  const url = operation.path.replace(/\{([^}]+)\}/g, (_match, name: string) =>
    encodeLoose(parts.path[name] ?? ''),
  )
  const query = Object.entries(parts.query)
    .flatMap(([key, value]) =>
      (Array.isArray(value) ? value : [value]).map(
        (item) =>
          `${encodeLoose(key)}=${encodeLoose(typeof item === 'string' ? item : JSON.stringify(item))}`,
      ),
    )
    .join('&')
  const options: InjectOptions = {
    method: operation.method as InjectOptions['method'],
    url: query ? `${url}?${query}` : url,
    headers: { ...headers, ...parts.headers },
  }
  if (parts.body !== undefined) {
    const type = operation.bodyType ?? 'application/json'
    options.headers = { 'content-type': type, ...options.headers }
    options.payload =
      parts.rawBody || operation.bodyType ? String(parts.body) : (JSON.stringify(parts.body) ?? 'null')
  }
  return options
}

const PROBLEM_KEYS = new Set(['type', 'title', 'status', 'detail', 'code', 'errors', 'request_id'])

/**
 * Why `response` breaks the error contract (spec §1), or undefined when it keeps it: no 5xx, and every error
 * an RFC 9457 problem+json body of exactly the §1 shape whose status and request id match the response's.
 */
export function contractViolation(
  response: LightMyRequestResponse,
  codes: Record<string, { status: number }>,
  allowed5xx: number[] = [],
): string | undefined {
  const status = response.statusCode
  if (status >= 500 && !allowed5xx.includes(status)) return `status ${status}`
  if (status < 400) return undefined
  const type = String(response.headers['content-type'] ?? '')
  if (!type.startsWith('application/problem+json')) return `content-type ${type}`
  let body: Record<string, unknown>
  try {
    body = response.json()
  } catch {
    return 'body is not JSON'
  }
  const extra = Object.keys(body).filter((key) => !PROBLEM_KEYS.has(key))
  if (extra.length > 0) return `unexpected keys ${extra.join(', ')}`
  if (typeof body.type !== 'string' || typeof body.title !== 'string' || typeof body.detail !== 'string')
    return 'type, title or detail is not a string'
  if (body.status !== status) return `body status ${String(body.status)}`
  const code = typeof body.code === 'string' ? codes[body.code] : undefined
  if (!code || code.status !== status) return `code ${String(body.code)} for status ${status}`
  if (typeof body.request_id !== 'string' || body.request_id !== response.headers['x-request-id'])
    return 'request_id differs from X-Request-Id'
  if (
    body.errors !== undefined &&
    !(
      Array.isArray(body.errors) &&
      body.errors.every(
        (error) =>
          error &&
          typeof error.field === 'string' &&
          typeof error.message === 'string' &&
          Object.keys(error).length === 2,
      )
    )
  )
    return 'errors is not a list of {field, message}'
  return undefined
}
