import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import type { Role } from '../src/db/schema.js'
import { uuidv7 } from '../src/lib/uuid.js'
import {
  addMember,
  as,
  buildTestApp,
  expectProblem,
  register,
  type TestUser,
  uniqueEmail,
  withoutRequestId,
} from './helpers.js'

let app: FastifyInstance
before(async () => {
  app = await buildTestApp()
})
after(() => app.close())

const ROLES: Role[] = ['owner', 'admin', 'manager', 'member']

/** An organization owned by a fresh owner, with `actor` holding `role` (the owner itself for 'owner'). */
async function orgWithActor(role: Role) {
  const owner = await register(app, { name: 'Owner' })
  const orgId = owner.organizationId
  if (role === 'owner') return { owner, actor: owner, orgId }
  const actor = await register(app, { name: `Actor ${role}` })
  await addMember(app, owner, orgId, actor, role)
  return { owner, actor, orgId }
}

/**
 * A fresh user who shares an organization with `actor` (a second one the actor owns), so members-add may name
 * them: it takes only users the caller can already see, and strangers are invited instead.
 */
async function acquaintanceOf(actor: TestUser): Promise<TestUser> {
  const user = await register(app)
  const shared = (await as(app, actor).post('/organizations', { name: 'Shared' })).json()
  await addMember(app, actor, shared.id, user, 'member')
  return user
}

async function rolesIn(orgId: string, viewer: TestUser): Promise<Record<string, string>> {
  const members = (await as(app, viewer).get(`/organizations/${orgId}/members`)).json()
  return Object.fromEntries(members.map((m: { user_id: string; role: string }) => [m.user_id, m.role]))
}

async function ownerCount(orgId: string, viewer: TestUser): Promise<number> {
  return Object.values(await rolesIn(orgId, viewer)).filter((role) => role === 'owner').length
}

describe('GET /organizations/me and POST /organizations', () => {
  it('creates an organization owned by the caller and lists it with the role', async () => {
    const user = await register(app)
    const created = await as(app, user).post('/organizations', { name: 'Second Org' })
    assert.equal(created.statusCode, 201)
    const body = created.json()
    assert.deepEqual(Object.keys(body).sort(), ['created_at', 'id', 'name', 'role'])
    assert.equal(body.role, 'owner')
    assert.equal(body.name, 'Second Org')
    const mine = (await as(app, user).get('/organizations/me')).json()
    assert.deepEqual(
      mine.map((o: { id: string; role: string }) => [o.id, o.role]),
      [
        [user.organizationId, 'owner'],
        [body.id, 'owner'],
      ],
    )
  })

  it('lists organizations the user was added to with that role, and nothing else', async () => {
    const owner = await register(app)
    const user = await register(app)
    await addMember(app, owner, owner.organizationId, user, 'manager')
    const mine = (await as(app, user).get('/organizations/me')).json()
    const roles = Object.fromEntries(mine.map((o: { id: string; role: string }) => [o.id, o.role]))
    assert.deepEqual(roles, { [user.organizationId]: 'owner', [owner.organizationId]: 'manager' })
  })

  it('validates the name and rejects unknown fields', async () => {
    const user = await register(app)
    for (const payload of [
      {},
      { name: '' },
      { name: 'x'.repeat(256) },
      { name: null },
      { name: 'A', id: uuidv7() },
    ]) {
      expectProblem(await as(app, user).post('/organizations', payload), 400, 'VALIDATION_ERROR')
    }
  })

  it('requires a token', async () => {
    expectProblem(await app.inject({ method: 'GET', url: '/api/v1/organizations/me' }), 401, 'UNAUTHORIZED')
  })
})

