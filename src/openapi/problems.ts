import { AppError, ERROR_CODES, type ErrorCode, type FieldError, toProblem } from '../lib/errors.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Error codes this route answers besides the generic ones of its kind; documented with examples. */
    errorCodes?: readonly ErrorCode[]
  }
}

export const PROBLEM_MEDIA_TYPE = 'application/problem+json'
const EXAMPLE_REQUEST_ID = '0193c9a2-7c1e-7b4e-9a51-2f6d4c8e1a10'

/** The code shown for a status when the route names none of that status. */
const GENERIC_CODES: Record<number, ErrorCode[]> = {
  400: ['VALIDATION_ERROR'],
  401: ['UNAUTHORIZED'],
  403: ['FORBIDDEN'],
  404: ['NOT_FOUND'],
  405: ['METHOD_NOT_ALLOWED'],
  409: Object.entries(ERROR_CODES)
    .filter(([, entry]) => entry.status === 409)
    .map(([code]) => code as ErrorCode),
  413: ['PAYLOAD_TOO_LARGE'],
  415: ['UNSUPPORTED_MEDIA_TYPE'],
  429: ['RATE_LIMITED'],
  500: ['INTERNAL_ERROR'],
  503: ['SERVICE_UNAVAILABLE'],
}

const DETAILS: Partial<Record<ErrorCode, { detail: string; errors?: FieldError[] }>> = {
  VALIDATION_ERROR: {
    detail: 'Invalid request: body.email must NOT have fewer than 3 characters',
    errors: [{ field: 'body.email', message: 'must NOT have fewer than 3 characters' }],
  },
  ORGANIZATION_HEADER_REQUIRED: { detail: 'X-Organization-Id header must be an organization UUID' },
  UNAUTHORIZED: { detail: 'Authorization header is missing' },
  INVALID_TOKEN: { detail: 'The access token is invalid or expired' },
  INVALID_CREDENTIALS: { detail: 'Email or password is incorrect' },
  ORGANIZATION_ACCESS_DENIED: { detail: 'You are not a member of this organization' },
  RATE_LIMITED: { detail: 'Too many attempts; retry in 42 s' },
  SERVICE_UNAVAILABLE: { detail: 'The database is not reachable; retry shortly' },
  INTERNAL_ERROR: { detail: 'An unexpected error occurred' },
}

/** A problem body exactly as the error handler would send it (same function), for the document's examples. */
export function exampleProblem(code: ErrorCode) {
  const example = DETAILS[code]
  const error = new AppError(code, example?.detail, example?.errors ? { errors: example.errors } : {})
  return toProblem(error, EXAMPLE_REQUEST_ID)
}

export interface RouteKind {
  public: boolean
  tenant: boolean
  hasBody: boolean
  hasParams: boolean
  hasQuery: boolean
  usesDatabase: boolean
}

/**
 * The error statuses a route of this kind can answer, whatever its handler does: a request that is checked
 * can fail validation (400), a protected one authentication (401), a tenant one membership (403, and 400 for
 * the header), an addressed record can be missing (404), a body can be too large or of the wrong type
 * (413, 415), and anything that needs the database can find it away (503). 500 is documented everywhere.
 */
export function statusesOfKind(kind: RouteKind): number[] {
  const statuses = [500]
  if (kind.hasBody || kind.hasParams || kind.hasQuery || kind.tenant) statuses.push(400)
  if (!kind.public) statuses.push(401)
  if (kind.tenant) statuses.push(403)
  if (kind.hasParams) statuses.push(404)
  if (kind.hasBody) statuses.push(413, 415)
  if (kind.usesDatabase) statuses.push(503)
  return statuses
}

/** The codes shown for `status`: the route's own codes of that status, else the generic ones. */
export function codesFor(status: number, declared: readonly ErrorCode[], kind: RouteKind): ErrorCode[] {
  const own = declared.filter((code) => ERROR_CODES[code].status === status)
  const generic = GENERIC_CODES[status] ?? []
  const codes = new Set<ErrorCode>(own.length > 0 ? own : generic)
  if (status === 400) codes.add('VALIDATION_ERROR')
  if (kind.tenant && status === 400) codes.add('ORGANIZATION_HEADER_REQUIRED')
  if (kind.tenant && status === 403) codes.add('ORGANIZATION_ACCESS_DENIED')
  if (!kind.public && status === 401) codes.add('UNAUTHORIZED').add('INVALID_TOKEN')
  return [...codes]
}

/** One documented error response: problem+json, the shared Problem schema, an example per code. */
export function problemResponse(codes: ErrorCode[]) {
  const titles = [...new Set(codes.map((code) => ERROR_CODES[code].title))]
  return {
    description: `${titles.join('; ')} (codes: ${codes.join(', ')})`,
    content: {
      [PROBLEM_MEDIA_TYPE]: {
        schema: { $ref: 'Problem' },
        examples: Object.fromEntries(
          codes.map((code) => [code, { summary: ERROR_CODES[code].title, value: exampleProblem(code) }]),
        ),
      },
    },
  }
}
