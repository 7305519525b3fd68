import type { IncomingMessage, ServerResponse } from 'node:http'
import type { FastifyInstance, RouteOptions } from 'fastify'
import helmet, { type HelmetOptions } from 'helmet'
import type { Config } from '../config.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The response carries credentials: `Cache-Control: no-store` (also set when a response schema has them). */
    noStore?: boolean
  }
}

/** Response property names that carry credentials; a route returning one is answered with `no-store`. */
const CREDENTIAL_PROPERTY = /(^|_)(token|secret|password|api_key)$/

/** True when a (TypeBox / JSON) schema, at any depth, has a property named like a credential. */
export function carriesCredentials(schema: unknown, depth = 0): boolean {
  if (!schema || typeof schema !== 'object' || depth > 20) return false
  const node = schema as Record<string, unknown>
  const properties = node.properties as Record<string, unknown> | undefined
  if (properties && Object.keys(properties).some((name) => CREDENTIAL_PROPERTY.test(name))) return true
  return Object.values(node).some((child) => carriesCredentials(child, depth + 1))
}

function routeCarriesCredentials(route: RouteOptions): boolean {
  if (route.config?.noStore) return true
  const responses = (route.schema as { response?: Record<string, unknown> } | undefined)?.response ?? {}
  return Object.entries(responses).some(
    ([status, schema]) => status.startsWith('2') && carriesCredentials(schema),
  )
}

/**
 * The headers helmet sets for `options`, computed once: with static directives (no nonces) they depend on
 * nothing in the request. @fastify/helmet built a helmet middleware on every request (two hooks, CSP parsed
 * each time): about 60 us of CPU per request, a fifth of the W2 read's budget.
 */
export function helmetHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {}
  const response = {
    setHeader(name: string, value: unknown) {
      headers[name.toLowerCase()] = String(value)
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()]
    },
  }
  helmet(options)({} as IncomingMessage, response as unknown as ServerResponse, () => {})
  return headers
}

/**
 * HTTP hardening in one place:
 * - security headers by helmet (computed once, set on every response); the CSP allows what the `/docs` UI
 *   needs (its scripts are served from this origin; it sets inline styles and shows data: images), no
 *   `upgrade-insecure-requests` so the docs work over plain HTTP on localhost;
 * - `Cache-Control: no-store` on every response of a route whose success schema carries a credential (token,
 *   secret, password, api_key) or that sets `config.noStore`: register, login and refresh today, and any
 *   future route returning one without having to remember it.
 * Call before any route is registered (the onRoute hook only sees routes added after it).
 */
export async function registerHttpSecurity(app: FastifyInstance, config: Config): Promise<void> {
  const cors = config.corsOrigins === true || config.corsOrigins.length > 0
  const securityHeaders = helmetHeaders({
    contentSecurityPolicy: {
      useDefaults: true,
      directives: {
        'img-src': ["'self'", 'data:'],
        'style-src': ["'self'", "'unsafe-inline'"],
        'upgrade-insecure-requests': null,
      },
    },
    // A browser app on another origin (CORS_ORIGINS) must be able to read the answers.
    crossOriginResourcePolicy: { policy: cors ? 'cross-origin' : 'same-origin' },
  })
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(securityHeaders)
    done()
  })

  app.addHook('onRoute', (route) => {
    if (routeCarriesCredentials(route)) route.config = { ...route.config, noStore: true }
  })
  app.addHook('onSend', async (request, reply) => {
    if (request.routeOptions.config.noStore) reply.header('cache-control', 'no-store')
  })
}

/** Fastify's `trustProxy`: a hop count becomes "trust the nearest n hops", as proxy-addr reads a number. */
export function trustProxyOption(
  setting: Config['trustProxy'],
): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof setting !== 'number') return setting
  return (_address, hop) => hop < setting
}