describe('GET /organizations/{id}/members', () => {
  it('lists every member with user fields and role, for any member', async () => {
    const owner = await register(app, { name: 'Olga' })
    const member = await register(app, { name: 'Mike' })
    await addMember(app, owner, owner.organizationId, member, 'member')
    const response = await as(app, member).get(`/organizations/${owner.organizationId}/members`)
    assert.equal(response.statusCode, 200)
    const members = response.json()
    assert.deepEqual(
      members.map((m: Record<string, string>) => [m.user_id, m.name, m.email, m.role]),
      [
        [owner.id, 'Olga', owner.email, 'owner'],
        [member.id, 'Mike', member.email, 'member'],
      ],
    )
    assert.deepEqual(Object.keys(members[0]).sort(), ['email', 'joined_at', 'name', 'role', 'user_id'])
  })

  it('answers a non-member 403 ORGANIZATION_ACCESS_DENIED, the same whether or not the organization exists', async () => {
    const owner = await register(app)
    const outsider = await register(app)
    const existing = expectProblem(
      await as(app, outsider).get(`/organizations/${owner.organizationId}/members`),
      403,
      'ORGANIZATION_ACCESS_DENIED',
    )
    const missing = expectProblem(
      await as(app, outsider).get(`/organizations/${uuidv7()}/members`),
      403,
      'ORGANIZATION_ACCESS_DENIED',
    )
    assert.deepEqual(withoutRequestId(existing), withoutRequestId(missing))
  })

  it('answers 401 before 400 before 403', async () => {
    const user = await register(app)
    expectProblem(
      await app.inject({ method: 'GET', url: '/api/v1/organizations/nope/members' }),
      401,
      'UNAUTHORIZED',
    )
    expectProblem(await as(app, user).get('/organizations/nope/members'), 400, 'VALIDATION_ERROR')
  })
})

describe('POST /organizations/{id}/members: who may grant which role', () => {
  // actor role → roles it may grant
  const mayGrant: Record<Role, Role[]> = {
    owner: ['owner', 'admin', 'manager', 'member'],
    admin: ['manager', 'member'],
    manager: [],
    member: [],
  }
  for (const actorRole of ROLES) {
    for (const granted of ROLES) {
      const allowed = mayGrant[actorRole].includes(granted)
      it(`${actorRole} granting ${granted} → ${allowed ? '201' : '403'}`, async () => {
        const { actor, orgId, owner } = await orgWithActor(actorRole)
        const newcomer = await acquaintanceOf(actor)
        const response = await as(app, actor).post(`/organizations/${orgId}/members`, {
          email: newcomer.email,
          role: granted,
        })
        if (allowed) {
          assert.equal(response.statusCode, 201, response.body)
          const body = response.json()
          assert.deepEqual(
            [body.user_id, body.email, body.name, body.role],
            [newcomer.id, newcomer.email, newcomer.name, granted],
          )
          assert.match(body.joined_at, /Z$/)
          assert.equal((await rolesIn(orgId, owner))[newcomer.id], granted)
        } else {
          expectProblem(response, 403, 'FORBIDDEN')
          assert.equal((await rolesIn(orgId, owner))[newcomer.id], undefined)
        }
      })
    }
  }

  it('defaults the role to member and finds the user by email in any case', async () => {
    const owner = await register(app)
    const user = await acquaintanceOf(owner)
    const response = await as(app, owner).post(`/organizations/${owner.organizationId}/members`, {
      email: `  ${user.email.toUpperCase()}`,
    })
    assert.equal(response.statusCode, 201)
    assert.equal(response.json().role, 'member')
  })

  it('answers 404 USER_NOT_FOUND for an unregistered email and 409 MEMBER_ALREADY_EXISTS for a member', async () => {
    const owner = await register(app)
    const user = await acquaintanceOf(owner)
    const url = `/organizations/${owner.organizationId}/members`
    expectProblem(await as(app, owner).post(url, { email: uniqueEmail() }), 404, 'USER_NOT_FOUND')
    assert.equal((await as(app, owner).post(url, { email: user.email })).statusCode, 201)
    expectProblem(
      await as(app, owner).post(url, { email: user.email, role: 'admin' }),
      409,
      'MEMBER_ALREADY_EXISTS',
    )
    expectProblem(await as(app, owner).post(url, { email: owner.email }), 409, 'MEMBER_ALREADY_EXISTS')
  })

  it('answers a registered stranger exactly like an unknown email (no probing for accounts)', async () => {
    const owner = await register(app)
    const stranger = await register(app)
    const url = `/organizations/${owner.organizationId}/members`
    const registered = expectProblem(
      await as(app, owner).post(url, { email: stranger.email }),
      404,
      'USER_NOT_FOUND',
    )
    const unknown = expectProblem(
      await as(app, owner).post(url, { email: uniqueEmail() }),
      404,
      'USER_NOT_FOUND',
    )
    assert.deepEqual(withoutRequestId(registered), withoutRequestId(unknown))
    assert.equal((await rolesIn(owner.organizationId, owner))[stranger.id], undefined)
    // Once they share an organization (they accepted an invitation), members-add finds them.
    const shared = (await as(app, owner).post('/organizations', { name: 'Met' })).json()
    await addMember(app, owner, shared.id, stranger, 'member')
    assert.equal((await as(app, owner).post(url, { email: stranger.email })).statusCode, 201)
  })

  it('gives one 201 and the rest 409 when the same user is added in parallel', async () => {
    const owner = await register(app)
    const user = await acquaintanceOf(owner)
    const url = `/organizations/${owner.organizationId}/members`
    const responses = await Promise.all(
      Array.from({ length: 5 }, () => as(app, owner).post(url, { email: user.email })),
    )
    assert.deepEqual(responses.map((r) => r.statusCode).sort(), [201, 409, 409, 409, 409])
  })

  it('validates the body', async () => {
    const owner = await register(app)
    const url = `/organizations/${owner.organizationId}/members`
    for (const payload of [
      {},
      { email: 'nope' },
      { email: uniqueEmail(), role: 'king' },
      { email: uniqueEmail(), role: null },
      { email: uniqueEmail(), user_id: uuidv7() },
    ]) {
      expectProblem(await as(app, owner).post(url, payload), 400, 'VALIDATION_ERROR')
    }
  })

  it('answers a non-member 403 before looking at the body', async () => {
    const owner = await register(app)
    const outsider = await register(app)
    expectProblem(
      await as(app, outsider).post(`/organizations/${owner.organizationId}/members`, { bad: true }),
      403,
      'ORGANIZATION_ACCESS_DENIED',
    )
  })
})

