import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import {
  API,
  as,
  auth,
  buildTestApp,
  createContact,
  expectProblem,
  organizationWithRoles,
  type TestUser,
} from './helpers.js'

let app: FastifyInstance
before(async () => {
  app = await buildTestApp()
})
after(() => app.close())

function importCsv(
  user: TestUser,
  organizationId: string,
  csv: string | Buffer,
  query = '',
  type = 'text/csv',
) {
  return app.inject({
    method: 'POST',
    url: `${API}/contacts/import${query}`,
    headers: { ...auth(user, organizationId), 'content-type': type },
    payload: csv,
  })
}

async function contactsOf(user: TestUser, organizationId: string) {
  const response = await as(app, user, organizationId).get('/contacts?page_size=100&order_by=name&order=asc')
  return response.json().items as {
    id: string
    name: string
    email: string | null
    phone: string | null
    owner_id: string
  }[]
}

describe('POST /contacts/import', () => {
  it('creates, updates and leaves unchanged by email; reports failed rows by line; commits the valid rows', async () => {
    const { organizationId, owner, manager } = await organizationWithRoles(app)
    const existing = await createContact(app, owner, organizationId, {
      name: 'Ada',
      email: 'ada@example.com',
    })
    const same = await createContact(app, owner, organizationId, {
      name: 'Same',
      email: 'same@example.com',
      phone: '1',
    })
    const csv = [
      'name,email,phone,owner_email', // line 1
      'Ada Lovelace,ADA@example.com,,', // 2: updates Ada (name), phone stays null
      'Same,same@example.com,1,', // 3: unchanged
      '"Multi\nLine, Inc.",multi@example.com,+1 555,', // 4-5: created, the name spans two lines
      ',nameless@example.com,,', // 6: invalid (name required)
      'Bad Email,not-an-email,,', // 7: invalid email
      `Managed,managed@example.com,,${manager.email}`, // 8: created, owned by the manager
      'Stranger,stranger@example.com,,nobody@nowhere.test', // 9: OWNER_NOT_MEMBER
      'Again,multi@example.com,,', // 10: repeats the key of line 4
      '"=HYPERLINK(""x"")",formula@example.com,,', // 11: created, stored as given
      'Too,many,cells,here,!', // 12: wrong cell count
    ].join('\r\n')
    const response = await importCsv(owner, organizationId, csv)
    assert.equal(response.statusCode, 200, response.body)
    const report = response.json()
    assert.equal(report.created, 3)
    assert.equal(report.updated, 1)
    assert.equal(report.unchanged, 1)
    assert.deepEqual(
      report.failed.map((f: { row: number; code: string }) => [f.row, f.code]),
      [
        [6, 'VALIDATION_ERROR'],
        [7, 'VALIDATION_ERROR'],
        [9, 'OWNER_NOT_MEMBER'],
        [10, 'VALIDATION_ERROR'],
        [12, 'VALIDATION_ERROR'],
      ],
    )
    assert.equal(report.failed[0].errors[0].field, 'name')
    const rows = await contactsOf(owner, organizationId)
    assert.deepEqual(
      rows.map((r) => r.name).sort(),
      ['=HYPERLINK("x")', 'Ada Lovelace', 'Managed', 'Multi\nLine, Inc.', 'Same'].sort(),
    )
    const ada = rows.find((r) => r.id === existing.id)
    assert.equal(ada?.name, 'Ada Lovelace')
    assert.equal(rows.find((r) => r.name === 'Managed')?.owner_id, manager.id)
    assert.equal(rows.find((r) => r.name === 'Multi\nLine, Inc.')?.owner_id, owner.id)
    assert.equal(rows.find((r) => r.id === same.id)?.phone, '1')

    // An empty cell clears a nullable field on update.
    const cleared = await importCsv(owner, organizationId, 'name,email,phone\nSame,same@example.com,\n')
    assert.deepEqual(cleared.json(), { created: 0, updated: 1, unchanged: 0, failed: [] })
    assert.equal((await contactsOf(owner, organizationId)).find((r) => r.id === same.id)?.phone, null)
  })

  it('dry_run answers the same and writes nothing; match_on=none always creates', async () => {
    const { organizationId, owner } = await organizationWithRoles(app)
    await createContact(app, owner, organizationId, { name: 'Old', email: 'old@example.com' })
    const csv = 'name,email\nNew,new@example.com\nOld renamed,old@example.com\n,x@example.com\n'
    const dry = await importCsv(owner, organizationId, csv, '?dry_run=true')
    const { failed, ...counts } = dry.json() as { failed: { row: number }[] }
    assert.deepEqual(counts, { created: 1, updated: 1, unchanged: 0 })
    assert.deepEqual(
      failed.map((f) => f.row),
      [4],
    )
    assert.deepEqual(
      (await contactsOf(owner, organizationId)).map((r) => r.name),
      ['Old'],
    )
    const real = await importCsv(owner, organizationId, csv)
    assert.deepEqual(real.json(), dry.json())
    assert.deepEqual(
      (await contactsOf(owner, organizationId)).map((r) => r.name),
      ['New', 'Old renamed'],
    )
    const none = await importCsv(
      owner,
      organizationId,
      'name,email\nOld renamed,old@example.com\n',
      '?match_on=none',
    )
    assert.deepEqual(none.json(), { created: 1, updated: 0, unchanged: 0, failed: [] })
  })

  it('applies the role rules per row', async () => {
    const { organizationId, owner, member } = await organizationWithRoles(app)
    await createContact(app, owner, organizationId, { name: 'Owners', email: 'owners@example.com' })
    await createContact(app, member, organizationId, { name: 'Mine', email: 'mine@example.com' })
    const csv = [
      'name,email,owner_email',
      'Owners changed,owners@example.com,', // 2: FORBIDDEN (not the member's)
      'Mine changed,mine@example.com,', // 3: updated
      `Gift,gift@example.com,${owner.email}`, // 4: FORBIDDEN (a member owns only their records)
      `Self,self@example.com,${member.email}`, // 5: created
      'Plain,plain@example.com,', // 6: created, owned by the member
    ].join('\n')
    const report = (await importCsv(member, organizationId, csv)).json()
    assert.deepEqual(
      { ...report, failed: report.failed.map((f: { row: number; code: string }) => [f.row, f.code]) },
      {
        created: 2,
        updated: 1,
        unchanged: 0,
        failed: [
          [2, 'FORBIDDEN'],
          [4, 'FORBIDDEN'],
        ],
      },
    )
    const rows = await contactsOf(owner, organizationId)
    assert.deepEqual(
      rows.map((r) => r.name),
      ['Mine changed', 'Owners', 'Plain', 'Self'],
    )
    assert.ok(rows.filter((r) => ['Plain', 'Self'].includes(r.name)).every((r) => r.owner_id === member.id))
  })

  it('rejects unknown columns, other media types and bodies over 10 MiB, writing nothing', async () => {
    const { organizationId, owner } = await organizationWithRoles(app)
    const unknown = await importCsv(owner, organizationId, 'name,email,shoe_size\nA,a@example.com,42\n')
    const body = expectProblem(unknown, 400, 'VALIDATION_ERROR')
    assert.deepEqual(
      body.errors.map((e: { field: string }) => e.field),
      ['header.shoe_size'],
    )
    expectProblem(await importCsv(owner, organizationId, 'email\na@example.com\n'), 400, 'VALIDATION_ERROR')
    expectProblem(await importCsv(owner, organizationId, ''), 400, 'VALIDATION_ERROR')
    expectProblem(await importCsv(owner, organizationId, 'name\n"unterminated\n'), 400, 'VALIDATION_ERROR')
    expectProblem(
      await importCsv(owner, organizationId, JSON.stringify({ name: 'A' }), '', 'application/json'),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    )
    expectProblem(
      await importCsv(owner, organizationId, 'name\nA\n', '', 'text/plain'),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    )
    const big = `name\n${'x'.repeat(200)}\n`.repeat(Math.ceil((10 * 1024 * 1024) / 202) + 10)
    expectProblem(await importCsv(owner, organizationId, big), 413, 'PAYLOAD_TOO_LARGE')
    expectProblem(
      await importCsv(owner, organizationId, 'name\nA\n', '?match_on=domain'),
      400,
      'VALIDATION_ERROR',
    )
    assert.deepEqual(await contactsOf(owner, organizationId), [])
    // Just under the limit is accepted (UTF-8, a BOM, CRLF).
    const rows = Array.from({ length: 2000 }, (_, i) => `Ünïcødé ${i},u${i}@example.com`).join('\r\n')
    const ok = await importCsv(owner, organizationId, `\uFEFFname,email\r\n${rows}\r\n`)
    assert.deepEqual(ok.json(), { created: 2000, updated: 0, unchanged: 0, failed: [] })
  })

  it('reports an unknown company_domain per row (no company of the organization)', async () => {
    const { organizationId, owner } = await organizationWithRoles(app)
    const report = (await importCsv(owner, organizationId, 'name,company_domain\nA,acme.test\nB,\n')).json()
    assert.deepEqual(
      { ...report, failed: report.failed.map((f: { row: number; code: string }) => [f.row, f.code]) },
      { created: 1, updated: 0, unchanged: 0, failed: [[2, 'COMPANY_NOT_FOUND']] },
    )
  })
})
