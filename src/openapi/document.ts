import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance, RouteOptions } from 'fastify'
import { ERROR_CODES, type ErrorCode } from '../lib/errors.js'
import { Problem } from '../lib/schemas.js'
import { loadNamedSchemas, nameComponents } from './components.js'
import { codesFor, problemResponse, type RouteKind, statusesOfKind } from './problems.js'

export const API_VERSION = '1.0.0'

/** Tags in the order the docs show them, with what each groups. */
export const TAGS = [
  { name: 'auth', description: 'Register, log in, rotate and revoke tokens, the current user' },
  { name: 'organizations', description: 'Organizations of the caller and their members' },
  { name: 'companies', description: 'Companies the contacts work for' },
  { name: 'contacts', description: 'People the organization sells to' },
  { name: 'deals', description: 'Sales opportunities moving through the pipeline' },
  { name: 'tasks', description: 'To-dos attached to deals' },
  { name: 'activities', description: "A deal's feed: status and stage changes, tasks, comments" },
  { name: 'pipeline', description: 'Pipeline stages and their probabilities' },
  { name: 'analytics', description: 'Deal summary and funnel, always fresh' },
  {
    name: 'invitations',
    description: 'Invitations to an organization: sent by owners and admins, answered by the invitee',
  },
  { name: 'search', description: 'One search over contacts, companies and deals' },
  { name: 'api-keys', description: 'Keys for servers that call the API as their user' },
  { name: 'webhooks', description: 'Signed event deliveries to your endpoints, with a delivery log' },
  { name: 'service', description: 'Liveness and readiness' },
]

type RouteSchema = {
  hide?: boolean
  body?: unknown
  params?: unknown
  querystring?: unknown
  headers?: { properties?: Record<string, unknown> }
  security?: unknown[]
  response?: Record<string, unknown>
  [key: string]: unknown
}

function routeKind(url: string, schema: RouteSchema, publicRoute: boolean): RouteKind {
  return {
    public: publicRoute,
    tenant: Boolean(schema.headers?.properties?.['x-organization-id']),
    hasBody: schema.body !== undefined,
    hasParams: schema.params !== undefined,
    hasQuery: schema.querystring !== undefined,
    usesDatabase: url !== '/health',
  }
}

/**
 * Per route, for the document only (the runtime schemas stay as written): public operations say
 * `security: []`, others the bearer scheme; every error status the route's kind can produce, plus those it
 * declares, is documented as `application/problem+json` with the Problem schema and an example per code.
 */
export function documentRoute(
  url: string,
  schema: RouteSchema,
  route: { public: boolean; errorCodes: readonly ErrorCode[] },
) {
  const declaredCodes = route.errorCodes
  const kind = routeKind(url, schema, route.public)
  const declared = Object.keys(schema.response ?? {})
    .map(Number)
    .filter((status) => status >= 400)
  const statuses = new Set([
    ...declared,
    ...statusesOfKind(kind),
    ...declaredCodes.map((code) => problemStatus(code)),
  ])
  const successes = Object.entries(schema.response ?? {}).filter(([status]) => Number(status) < 400)
  const errors = [...statuses]
    .sort((a, b) => a - b)
    .map((status) => [String(status), problemResponse(codesFor(status, declaredCodes, kind))])
  return {
    ...schema,
    security: kind.public ? [] : (schema.security ?? [{ bearerAuth: [] }]),
    response: Object.fromEntries([...successes, ...errors]),
  }
}

function problemStatus(code: ErrorCode): number {
  return ERROR_CODES[code].status
}

/** The document as clients see it; every request builds the same object (cached by the swagger plugin). */
export async function registerApiDocs(app: FastifyInstance): Promise<void> {
  const named = await loadNamedSchemas()
  app.addSchema(Problem)
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Mini-CRM API',
        version: API_VERSION,
        description:
          'Multi-tenant CRM: organizations, contacts, deals, tasks, activities and sales analytics. ' +
          'Errors are RFC 9457 problem details (`application/problem+json`) with a stable `code`. ' +
          'Record routes act in the organization named by the `X-Organization-Id` header.',
        license: { name: 'MIT', identifier: 'MIT' },
      },
      servers: [{ url: '/', description: 'This server' }],
      tags: TAGS,
      components: {
        securitySchemes: {
          bearerAuth: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'JWT',
            description: 'The access_token of register, login or refresh',
          },
        },
      },
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
    transform: ({ schema, url, route }) => {
      const routeSchema = schema as RouteSchema | undefined
      if (!routeSchema || routeSchema.hide) return { schema, url }
      const config = (route as RouteOptions).config
      const documented = documentRoute(url, routeSchema, {
        public: config?.public === true,
        errorCodes: config?.errorCodes ?? [],
      })
      return { schema: documented as typeof schema, url }
    },
    transformObject: (documentObject) =>
      'openapiObject' in documentObject
        ? (nameComponents(
            documentObject.openapiObject as Record<string, unknown>,
            named,
          ) as typeof documentObject.openapiObject)
        : documentObject.swaggerObject,
  })
  // Every route of the docs UI is public: marked as it is registered, inside this scope only.
  await app.register(async (docs) => {
    docs.addHook('onRoute', (route) => {
      route.config = { ...route.config, public: true }
    })
    await docs.register(swaggerUi, { routePrefix: '/docs' })
  })
  app.get('/openapi.json', { schema: { hide: true }, config: { public: true } }, () => app.swagger())
}