describe('PATCH /organizations/{id}/members/{user_id}: who may change which role', () => {
  for (const actorRole of ROLES) {
    for (const targetRole of ROLES) {
      for (const newRole of ROLES) {
        const allowed =
          actorRole === 'owner' ||
          (actorRole === 'admin' &&
            ['manager', 'member'].includes(targetRole) &&
            ['manager', 'member'].includes(newRole))
        it(`${actorRole} changing ${targetRole} → ${newRole}: ${allowed ? '200' : '403'}`, async () => {
          const { actor, orgId, owner } = await orgWithActor(actorRole)
          const target = await register(app)
          await addMember(app, owner, orgId, target, targetRole)
          const response = await as(app, actor).patch(`/organizations/${orgId}/members/${target.id}`, {
            role: newRole,
          })
          if (allowed) {
            assert.equal(response.statusCode, 200, response.body)
            assert.equal(response.json().role, newRole)
            assert.equal(response.json().user_id, target.id)
          } else {
            expectProblem(response, 403, 'FORBIDDEN')
          }
          assert.equal((await rolesIn(orgId, owner))[target.id], allowed ? newRole : targetRole)
        })
      }
    }
  }

  for (const role of ROLES) {
    it(`nobody changes their own role (${role})`, async () => {
      const { actor, orgId, owner } = await orgWithActor(role)
      if (role === 'owner') {
        // With a second owner present, LAST_OWNER is not what stops it.
        const second = await register(app)
        await addMember(app, owner, orgId, second, 'owner')
      }
      const newRole = role === 'member' ? 'manager' : 'member'
      expectProblem(
        await as(app, actor).patch(`/organizations/${orgId}/members/${actor.id}`, { role: newRole }),
        403,
        'FORBIDDEN',
      )
      assert.equal((await rolesIn(orgId, owner))[actor.id], role)
    })
  }

  it('answers 404 MEMBER_NOT_FOUND for a user who is not a member', async () => {
    const owner = await register(app)
    const stranger = await register(app)
    for (const userId of [stranger.id, uuidv7()]) {
      expectProblem(
        await as(app, owner).patch(`/organizations/${owner.organizationId}/members/${userId}`, {
          role: 'member',
        }),
        404,
        'MEMBER_NOT_FOUND',
      )
    }
  })

  it('lets an owner demote another owner while one owner remains', async () => {
    const owner = await register(app)
    const second = await register(app)
    await addMember(app, owner, owner.organizationId, second, 'owner')
    const response = await as(app, owner).patch(
      `/organizations/${owner.organizationId}/members/${second.id}`,
      {
        role: 'admin',
      },
    )
    assert.equal(response.statusCode, 200)
    assert.equal(await ownerCount(owner.organizationId, owner), 1)
  })

  it('validates path and body', async () => {
    const owner = await register(app)
    const base = `/organizations/${owner.organizationId}/members`
    expectProblem(
      await as(app, owner).patch(`${base}/not-a-uuid`, { role: 'member' }),
      400,
      'VALIDATION_ERROR',
    )
    expectProblem(
      await as(app, owner).patch(`${base}/${uuidv7()}`, { role: 'boss' }),
      400,
      'VALIDATION_ERROR',
    )
    expectProblem(await as(app, owner).patch(`${base}/${uuidv7()}`, {}), 400, 'VALIDATION_ERROR')
    expectProblem(
      await as(app, owner).patch(`${base}/${uuidv7()}`, { role: 'member', x: 1 }),
      400,
      'VALIDATION_ERROR',
    )
  })
})

