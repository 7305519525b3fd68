import assert from 'node:assert/strict'
import { it } from 'node:test'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import type { Role } from '../src/db/schema.js'
import { uuidv7 } from '../src/lib/uuid.js'
import { as, expectProblem, organizationWithRoles, type TestUser, withoutRequestId } from './helpers.js'

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
  return withoutRequestId(response.json())
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

type WriteRole = (typeof WRITE_ROLES)[number]
type RoleOrganization = Awaited<ReturnType<typeof organizationWithRoles>>
/** A record body as the API returns it. */
type OwnedRecord = { id: string } & Record<string, unknown>

/** A resource with an owner (contacts, deals), as the owned-record role suite needs it. */
export interface OwnedResource {
  /** Singular, for test names: 'contact'. */
  name: string
  /** Collection path: '/contacts'. */
  path: string
  /** Creates a record through the API as `user` (createContact, createDeal). */
  create: (
    app: FastifyInstance,
    user: TestUser,
    organizationId: string,
    fields?: Record<string, unknown>,
  ) => Promise<OwnedRecord>
  /** A POST body for a new record owned by `ownerId`; it may reuse references of `existing`. */
  createBody: (existing: OwnedRecord, ownerId: string) => Record<string, unknown>
  /** Updating another member's record: created with `fields`, sent `change`, whose `changedField` must show. */
  othersRecord: {
    fields?: Record<string, unknown>
    change: Record<string, unknown>
    changedField: string
    /** Further checks once the update was answered (the deal's activity history, say). */
    check?: (org: RoleOrganization, record: OwnedRecord, allowed: boolean) => Promise<void>
  }
}

/**
 * The role × action table for records of other members, for one role: managers and up may edit, hand over and
 * delete them; a member gets 403 and nothing changes. Call inside the role's describe; `app` is read per test.
 */
export function ownedRecordRoleSuite(app: () => FastifyInstance, role: WriteRole, resource: OwnedResource) {
  const { name, path, create, createBody, othersRecord } = resource
  const allowed = writesAll(role)

  it(`${allowed ? 'may' : 'may not'} update another member's ${name}`, async () => {
    const org = await organizationWithRoles(app())
    const record = await create(app(), otherUser(org, role), org.organizationId, othersRecord.fields)
    const response = await as(app(), org[role], org.organizationId).patch(
      `${path}/${record.id}`,
      othersRecord.change,
    )
    const reread = (await as(app(), org.owner, org.organizationId).get(`${path}/${record.id}`)).json()
    if (allowed) {
      assert.equal(response.statusCode, 200)
      assert.equal(reread[othersRecord.changedField], othersRecord.change[othersRecord.changedField])
    } else {
      expectProblem(response, 403, 'FORBIDDEN')
      assert.deepEqual(reread, record)
    }
    await othersRecord.check?.(org, record, allowed)
  })

  it(`${allowed ? 'may' : 'may not'} hand its own ${name} to another member`, async () => {
    const org = await organizationWithRoles(app())
    const other = otherUser(org, role)
    const record = await create(app(), org[role], org.organizationId)
    const response = await as(app(), org[role], org.organizationId).patch(`${path}/${record.id}`, {
      owner_id: other.id,
    })
    const reread = (await as(app(), org.owner, org.organizationId).get(`${path}/${record.id}`)).json()
    if (allowed) {
      assert.equal(response.statusCode, 200)
      assert.equal(reread.owner_id, other.id)
    } else {
      expectProblem(response, 403, 'FORBIDDEN')
      assert.deepEqual(reread, record)
    }
  })

  it(`${allowed ? 'may' : 'may not'} delete another member's ${name}`, async () => {
    const org = await organizationWithRoles(app())
    const record = await create(app(), otherUser(org, role), org.organizationId)
    const response = await as(app(), org[role], org.organizationId).delete(`${path}/${record.id}`)
    const reread = await as(app(), org.owner, org.organizationId).get(`${path}/${record.id}`)
    if (allowed) {
      assert.equal(response.statusCode, 204)
      assert.equal(reread.statusCode, 404)
    } else {
      expectProblem(response, 403, 'FORBIDDEN')
      assert.deepEqual(reread.json(), record)
    }
  })

  it('gets 400 OWNER_NOT_MEMBER (or 403 first, as a member) for an owner outside the organization', async () => {
    const org = await organizationWithRoles(app())
    const api = as(app(), org[role], org.organizationId)
    const record = await create(app(), org[role], org.organizationId)
    for (const ownerId of [org.outsider.id, missingId()]) {
      const created = await api.post(path, createBody(record, ownerId))
      const updated = await api.patch(`${path}/${record.id}`, { owner_id: ownerId })
      for (const response of [created, updated]) {
        if (allowed) expectProblem(response, 400, 'OWNER_NOT_MEMBER')
        else expectProblem(response, 403, 'FORBIDDEN')
      }
    }
    assert.deepEqual((await api.get(`${path}/${record.id}`)).json(), record)
    assert.equal((await api.get(path)).json().total, 1)
  })
}
