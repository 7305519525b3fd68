/**
 * Spec §15 invitations and register (changed), with links read from a real SMTP server: create with the
 * members-add role rules, list, revoke; the invitee's list, accept (by id and by token), decline; register with
 * an invitation token (same transaction, INVITATION_EMAIL_MISMATCH); single use, 7-day expiry on a controlled
 * clock, revoked and declined invitations, other users' invitations, and races (parallel creates and accepts).
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { sql } from 'drizzle-orm'
import type { FastifyInstance } from 'fastify'
import { queryRows } from '../src/db/client.js'
import { buildAccountsApp, post, testClock } from './accounts-kit.js'
import {
  as,
  expectProblem,
  organizationWithRoles,
  PASSWORD,
  register,
  type TestUser,
  uniqueEmail,
} from './helpers.js'
import { linkToken, startMailServer, type TestMailServer } from './smtp.js'

const DAY = 86_400_000

let app: FastifyInstance
let mail: TestMailServer
const clock = testClock()
before(async () => {
  mail = await startMailServer()
  app = await buildAccountsApp({ mail, clock })
})
after(async () => {
  await app.close()
  await mail.close()
})

const invite = (by: TestUser, organizationId: string, body: Record<string, unknown>) =>
  as(app, by).post(`/organizations/${organizationId}/invitations`, body)

async function invited(by: TestUser, organizationId: string, email: string, role = 'member') {
  const response = await invite(by, organizationId, { email, role })
  assert.equal(response.statusCode, 201, response.body)
  return response.json()
}

const registerWith = (payload: Record<string, unknown>) =>
  post(app, '/auth/register', { password: PASSWORD, name: 'Invitee', ...payload })

async function roleIn(organizationId: string, userId: string): Promise<string | undefined> {
  const rows = await queryRows<{ role: string }>(
    app.db.db,
    sql`SELECT role FROM memberships WHERE organization_id = ${organizationId} AND user_id = ${userId}`,
  )
  return rows[0]?.role
}

const asUser = (body: { user_id: string; email: string; access_token: string; refresh_token: string }) =>
  ({
    id: body.user_id,
    email: body.email,
    name: 'Invitee',
    token: body.access_token,
    refreshToken: body.refresh_token,
    organizationId: '',
  }) satisfies TestUser

describe('POST /organizations/{id}/invitations', () => {
  it('creates an invitation (token only here and in the email) and emails the link', async () => {
    const owner = await register(app, { name: 'Olivia Owner' })
    const email = uniqueEmail('Invitee')
    const response = await invite(owner, owner.organizationId, {
      email: `  ${email.toUpperCase()} `,
      role: 'manager',
    })
    assert.equal(response.statusCode, 201)
    const body = response.json()
    assert.deepEqual(Object.keys(body).sort(), [
      'created_at',
      'email',
      'expires_at',
      'id',
      'invited_by',
      'role',
      'token',
    ])
    assert.equal(body.email, email.toLowerCase())
    assert.equal(body.role, 'manager')
    assert.equal(body.invited_by, owner.id)
    assert.equal(Date.parse(body.expires_at) - Date.parse(body.created_at), 7 * DAY)
    assert.ok(Buffer.from(body.token, 'base64url').length >= 16, 'at least 128 bits')

    const delivered = await mail.waitFor(email)
    assert.equal(linkToken(delivered, '/invite'), body.token)
    assert.match(delivered.mail.text ?? '', /Olivia Owner/)
    assert.match(delivered.mail.text ?? '', /Org of Olivia Owner/)
    assert.ok(String(delivered.mail.html).includes(`https://crm.example.test/invite?token=${body.token}`))

    const stored = await queryRows<{ token_hash: string }>(
      app.db.db,
      sql`SELECT token_hash FROM invitations WHERE id = ${body.id}`,
    )
    assert.notEqual(stored[0]?.token_hash, body.token, 'only a hash is stored')

    const list = await as(app, owner).get(`/organizations/${owner.organizationId}/invitations`)
    assert.equal(list.statusCode, 200)
    const { token: _token, ...withoutToken } = body
    assert.deepEqual(list.json(), [withoutToken])
  })

  it('applies the members-add role rules', async () => {
    const { organizationId, owner, admin, manager, member, outsider } = await organizationWithRoles(app)
    for (const role of ['owner', 'admin', 'manager', 'member']) {
      assert.equal((await invite(owner, organizationId, { email: uniqueEmail(), role })).statusCode, 201)
    }
    for (const role of ['manager', 'member']) {
      assert.equal((await invite(admin, organizationId, { email: uniqueEmail(), role })).statusCode, 201)
    }
    for (const role of ['owner', 'admin']) {
      expectProblem(await invite(admin, organizationId, { email: uniqueEmail(), role }), 403, 'FORBIDDEN')
    }
    for (const user of [manager, member]) {
      expectProblem(await invite(user, organizationId, { email: uniqueEmail() }), 403, 'FORBIDDEN')
      expectProblem(await as(app, user).get(`/organizations/${organizationId}/invitations`), 403, 'FORBIDDEN')
    }
    expectProblem(
      await invite(outsider, organizationId, { email: uniqueEmail() }),
      403,
      'ORGANIZATION_ACCESS_DENIED',
    )
    expectProblem(
      await as(app, outsider).get(`/organizations/${organizationId}/invitations`),
      403,
      'ORGANIZATION_ACCESS_DENIED',
    )
    // The default role is member.
    assert.equal((await invited(owner, organizationId, uniqueEmail())).role, 'member')
  })

  it('answers 409 MEMBER_ALREADY_EXISTS for a member and INVITATION_ALREADY_EXISTS for a pending one', async () => {
    const { organizationId, owner, member } = await organizationWithRoles(app)
    expectProblem(
      await invite(owner, organizationId, { email: member.email.toUpperCase() }),
      409,
      'MEMBER_ALREADY_EXISTS',
    )
    const email = uniqueEmail()
    await invited(owner, organizationId, email)
    expectProblem(
      await invite(owner, organizationId, { email: ` ${email.toUpperCase()}` }),
      409,
      'INVITATION_ALREADY_EXISTS',
    )
    // Another organization may invite the same email.
    const other = await register(app)
    await invited(other, other.organizationId, email)
  })

  it('gives one 201 and the rest 409 INVITATION_ALREADY_EXISTS for parallel invitations of one email', async () => {
    const owner = await register(app)
    const email = uniqueEmail('race')
    const responses = await Promise.all(
      Array.from({ length: 6 }, () => invite(owner, owner.organizationId, { email })),
    )
    assert.deepEqual(responses.map((r) => r.statusCode).sort(), [201, 409, 409, 409, 409, 409])
    for (const r of responses.filter((r) => r.statusCode === 409))
      expectProblem(r, 409, 'INVITATION_ALREADY_EXISTS')
  })

  it('validates the body and the path', async () => {
    const owner = await register(app)
    const path = `/organizations/${owner.organizationId}/invitations`
    for (const body of [
      {},
      { email: 'nope' },
      { email: uniqueEmail(), role: 'king' },
      { email: uniqueEmail(), x: 1 },
    ]) {
      expectProblem(await as(app, owner).post(path, body), 400, 'VALIDATION_ERROR')
    }
    expectProblem(
      await as(app, owner).post('/organizations/not-a-uuid/invitations', { email: uniqueEmail() }),
      400,
      'VALIDATION_ERROR',
    )
    expectProblem(
      await app.inject({ method: 'POST', url: `/api/v1${path}`, payload: { email: uniqueEmail() } }),
      401,
      'UNAUTHORIZED',
    )
  })
})

describe('DELETE /organizations/{id}/invitations/{invitation_id}', () => {
  it('revokes: the token and the id stop working, the list forgets it', async () => {
    const owner = await register(app)
    const invitee = await register(app)
    const invitation = await invited(owner, owner.organizationId, invitee.email)
    const path = `/organizations/${owner.organizationId}/invitations/${invitation.id}`
    const revoked = await as(app, owner).delete(path)
    assert.equal(revoked.statusCode, 204)
    expectProblem(await as(app, owner).delete(path), 404, 'INVITATION_NOT_FOUND')
    assert.deepEqual(
      (await as(app, owner).get(`/organizations/${owner.organizationId}/invitations`)).json(),
      [],
    )
    assert.deepEqual((await as(app, invitee).get('/invitations')).json(), [])
    expectProblem(
      await as(app, invitee).post('/invitations/accept', { token: invitation.token }),
      404,
      'INVITATION_NOT_FOUND',
    )
    expectProblem(
      await as(app, invitee).post(`/invitations/${invitation.id}/accept`),
      404,
      'INVITATION_NOT_FOUND',
    )
    // A revoked invitation frees the email for a new one.
    await invited(owner, owner.organizationId, invitee.email)
  })

  it('lets an admin revoke only manager and member invitations; others get 403', async () => {
    const { organizationId, owner, admin, manager } = await organizationWithRoles(app)
    const forAdmin = await invited(owner, organizationId, uniqueEmail(), 'admin')
    const forMember = await invited(owner, organizationId, uniqueEmail(), 'member')
    expectProblem(
      await as(app, admin).delete(`/organizations/${organizationId}/invitations/${forAdmin.id}`),
      403,
      'FORBIDDEN',
    )
    expectProblem(
      await as(app, manager).delete(`/organizations/${organizationId}/invitations/${forMember.id}`),
      403,
      'FORBIDDEN',
    )
    assert.equal(
      (await as(app, admin).delete(`/organizations/${organizationId}/invitations/${forMember.id}`))
        .statusCode,
      204,
    )
  })

  it("answers 404 for another organization's invitation", async () => {
    const [ann, bob] = await Promise.all([register(app), register(app)])
    const invitation = await invited(bob, bob.organizationId, uniqueEmail())
    expectProblem(
      await as(app, ann).delete(`/organizations/${ann.organizationId}/invitations/${invitation.id}`),
      404,
      'INVITATION_NOT_FOUND',
    )
    assert.equal(
      (await as(app, bob).get(`/organizations/${bob.organizationId}/invitations`)).json().length,
      1,
    )
  })
})

describe("the invitee's side", () => {
  it('lists pending invitations for the caller’s email, then accepts one by id', async () => {
    const owner = await register(app, { name: 'Inviting Owner' })
    const invitee = await register(app)
    const invitation = await invited(owner, owner.organizationId, invitee.email, 'manager')
    const list = await as(app, invitee).get('/invitations')
    assert.equal(list.statusCode, 200)
    assert.deepEqual(list.json(), [
      {
        id: invitation.id,
        organization_id: owner.organizationId,
        organization_name: 'Org of Inviting Owner',
        role: 'manager',
        invited_by: { name: 'Inviting Owner', email: owner.email },
        expires_at: invitation.expires_at,
      },
    ])
    const accepted = await as(app, invitee).post(`/invitations/${invitation.id}/accept`)
    assert.equal(accepted.statusCode, 200)
    assert.deepEqual(accepted.json(), { organization_id: owner.organizationId, role: 'manager' })
    assert.equal(await roleIn(owner.organizationId, invitee.id), 'manager')
    // Access at once, through the tenant check.
    assert.equal((await as(app, invitee, owner.organizationId).get('/contacts')).statusCode, 200)
    // Used up: gone from both lists, and a second accept is 404.
    assert.deepEqual((await as(app, invitee).get('/invitations')).json(), [])
    assert.deepEqual(
      (await as(app, owner).get(`/organizations/${owner.organizationId}/invitations`)).json(),
      [],
    )
    expectProblem(
      await as(app, invitee).post(`/invitations/${invitation.id}/accept`),
      404,
      'INVITATION_NOT_FOUND',
    )
    expectProblem(
      await as(app, invitee).post('/invitations/accept', { token: invitation.token }),
      404,
      'INVITATION_NOT_FOUND',
    )
  })

  it('accepts by the token from the email', async () => {
    const owner = await register(app)
    const invitee = await register(app)
    await invited(owner, owner.organizationId, invitee.email, 'admin')
    const token = linkToken(await mail.waitFor(invitee.email), '/invite')
    const accepted = await as(app, invitee).post('/invitations/accept', { token })
    assert.equal(accepted.statusCode, 200)
    assert.deepEqual(accepted.json(), { organization_id: owner.organizationId, role: 'admin' })
    expectProblem(await as(app, invitee).post('/invitations/accept', { token }), 404, 'INVITATION_NOT_FOUND')
  })

  it("refuses someone else's invitation, by id or by token, with 404", async () => {
    const owner = await register(app)
    const [invitee, intruder] = await Promise.all([register(app), register(app)])
    const invitation = await invited(owner, owner.organizationId, invitee.email)
    assert.deepEqual((await as(app, intruder).get('/invitations')).json(), [])
    expectProblem(
      await as(app, intruder).post(`/invitations/${invitation.id}/accept`),
      404,
      'INVITATION_NOT_FOUND',
    )
    expectProblem(
      await as(app, intruder).post('/invitations/accept', { token: invitation.token }),
      404,
      'INVITATION_NOT_FOUND',
    )
    expectProblem(
      await as(app, intruder).post(`/invitations/${invitation.id}/decline`),
      404,
      'INVITATION_NOT_FOUND',
    )
    assert.equal(await roleIn(owner.organizationId, intruder.id), undefined)
    // Still there for its addressee.
    assert.equal((await as(app, invitee).post(`/invitations/${invitation.id}/accept`)).statusCode, 200)
  })

  it('declines: 204, then it can be neither accepted nor declined again', async () => {
    const owner = await register(app)
    const invitee = await register(app)
    const invitation = await invited(owner, owner.organizationId, invitee.email)
    const declined = await as(app, invitee).post(`/invitations/${invitation.id}/decline`)
    assert.equal(declined.statusCode, 204)
    assert.equal(declined.body, '')
    expectProblem(
      await as(app, invitee).post(`/invitations/${invitation.id}/decline`),
      404,
      'INVITATION_NOT_FOUND',
    )
    expectProblem(
      await as(app, invitee).post('/invitations/accept', { token: invitation.token }),
      404,
      'INVITATION_NOT_FOUND',
    )
    assert.deepEqual((await as(app, invitee).get('/invitations')).json(), [])
    assert.equal(await roleIn(owner.organizationId, invitee.id), undefined)
  })

  it('answers 409 MEMBER_ALREADY_EXISTS to a member accepting, and keeps the invitation for a decline', async () => {
    const owner = await register(app)
    const { organizationId } = owner
    const email = uniqueEmail('late')
    const invitation = await invited(owner, organizationId, email)
    const late = asUser((await registerWith({ email })).json())
    // They joined by another way meanwhile.
    await queryRows(
      app.db.db,
      sql`INSERT INTO memberships (organization_id, user_id, role) VALUES (${organizationId}, ${late.id}, 'member')`,
    )
    expectProblem(
      await as(app, late).post(`/invitations/${invitation.id}/accept`),
      409,
      'MEMBER_ALREADY_EXISTS',
    )
    assert.equal((await as(app, late).post(`/invitations/${invitation.id}/decline`)).statusCode, 204)
  })

  it('validates ids and bodies, and needs a token', async () => {
    const user = await register(app)
    expectProblem(await as(app, user).post('/invitations/not-a-uuid/accept'), 400, 'VALIDATION_ERROR')
    expectProblem(await as(app, user).post('/invitations/accept', {}), 400, 'VALIDATION_ERROR')
    expectProblem(
      await as(app, user).post('/invitations/accept', { token: 'x', extra: 1 }),
      400,
      'VALIDATION_ERROR',
    )
    expectProblem(
      await as(app, user).post('/invitations/accept', { token: 'unknown' }),
      404,
      'INVITATION_NOT_FOUND',
    )
    expectProblem(await app.inject({ method: 'GET', url: '/api/v1/invitations' }), 401, 'UNAUTHORIZED')
  })
})

describe('expiry (controlled clock)', () => {
  it('an invitation works for 7 days, then is gone everywhere and frees the email', async () => {
    const owner = await register(app)
    const [early, late] = await Promise.all([register(app), register(app)])
    const earlyInvitation = await invited(owner, owner.organizationId, early.email)
    const lateInvitation = await invited(owner, owner.organizationId, late.email)
    try {
      clock.advance(7 * DAY - 60_000)
      assert.equal(
        (await as(app, early).post('/invitations/accept', { token: earlyInvitation.token })).statusCode,
        200,
      )
      clock.advance(2 * 60_000)
      assert.deepEqual((await as(app, late).get('/invitations')).json(), [])
      assert.deepEqual(
        (await as(app, owner).get(`/organizations/${owner.organizationId}/invitations`)).json(),
        [],
      )
      expectProblem(
        await as(app, late).post('/invitations/accept', { token: lateInvitation.token }),
        404,
        'INVITATION_NOT_FOUND',
      )
      expectProblem(
        await as(app, late).post(`/invitations/${lateInvitation.id}/accept`),
        404,
        'INVITATION_NOT_FOUND',
      )
      expectProblem(
        await registerWith({ email: uniqueEmail(), invitation_token: lateInvitation.token }),
        404,
        'INVITATION_NOT_FOUND',
      )
      expectProblem(
        await as(app, owner).delete(
          `/organizations/${owner.organizationId}/invitations/${lateInvitation.id}`,
        ),
        404,
        'INVITATION_NOT_FOUND',
      )
      // The expired invitation no longer blocks a new one.
      const again = await invited(owner, owner.organizationId, late.email)
      assert.equal((await as(app, late).post('/invitations/accept', { token: again.token })).statusCode, 200)
    } finally {
      clock.reset()
    }
  })
})

describe('parallel accepts', () => {
  it('give exactly one success, whether by id or by token', async () => {
    const owner = await register(app)
    const invitee = await register(app)
    const invitation = await invited(owner, owner.organizationId, invitee.email)
    const responses = await Promise.all([
      ...Array.from({ length: 4 }, () => as(app, invitee).post(`/invitations/${invitation.id}/accept`)),
      ...Array.from({ length: 4 }, () =>
        as(app, invitee).post('/invitations/accept', { token: invitation.token }),
      ),
    ])
    const statuses = responses.map((r) => r.statusCode).sort()
    assert.deepEqual(statuses, [200, 404, 404, 404, 404, 404, 404, 404])
    const rows = await queryRows<{ n: number }>(
      app.db.db,
      sql`SELECT count(*)::int AS n FROM memberships WHERE organization_id = ${owner.organizationId} AND user_id = ${invitee.id}`,
    )
    assert.equal(rows[0]?.n, 1)
  })

  it('and parallel registrations with one token create one user in the organization', async () => {
    const owner = await register(app)
    const email = uniqueEmail('parallel')
    const invitation = await invited(owner, owner.organizationId, email)
    const responses = await Promise.all(
      Array.from({ length: 4 }, () => registerWith({ email, invitation_token: invitation.token })),
    )
    assert.equal(responses.filter((r) => r.statusCode === 201).length, 1)
    for (const r of responses.filter((r) => r.statusCode !== 201)) {
      assert.ok([404, 409].includes(r.statusCode), r.body)
    }
  })
})

describe('POST /auth/register (changed)', () => {
  it('without organization_name creates no organization (ids null)', async () => {
    const email = uniqueEmail()
    const response = await registerWith({ email })
    assert.equal(response.statusCode, 201)
    const body = response.json()
    assert.equal(body.organization_id, null)
    assert.equal(body.organization_name, null)
    assert.deepEqual((await as(app, asUser(body)).get('/organizations/me')).json(), [])
  })

  it('with an invitation token joins its organization with its role, in the same request', async () => {
    const owner = await register(app, { name: 'Team Owner' })
    const email = uniqueEmail('newcomer')
    await invited(owner, owner.organizationId, email, 'manager')
    const token = linkToken(await mail.waitFor(email), '/invite')
    const response = await registerWith({ email: email.toUpperCase(), invitation_token: token })
    assert.equal(response.statusCode, 201)
    const body = response.json()
    assert.equal(body.organization_id, null)
    const orgs = (await as(app, asUser(body)).get('/organizations/me')).json()
    assert.deepEqual(
      orgs.map((o: { id: string; role: string }) => [o.id, o.role]),
      [[owner.organizationId, 'manager']],
    )
    expectProblem(
      await registerWith({ email: uniqueEmail(), invitation_token: token }),
      404,
      'INVITATION_NOT_FOUND',
    )
  })

  it('with both: owns the new organization (its id returned) and is a member of the invited one', async () => {
    const owner = await register(app)
    const email = uniqueEmail('both')
    const invitation = await invited(owner, owner.organizationId, email)
    const response = await registerWith({
      email,
      organization_name: 'Mine',
      invitation_token: invitation.token,
    })
    assert.equal(response.statusCode, 201)
    const body = response.json()
    assert.equal(body.organization_name, 'Mine')
    const roles = (await as(app, asUser(body)).get('/organizations/me'))
      .json()
      .map((o: { id: string; role: string }) => [o.id, o.role])
      .sort()
    assert.deepEqual(
      roles,
      [
        [body.organization_id, 'owner'],
        [owner.organizationId, 'member'],
      ].sort(),
    )
  })

  it('with a token for another email: 400 INVITATION_EMAIL_MISMATCH and nothing is created', async () => {
    const owner = await register(app)
    const invitedEmail = uniqueEmail('right')
    const invitation = await invited(owner, owner.organizationId, invitedEmail)
    const wrongEmail = uniqueEmail('wrong')
    expectProblem(
      await registerWith({
        email: wrongEmail,
        organization_name: 'Nope',
        invitation_token: invitation.token,
      }),
      400,
      'INVITATION_EMAIL_MISMATCH',
    )
    const users = await queryRows(app.db.db, sql`SELECT 1 FROM users WHERE email = ${wrongEmail}`)
    assert.equal(users.length, 0)
    const orgs = await queryRows(app.db.db, sql`SELECT 1 FROM organizations WHERE name = 'Nope'`)
    assert.equal(orgs.length, 0)
    // The invitation is intact for its addressee.
    assert.equal(
      (await registerWith({ email: invitedEmail, invitation_token: invitation.token })).statusCode,
      201,
    )
  })

  it('with an unknown, revoked or declined token: 404 INVITATION_NOT_FOUND and nothing is created', async () => {
    const owner = await register(app)
    const revokedEmail = uniqueEmail('revoked')
    const revoked = await invited(owner, owner.organizationId, revokedEmail)
    await as(app, owner).delete(`/organizations/${owner.organizationId}/invitations/${revoked.id}`)
    // Declined by its addressee, who then deletes nothing: a fresh address registers with the token.
    const decliner = await register(app)
    const declined = await invited(owner, owner.organizationId, decliner.email)
    assert.equal((await as(app, decliner).post(`/invitations/${declined.id}/decline`)).statusCode, 204)
    for (const [email, token] of [
      [uniqueEmail('unknown'), 'no-such-token'],
      [revokedEmail, revoked.token],
      [uniqueEmail('declined'), declined.token],
    ]) {
      expectProblem(await registerWith({ email, invitation_token: token }), 404, 'INVITATION_NOT_FOUND')
      assert.equal((await queryRows(app.db.db, sql`SELECT 1 FROM users WHERE email = ${email}`)).length, 0)
    }
  })

  it('with a taken email: 409 EMAIL_ALREADY_EXISTS and the invitation stays pending', async () => {
    const owner = await register(app)
    const existing = await register(app)
    const invitation = await invited(owner, owner.organizationId, existing.email)
    expectProblem(
      await registerWith({ email: existing.email, invitation_token: invitation.token }),
      409,
      'EMAIL_ALREADY_EXISTS',
    )
    assert.equal(
      (await as(app, existing).post('/invitations/accept', { token: invitation.token })).statusCode,
      200,
    )
  })
})