describe('DELETE /organizations/{id}/members/{user_id}', () => {
  for (const actorRole of ROLES) {
    for (const targetRole of ROLES) {
      const allowed =
        actorRole === 'owner' || (actorRole === 'admin' && ['manager', 'member'].includes(targetRole))
      it(`${actorRole} removing ${targetRole}: ${allowed ? '204' : '403'}`, async () => {
        const { actor, orgId, owner } = await orgWithActor(actorRole)
        const target = await register(app)
        await addMember(app, owner, orgId, target, targetRole)
        const response = await as(app, actor).delete(`/organizations/${orgId}/members/${target.id}`)
        if (allowed) assert.equal(response.statusCode, 204, response.body)
        else expectProblem(response, 403, 'FORBIDDEN')
        assert.equal((await rolesIn(orgId, owner))[target.id], allowed ? undefined : targetRole)
      })
    }
  }

  for (const role of ['admin', 'manager', 'member'] as Role[]) {
    it(`a ${role} may leave, and loses access at once`, async () => {
      const { actor, orgId, owner } = await orgWithActor(role)
      assert.equal(
        (await as(app, actor).delete(`/organizations/${orgId}/members/${actor.id}`)).statusCode,
        204,
      )
      expectProblem(
        await as(app, actor).get(`/organizations/${orgId}/members`),
        403,
        'ORGANIZATION_ACCESS_DENIED',
      )
      assert.equal((await rolesIn(orgId, owner))[actor.id], undefined)
      const mine = (await as(app, actor).get('/organizations/me')).json()
      assert.ok(!mine.some((o: { id: string }) => o.id === orgId))
    })
  }

  it('refuses to let the last owner leave (409 LAST_OWNER), but a second owner may', async () => {
    const owner = await register(app)
    const orgId = owner.organizationId
    expectProblem(
      await as(app, owner).delete(`/organizations/${orgId}/members/${owner.id}`),
      409,
      'LAST_OWNER',
    )
    const second = await register(app)
    await addMember(app, owner, orgId, second, 'owner')
    assert.equal(
      (await as(app, second).delete(`/organizations/${orgId}/members/${second.id}`)).statusCode,
      204,
    )
    expectProblem(
      await as(app, owner).delete(`/organizations/${orgId}/members/${owner.id}`),
      409,
      'LAST_OWNER',
    )
  })

  it('answers 404 MEMBER_NOT_FOUND for a non-member', async () => {
    const owner = await register(app)
    const stranger = await register(app)
    expectProblem(
      await as(app, owner).delete(`/organizations/${owner.organizationId}/members/${stranger.id}`),
      404,
      'MEMBER_NOT_FOUND',
    )
  })

  it('keeps the records of a removed member: they are a non-member now (403), not a 401', async () => {
    const owner = await register(app)
    const member = await register(app)
    await addMember(app, owner, owner.organizationId, member, 'member')
    await as(app, owner).delete(`/organizations/${owner.organizationId}/members/${member.id}`)
    expectProblem(
      await as(app, member).delete(`/organizations/${owner.organizationId}/members/${member.id}`),
      403,
      'ORGANIZATION_ACCESS_DENIED',
    )
  })
})

