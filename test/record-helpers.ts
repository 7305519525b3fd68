import assert from 'node:assert/strict'
import type { LightMyRequestResponse } from 'fastify'
import type { Role } from '../src/db/schema.js'
import { uuidv7 } from '../src/lib/uuid.js'
import type { TestUser } from './helpers.js'

/** Shared by the contact and deal suites: role tables, isolation comparisons, validation sweeps. */

export const WRITE_ROLES = ['owner', 'admin', 'manager', 'member'] as const satisfies readonly Role[]

export function writesAll(role: Role): boolean {
  return role !== 'member'
}

/** An id that exists nowhere. */
export function missingId(): string {
  return uuidv7()
}

/** A problem body without its request_id: a foreign id must answer exactly like a missing one. */
export function problemWithoutRequestId(response: LightMyRequestResponse) {
  const { request_id: _requestId, ...rest } = response.json()
  return rest
}

export function assertSameProblem(foreign: LightMyRequestResponse, missing: LightMyRequestResponse) {
  assert.equal(foreign.statusCode, missing.statusCode, foreign.body)
  assert.deepEqual(problemWithoutRequestId(foreign), problemWithoutRequestId(missing))
}

/** The user in `org` whose records `actor` does not own: the member for everyone else, the owner for the member. */
export function otherUser(org: Record<Role, TestUser>, actor: Role): TestUser {
  return actor === 'member' ? org.owner : org.member
}

/** Asserts a 400 VALIDATION_ERROR (never a 5xx) and names the case on failure. */
export function assertValidationError(response: LightMyRequestResponse, label: string) {
  assert.equal(response.statusCode, 400, `${label}: ${response.statusCode} ${response.body}`)
  assert.equal(response.json().code, 'VALIDATION_ERROR', `${label}: ${response.body}`)
}
