/**
 * The one error type of the service. Every code is stable API (spec §8); its HTTP status and title live in
 * one table so a code can never be answered with two different statuses.
 */
export const ERROR_CODES = {
  VALIDATION_ERROR: { status: 400, title: 'Validation failed' },
  ORGANIZATION_HEADER_REQUIRED: { status: 400, title: 'Organization header required' },
  INVALID_DEAL_AMOUNT: { status: 400, title: 'Invalid deal amount' },
  INVALID_DUE_DATE: { status: 400, title: 'Invalid due date' },
  OWNER_NOT_MEMBER: { status: 400, title: 'Owner is not a member' },
  UNAUTHORIZED: { status: 401, title: 'Unauthorized' },
  INVALID_TOKEN: { status: 401, title: 'Invalid token' },
  INVALID_CREDENTIALS: { status: 401, title: 'Invalid credentials' },
  ORGANIZATION_ACCESS_DENIED: { status: 403, title: 'Organization access denied' },
  FORBIDDEN: { status: 403, title: 'Forbidden' },
  STAGE_ROLLBACK_FORBIDDEN: { status: 403, title: 'Stage rollback forbidden' },
  NOT_FOUND: { status: 404, title: 'Not found' },
  CONTACT_NOT_FOUND: { status: 404, title: 'Contact not found' },
  DEAL_NOT_FOUND: { status: 404, title: 'Deal not found' },
  TASK_NOT_FOUND: { status: 404, title: 'Task not found' },
  USER_NOT_FOUND: { status: 404, title: 'User not found' },
  MEMBER_NOT_FOUND: { status: 404, title: 'Member not found' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  EMAIL_ALREADY_EXISTS: { status: 409, title: 'Email already exists' },
  MEMBER_ALREADY_EXISTS: { status: 409, title: 'Member already exists' },
  CONTACT_HAS_DEALS: { status: 409, title: 'Contact has deals' },
  LAST_OWNER: { status: 409, title: 'Last owner' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'Payload too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported media type' },
  RATE_LIMITED: { status: 429, title: 'Too many requests' },
  INTERNAL_ERROR: { status: 500, title: 'Internal server error' },
  SERVICE_UNAVAILABLE: { status: 503, title: 'Service unavailable' },
  INVALID_LOST_REASON: { status: 400, title: 'Invalid lost reason' },
  COMPANY_NOT_FOUND: { status: 404, title: 'Company not found' },
  COMPANY_DOMAIN_EXISTS: { status: 409, title: 'Company domain exists' },
  COMPANY_HAS_CONTACTS: { status: 409, title: 'Company has contacts' },
  // Answered by the HTTP parser's handler (lib/http-errors.ts) before any route runs.
  BAD_REQUEST: { status: 400, title: 'Malformed request' },
  REQUEST_TIMEOUT: { status: 408, title: 'Request timeout' },
  URI_TOO_LONG: { status: 414, title: 'URI too long' },
  HEADERS_TOO_LARGE: { status: 431, title: 'Request header fields too large' },
  INVITATION_EMAIL_MISMATCH: { status: 400, title: 'Invitation email mismatch' },
  INVALID_CURRENT_PASSWORD: { status: 400, title: 'Invalid current password' },
  INVALID_RESET_TOKEN: { status: 400, title: 'Invalid reset token' },
  INVITATION_NOT_FOUND: { status: 404, title: 'Invitation not found' },
  SESSION_NOT_FOUND: { status: 404, title: 'Session not found' },
  INVITATION_ALREADY_EXISTS: { status: 409, title: 'Invitation already exists' },
  WEBHOOK_URL_NOT_ALLOWED: { status: 400, title: 'Webhook URL not allowed' },
  API_KEY_NOT_FOUND: { status: 404, title: 'API key not found' },
  WEBHOOK_NOT_FOUND: { status: 404, title: 'Webhook not found' },
  IDEMPOTENCY_KEY_IN_USE: { status: 409, title: 'Idempotency key in use' },
  IDEMPOTENCY_KEY_REUSED: { status: 422, title: 'Idempotency key reused' },
} as const

export type ErrorCode = keyof typeof ERROR_CODES

export interface FieldError {
  field: string
  message: string
}

export class AppError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly errors: FieldError[] | undefined
  /** Extra response headers, e.g. Retry-After on 429. */
  readonly headers: Record<string, string> | undefined
  /** Already logged where it was raised (load shedding logs a summary, not every refusal). */
  readonly logged: boolean

  constructor(
    code: ErrorCode,
    detail?: string,
    options: { errors?: FieldError[]; headers?: Record<string, string>; logged?: boolean } = {},
  ) {
    super(detail ?? ERROR_CODES[code].title)
    this.name = 'AppError'
    this.code = code
    this.status = ERROR_CODES[code].status
    this.errors = options.errors
    this.headers = options.headers
    this.logged = options.logged ?? false
  }
}

const RECORD_NAMES = {
  CONTACT_NOT_FOUND: 'contact',
  DEAL_NOT_FOUND: 'deal',
  TASK_NOT_FOUND: 'task',
  COMPANY_NOT_FOUND: 'company',
} as const

/**
 * The 404 of a tenant record. Missing ids and other organizations' ids both end here, with one detail per
 * kind, so the two answers cannot be told apart (only request_id differs).
 */
export function recordNotFound(code: keyof typeof RECORD_NAMES): AppError {
  return new AppError(code, `No ${RECORD_NAMES[code]} with this id in this organization`)
}

/** RFC 9457 problem details body, as every error response carries it. */
export interface Problem {
  type: string
  title: string
  status: number
  detail: string
  code: ErrorCode
  errors?: FieldError[]
  request_id: string
}

export function toProblem(error: AppError, requestId: string): Problem {
  const problem: Problem = {
    type: `https://mini-crm.dev/problems/${error.code.toLowerCase().replaceAll('_', '-')}`,
    title: ERROR_CODES[error.code].title,
    status: error.status,
    detail: error.message,
    code: error.code,
    request_id: requestId,
  }
  if (error.errors !== undefined) problem.errors = error.errors
  return problem
}
