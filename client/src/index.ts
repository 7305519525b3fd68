/**
 * The typed Mini-CRM client. `paths` and `components` are generated from the service's OpenAPI document
 * (`npm run openapi` at the repository root); every path, parameter, body and answer is checked by TypeScript.
 *
 *   const crm = createCrmClient({ baseUrl: 'http://localhost:8000' })
 *   const { data, error } = await crm.POST('/api/v1/auth/login', { body: { email, password } })
 *   crm.useAccessToken(data.access_token)
 * Record routes take the organization as a typed header parameter: `params: { header: { 'x-organization-id' } }`.
 */
import createClient, { type Client, type Middleware } from 'openapi-fetch'
import type { components, paths } from './schema.js'

export type { components, paths }
export type Schemas = components['schemas']
/** The RFC 9457 body of every error answer. */
export type Problem = Schemas['Problem']

export interface CrmClient extends Client<paths> {
  /** Sends `Authorization: Bearer <token>` from now on (undefined stops). */
  useAccessToken(token: string | undefined): void
}

export function createCrmClient(options: { baseUrl: string; fetch?: typeof fetch }): CrmClient {
  const client = createClient<paths>({
    baseUrl: options.baseUrl,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  })
  let token: string | undefined
  const headers: Middleware = {
    onRequest({ request }) {
      if (token && !request.headers.has('authorization'))
        request.headers.set('authorization', `Bearer ${token}`)
      return request
    },
  }
  client.use(headers)
  return Object.assign(client, {
    useAccessToken(value: string | undefined) {
      token = value
    },
  })
}
