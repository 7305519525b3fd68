/**
 * The web console (built from `web/` into `web/dist`) served at `/`: hashed assets under `/assets/` cached for
 * a year, and `index.html` for `/` and every console path (client-side routes such as `/deals/:id`), so a
 * reload or a link from an email opens the right page. API paths keep their problem+json 404.
 * The page's Content-Security-Policy allows only the console's own assets and the same-origin API.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import fastifyStatic from '@fastify/static'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

/** Paths that are never console pages: their unknown URLs stay problem+json 404s. */
const NOT_CONSOLE = /^\/(api|docs|openapi\.json|health|ready|metrics|assets)(\/|$)/

export function consoleDirectory(): string {
  return resolve(process.env.CONSOLE_DIR ?? join(process.cwd(), 'web', 'dist'))
}

/** Registers the console when it has been built; answers whether it was. */
export async function registerConsole(
  app: FastifyInstance,
  directory = consoleDirectory(),
): Promise<boolean> {
  const indexPath = join(directory, 'index.html')
  if (!existsSync(indexPath)) {
    app.log.warn({ directory }, 'console not built (npm run build:web): serving the API only')
    return false
  }
  const indexHtml = readFileSync(indexPath)
  await app.register(async (scope) => {
    // Console files need no token: marked public as they are registered, inside this scope only.
    scope.addHook('onRoute', (route) => {
      route.config = { ...route.config, public: true }
      route.schema = { ...route.schema, hide: true }
    })
    await scope.register(fastifyStatic, {
      root: directory,
      prefix: '/',
      wildcard: false,
      index: false,
      // Vite names assets by content hash: a changed file gets a new name, so they never go stale.
      setHeaders(response, path) {
        response.header(
          'cache-control',
          path.includes(`${join(directory, 'assets')}`) ? 'public, max-age=31536000, immutable' : 'no-cache',
        )
      },
    })
  })
  app.decorate('consoleIndex', (reply: FastifyReply) =>
    reply
      .code(200)
      .header('content-security-policy', CONSOLE_CSP)
      .header('cache-control', 'no-cache')
      .type('text/html; charset=utf-8')
      .send(indexHtml),
  )
  return true
}

/** For the not-found handler: a browser asking for a console page (any GET outside the API) gets the app. */
export function isConsolePage(request: FastifyRequest): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false
  const path = request.url.split('?')[0] ?? '/'
  return !NOT_CONSOLE.test(path)
}

declare module 'fastify' {
  interface FastifyInstance {
    consoleIndex?: (reply: FastifyReply) => FastifyReply
  }
}
