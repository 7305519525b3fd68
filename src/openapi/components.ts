import { readdirSync } from 'node:fs'
import { dirname, extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * Named components without naming every schema twice: every object schema EXPORTED by a `schemas` module
 * (auth, lib, each feature) is a component under its export name, and the document refers to it wherever the
 * same schema appears (body, response, nested, e.g. `Contact` inside the contact page). A request or response
 * schema that is not exported (e.g. `Page(Contact)` written in a route) becomes a component named after its
 * operation (`ListContactsResponse`), so clients get a name for every body either way.
 */

type Json = Record<string, unknown>
type Schemas = Record<string, Json>

const HERE = dirname(fileURLToPath(import.meta.url))
const EXT = extname(fileURLToPath(import.meta.url))

/** `schemas` modules of auth, lib and every feature folder (found at start, so new features need no list). */
function schemaModulePaths(): string[] {
  const src = join(HERE, '..')
  const features = join(src, 'features')
  const featureModules = readdirSync(features, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => join(features, entry.name, `schemas${EXT}`))
    .filter((path) => {
      try {
        return readdirSync(dirname(path)).includes(`schemas${EXT}`)
      } catch {
        return false
      }
    })
  return [join(src, 'lib', `schemas${EXT}`), join(src, 'auth', `schemas${EXT}`), ...featureModules.sort()]
}

function isObjectSchema(value: unknown): value is Json {
  return (
    !!value &&
    typeof value === 'object' &&
    (value as Json).type === 'object' &&
    typeof (value as Json).properties === 'object'
  )
}

/** Plain JSON of a TypeBox schema (its symbols and non-enumerable markers dropped). */
function plain(schema: unknown): Json {
  return JSON.parse(JSON.stringify(schema)) as Json
}

/** Keywords whose value is data, not a schema. */
const VALUE_KEYS = new Set(['examples', 'example', 'default', 'const', 'enum', 'required'])
const IGNORED_KEYS = new Set(['examples', 'example', '$id', 'description', 'title'])

/** Structure of a schema, ignoring documentation-only keywords (not property names), with keys sorted. */
function fingerprint(value: unknown, propertyMap = false): string {
  if (Array.isArray(value)) return `[${value.map((child) => fingerprint(child)).join(',')}]`
  if (value && typeof value === 'object') {
    // The swagger plugin writes `const: x` as `enum: [x]` (OpenAPI 3.0 style): compare them as equal.
    const node = value as Json
    if (!propertyMap && 'const' in node && !('enum' in node)) {
      const { const: only, ...rest } = node
      return fingerprint({ ...rest, enum: [only] }, false)
    }
    const entries = Object.entries(node)
      .filter(([key]) => propertyMap || !IGNORED_KEYS.has(key))
      .sort(([a], [b]) => (a < b ? -1 : 1))
    const parts = entries.map(
      ([key, child]) => `${JSON.stringify(key)}:${fingerprint(child, !propertyMap && key === 'properties')}`,
    )
    return `{${parts.join(',')}}`
  }
  return JSON.stringify(value)
}

export async function loadNamedSchemas(): Promise<Schemas> {
  const named: Schemas = {}
  for (const path of schemaModulePaths()) {
    const module = (await import(path)) as Record<string, unknown>
    for (const [name, value] of Object.entries(module)) {
      if (isObjectSchema(value) && !(name in named)) named[name] = plain(value)
    }
  }
  return named
}

const REF_PREFIX = '#/components/schemas/'

/** Replaces, below `node` (and `node` itself unless `keepRoot`), every schema equal to a named one by a $ref. */
function referNamed(
  node: unknown,
  byPrint: Map<string, string>,
  keepRoot: boolean,
  propertyMap = false,
): unknown {
  if (Array.isArray(node)) return node.map((child) => referNamed(child, byPrint, false))
  if (!node || typeof node !== 'object') return node
  if (!keepRoot && !propertyMap && isObjectSchema(node)) {
    const name = byPrint.get(fingerprint(node))
    if (name) return { $ref: `${REF_PREFIX}${name}` }
  }
  return Object.fromEntries(
    Object.entries(node as Json).map(([key, child]) => {
      if (propertyMap) return [key, referNamed(child, byPrint, false)]
      if (VALUE_KEYS.has(key)) return [key, child]
      return [key, referNamed(child, byPrint, false, key === 'properties')]
    }),
  )
}

function pascal(text: string): string {
  return text
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((word) => word[0]?.toUpperCase() + word.slice(1))
    .join('')
}

const STATUS_TEXT: Record<string, string> = { '200': 'OK', '201': 'Created', '204': 'No Content' }
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']

/**
 * Post-processes the generated document: named schemas become components and are referred to; every other
 * request/response body schema is hoisted into a component named after its operation.
 */
export function nameComponents(document: Json, named: Schemas): Json {
  const components = (document.components ?? {}) as Json
  const schemas = { ...((components.schemas ?? {}) as Schemas) }
  const byPrint = new Map<string, string>()
  for (const [name, schema] of Object.entries({ ...schemas, ...named })) {
    if (isObjectSchema(schema) && !byPrint.has(fingerprint(schema))) byPrint.set(fingerprint(schema), name)
  }
  for (const [name, schema] of Object.entries(named)) {
    schemas[name] = referNamed(schema, byPrint, true) as Json
  }

  const hoist = (schema: unknown, baseName: string): unknown => {
    const referred = referNamed(schema, byPrint, false) as Json | undefined
    if (!referred || typeof referred !== 'object' || '$ref' in referred) return referred
    let name = baseName
    for (let n = 2; name in schemas; n++) name = `${baseName}${n}`
    schemas[name] = referred
    byPrint.set(fingerprint(schema), name)
    return { $ref: `${REF_PREFIX}${name}` }
  }

  for (const [path, item] of Object.entries((document.paths ?? {}) as Record<string, Json>)) {
    for (const method of METHODS) {
      const operation = item[method] as Json | undefined
      if (!operation) continue
      const base = pascal(String(operation.operationId ?? `${method} ${path.replaceAll(/[{}]/g, '')}`))
      const body = operation.requestBody as { content?: Record<string, Json> } | undefined
      for (const media of Object.values(body?.content ?? {})) {
        media.schema = hoist(media.schema, `${base}Request`)
      }
      const responses = (operation.responses ?? {}) as Record<string, { content?: Record<string, Json> }>
      const successes = Object.keys(responses).filter((status) => status.startsWith('2'))
      for (const [status, response] of Object.entries(responses) as [
        string,
        Json & { content?: Record<string, Json> },
      ][]) {
        if (response.description === 'Default Response')
          response.description = STATUS_TEXT[status] ?? 'Response'
        for (const media of Object.values(response.content ?? {})) {
          const suffix = successes.length > 1 ? `${status}Response` : 'Response'
          media.schema = hoist(media.schema, `${base}${suffix}`)
        }
      }
    }
  }
  // Keep only what the operations use (exported query, header and param schemas are parameters, not bodies).
  const used = new Set<string>()
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const child of node) visit(child)
      return
    }
    if (!node || typeof node !== 'object') return
    const ref = (node as Json).$ref
    if (typeof ref === 'string' && ref.startsWith(REF_PREFIX)) {
      const name = ref.slice(REF_PREFIX.length)
      if (!used.has(name)) {
        used.add(name)
        visit(schemas[name])
      }
    }
    for (const child of Object.values(node as Json)) visit(child)
  }
  visit(document.paths)
  const kept = Object.entries(schemas)
    .filter(([name]) => used.has(name))
    .sort(([a], [b]) => (a < b ? -1 : 1))
  return { ...document, components: { ...components, schemas: Object.fromEntries(kept) } }
}
