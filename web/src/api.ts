/**
 * The console's only way to the service: the typed client generated from the OpenAPI document
 * (`@mini-crm/client`), a session kept in memory, and API errors as `ApiError`.
 *
 * Tokens: the access token lives in this module's memory only; the refresh token lives in the httpOnly
 * `mc_refresh` cookie the service sets when we log in with `X-Session-Cookie: 1`, so no script can read it.
 * A reload gets a new access token from `/auth/session/refresh` (the cookie), and any 401 triggers one refresh
 * and one retry.
 */
import { createCrmClient, type Problem } from '@mini-crm/client'

let accessToken: string | undefined
let organizationId: string | undefined
let signedOutListener: (() => void) | undefined

export class ApiError extends Error {
  readonly status: number
  readonly problem: Partial<Problem>
  constructor(status: number, problem: Partial<Problem>) {
    super(problem.detail ?? `The request failed (HTTP ${status})`)
    this.status = status
    this.problem = problem
  }
  get code(): string | undefined {
    return this.problem.code
  }
  /** The message of a field error (`body.title` answers for `title`). */
  fieldError(field: string): string | undefined {
    return this.problem.errors?.find((error) => error.field === field || error.field.endsWith(`.${field}`))
      ?.message
  }
}

/** Any thrown value as a sentence a person can read. */
export function messageOf(error: unknown): string {
  if (error instanceof ApiError) return error.message
  if (error instanceof Error) return error.message
  return 'Something went wrong'
}

const SESSION_HEADER = { 'x-session-cookie': '1' } as const

let refreshing: Promise<boolean> | undefined
/** One refresh at a time: parallel 401s wait for the same one (a refresh token works once). */
export function refreshAccess(): Promise<boolean> {
  refreshing ??= (async () => {
    try {
      const response = await fetch('/api/v1/auth/session/refresh', {
        method: 'POST',
        headers: SESSION_HEADER,
      })
      if (!response.ok) {
        // Read the refusal to its end: an unread body keeps the request open in the browser.
        await response.text()
        return false
      }
      accessToken = ((await response.json()) as { access_token: string }).access_token
      return true
    } catch {
      return false
    } finally {
      refreshing = undefined
    }
  })()
  return refreshing
}

async function sessionFetch(request: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const input = request instanceof Request && !init ? request : new Request(request, init)
  const retry = input.clone()
  const send = (request: Request) => {
    if (accessToken) request.headers.set('authorization', `Bearer ${accessToken}`)
    return fetch(request)
  }
  let response: Response
  try {
    response = await send(input)
  } catch {
    return networkFailure()
  }
  if (response.status !== 401 || input.url.includes('/api/v1/auth/') || !accessToken) return response
  if (!(await refreshAccess())) {
    accessToken = undefined
    signedOutListener?.()
    return response
  }
  try {
    return await send(retry)
  } catch {
    return networkFailure()
  }
}

function networkFailure(): Response {
  const problem = {
    status: 0,
    code: 'SERVICE_UNAVAILABLE',
    title: 'Network error',
    detail: 'The service cannot be reached. Check your connection and try again.',
  }
  return new Response(JSON.stringify(problem), {
    status: 503,
    headers: { 'content-type': 'application/problem+json' },
  })
}

export const crm = createCrmClient({ baseUrl: window.location.origin, fetch: sessionFetch })

/** Awaits a client call: its data, or an ApiError with the problem body. */
export async function unwrap<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await call
  if (!response.ok || error !== undefined) {
    const problem = (error && typeof error === 'object' ? error : {}) as Partial<Problem>
    throw new ApiError(response.status, problem)
  }
  return data as T
}

/** The organization every record request acts in (the X-Organization-Id header). */
export function org(): { 'x-organization-id': string } {
  if (!organizationId) throw new Error('No organization selected')
  return { 'x-organization-id': organizationId }
}

export const session = {
  get signedIn() {
    return accessToken !== undefined
  },
  setAccessToken(token: string | undefined) {
    accessToken = token
  },
  setOrganization(id: string | undefined) {
    organizationId = id
  },
  onSignedOut(listener: () => void) {
    signedOutListener = listener
  },
  headers: SESSION_HEADER,
}

/** Downloads an authenticated CSV export (the browser cannot add a bearer token to a plain link). */
export async function downloadCsv(path: string, filename: string): Promise<void> {
  const response = await sessionFetch(
    new Request(`${window.location.origin}${path}`, { headers: { ...org(), accept: 'text/csv' } }),
  )
  if (!response.ok) {
    const problem = (await response.json().catch(() => ({}))) as Partial<Problem>
    throw new ApiError(response.status, problem)
  }
  const url = URL.createObjectURL(await response.blob())
  const link = document.createElement('a')
  link.href = url
  link.download = filename
  link.click()
  URL.revokeObjectURL(url)
}