describe('the last owner under concurrency', () => {
  async function twoOwners() {
    const a = await register(app)
    const b = await register(app)
    await addMember(app, a, a.organizationId, b, 'owner')
    return { a, b, orgId: a.organizationId }
  }
  const remaining = async (orgId: string, a: TestUser, b: TestUser) => {
    const viewer = (await as(app, a).get(`/organizations/${orgId}/members`)).statusCode === 200 ? a : b
    return ownerCount(orgId, viewer)
  }

  it('two owners removing each other at once leave one owner', async () => {
    for (let round = 0; round < 3; round++) {
      const { a, b, orgId } = await twoOwners()
      const responses = await Promise.all([
        as(app, a).delete(`/organizations/${orgId}/members/${b.id}`),
        as(app, b).delete(`/organizations/${orgId}/members/${a.id}`),
      ])
      const statuses = responses.map((r) => r.statusCode).sort()
      assert.equal(statuses.filter((s) => s === 204).length, 1, JSON.stringify(statuses))
      assert.ok(
        statuses.every((s) => s === 204 || s === 403 || s === 409),
        JSON.stringify(statuses),
      )
      assert.equal(await remaining(orgId, a, b), 1)
    }
  })

  it('two owners leaving at once leave one owner', async () => {
    for (let round = 0; round < 3; round++) {
      const { a, b, orgId } = await twoOwners()
      const responses = await Promise.all([
        as(app, a).delete(`/organizations/${orgId}/members/${a.id}`),
        as(app, b).delete(`/organizations/${orgId}/members/${b.id}`),
      ])
      assert.deepEqual(responses.map((r) => r.statusCode).sort(), [204, 409])
      assert.equal(await remaining(orgId, a, b), 1)
    }
  })

  it('two owners demoting each other at once leave one owner', async () => {
    for (let round = 0; round < 3; round++) {
      const { a, b, orgId } = await twoOwners()
      const responses = await Promise.all([
        as(app, a).patch(`/organizations/${orgId}/members/${b.id}`, { role: 'admin' }),
        as(app, b).patch(`/organizations/${orgId}/members/${a.id}`, { role: 'admin' }),
      ])
      assert.equal(
        responses.filter((r) => r.statusCode === 200).length,
        1,
        responses.map((r) => r.body).join(),
      )
      assert.equal(await remaining(orgId, a, b), 1)
    }
  })
})

describe('membership changes reach every instance', () => {
  it('a removed member loses access at once on another instance (Redis)', {
    skip: !process.env.REDIS_URL && 'needs REDIS_URL',
  }, async () => {
    const options = {
      database: app.db,
      migrate: false,
      config: { redisUrl: process.env.REDIS_URL, secretKey: app.config.secretKey },
    }
    const first = await buildTestApp(options)
    const second = await buildTestApp(options)
    try {
      await Promise.all([first.ready(), second.ready()])
      await Promise.all([first.membershipCache.listening, second.membershipCache.listening])
      const owner = await register(first)
      const member = await register(first)
      await addMember(first, owner, owner.organizationId, member, 'manager')
      const url = `/organizations/${owner.organizationId}/members`
      // The second instance has the membership cached now.
      assert.equal((await as(second, member).get(url)).statusCode, 200)
      assert.equal((await as(first, owner).patch(`${url}/${member.id}`, { role: 'member' })).statusCode, 200)
      const members = (await as(second, member).get(url)).json()
      assert.equal(members.find((m: { user_id: string }) => m.user_id === member.id).role, 'member')
      assert.equal((await as(first, owner).delete(`${url}/${member.id}`)).statusCode, 204)
      expectProblem(await as(second, member).get(url), 403, 'ORGANIZATION_ACCESS_DENIED')
    } finally {
      await first.close()
      await second.close()
    }
  })

  it('a demoted member acts with the new role at once on the same instance', async () => {
    const owner = await register(app)
    const admin = await register(app)
    const target = await register(app)
    await addMember(app, owner, owner.organizationId, admin, 'admin')
    await addMember(app, owner, owner.organizationId, target, 'member')
    const url = `/organizations/${owner.organizationId}/members`
    assert.equal((await as(app, admin).get(url)).statusCode, 200)
    assert.equal((await as(app, owner).patch(`${url}/${admin.id}`, { role: 'member' })).statusCode, 200)
    expectProblem(await as(app, admin).patch(`${url}/${target.id}`, { role: 'manager' }), 403, 'FORBIDDEN')
  })
})
