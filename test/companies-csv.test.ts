/** `GET /companies/export` and `POST /companies/import` (spec §14), as the contact versions behave. */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { parse } from 'csv-parse/sync'
import { and, asc, eq, like } from 'drizzle-orm'
import type { FastifyInstance } from 'fastify'
import { events } from '../src/db/schema.js'
import {
  API,
  as,
  auth,
  buildTestApp,
  expectProblem,
  organizationWithRoles,
  register,
  type TestUser,
} from './helpers.js'

let app: FastifyInstance
before(async () => {
  app = await buildTestApp()
})
after(() => app.close())

interface CompanyItem {
  id: string
  organization_id: string
  owner_id: string
  name: string
  domain: string | null
  created_at: string
  updated_at: string
}

const COMPANY_COLUMNS = ['id', 'organization_id', 'owner_id', 'name', 'domain', 'created_at', 'updated_at']

const TRICKY = [
  'Plain',
  'Comma, Inc.',
  'She said "hi"',
  'Two\nlines',
  'CR\r\nLF',
  'Ünïcødé 日本語 🚀',
  '=1+2',
  '+33 1 23',
  '-negative',
  '@mention',
  '\ttabbed',
]

/** The cell a spreadsheet may safely open: formula starters get a leading apostrophe. */
function safe(value: unknown): string {
  if (value === null || value === undefined) return ''
  const text = String(value)
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text
}

/** Domains differ per test: the PostgreSQL test database is shared by the files running at once. */
let domainCounter = 0
function uniqueDomain(label = 'c'): string {
  domainCounter += 1
  return `${label}${domainCounter}-${Math.random().toString(36).slice(2, 8)}.example.com`
}

async function createCompany(user: TestUser, organizationId: string, fields: Record<string, unknown> = {}) {
  const response = await as(app, user, organizationId).post('/companies', { name: 'Acme', ...fields })
  if (response.statusCode !== 201) throw new Error(`create company: ${response.statusCode} ${response.body}`)
  return response.json() as CompanyItem
}

/** Every company of the list (by cursor), as the JSON list shows them. */
async function companiesOf(user: TestUser, organizationId: string, query = 'order_by=name&order=asc') {
  const items: CompanyItem[] = []
  let cursor: string | null = null
  do {
    const url: string = `/companies?${query}&page_size=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`
    const response = await as(app, user, organizationId).get(url)
    assert.equal(response.statusCode, 200, response.body)
    const body = response.json()
    items.push(...body.items)
    cursor = body.next_cursor
  } while (cursor)
  return items
}

function exportOf(user: TestUser, organizationId: string, query = '') {
  return app.inject({
    method: 'GET',
    url: `${API}/companies/export${query}`,
    headers: auth(user, organizationId),
  })
}

function importCsv(
  user: TestUser,
  organizationId: string,
  csv: string | Buffer,
  query = '',
  type = 'text/csv',
) {
  return app.inject({
    method: 'POST',
    url: `${API}/companies/import${query}`,
    headers: { ...auth(user, organizationId), 'content-type': type },
    payload: csv,
  })
}

/** The report with its failures as [line, code] pairs. */
function summary(response: Awaited<ReturnType<typeof importCsv>>) {
  assert.equal(response.statusCode, 200, response.body)
  const report = response.json()
  return {
    ...report,
    failed: report.failed.map((f: { row: number; code: string }) => [f.row, f.code]),
  }
}

async function companyEvents(organizationId: string) {
  const rows = await app.db.db
    .select()
    .from(events)
    .where(and(eq(events.organizationId, organizationId), like(events.type, 'company.%')))
    .orderBy(asc(events.createdAt), asc(events.id))
  return rows.map((row) => ({ type: row.type, data: row.data as CompanyItem, previous: row.previous }))
}

describe('GET /companies/export', () => {
  it('round-trips quotes, commas, newlines, Unicode and formula cells (RFC 4180, formula-safe)', async () => {
    const { organizationId, owner } = await organizationWithRoles(app)
    for (const [i, name] of TRICKY.entries()) {
      await createCompany(owner, organizationId, { name, domain: i % 3 === 0 ? null : uniqueDomain() })
    }
    const response = await exportOf(owner, organizationId, '?order_by=name&order=asc')
    assert.equal(response.statusCode, 200, response.body)
    assert.equal(response.headers['content-type'], 'text/csv; charset=utf-8')
    assert.equal(response.headers['content-disposition'], 'attachment; filename="companies.csv"')
    assert.ok(response.body.includes('\r\n'), 'CRLF records')
    const [header, ...rows] = parse(response.body, { record_delimiter: '\r\n' }) as string[][]
    assert.deepEqual(header, COMPANY_COLUMNS)
    const items = await companiesOf(owner, organizationId)
    assert.equal(rows.length, TRICKY.length)
    assert.deepEqual(
      rows,
      items.map((item) => COMPANY_COLUMNS.map((column) => safe(item[column as keyof CompanyItem]))),
    )
    const names = rows.map((row) => row[3])
    for (const expected of ["'=1+2", "'+33 1 23", "'-negative", "'@mention", "'\ttabbed"]) {
      assert.ok(names.includes(expected), expected)
    }
    for (const expected of ['Comma, Inc.', 'She said "hi"', 'Two\nlines', 'CR\r\nLF', 'Ünïcødé 日本語 🚀']) {
      assert.ok(names.includes(expected), expected)
    }
    // null as an empty cell, timestamps RFC 3339.
    assert.equal(rows.filter((row) => row[4] === '').length, 4)
    for (const row of rows) assert.ok(!Number.isNaN(Date.parse(row[5] ?? '')) && row[5]?.endsWith('Z'))
  })

  it("takes the list's filters and order, and shows nothing of other organizations", async () => {
    const { organizationId, owner, member, manager } = await organizationWithRoles(app)
    const stranger = await register(app)
    const shared = uniqueDomain('shared')
    await createCompany(stranger, stranger.organizationId, { name: 'Theirs', domain: shared })
    const a = await createCompany(owner, organizationId, { name: 'Beta 100%', domain: uniqueDomain('beta') })
    const b = await createCompany(member, organizationId, { name: 'Alpha x_y', domain: shared })
    const c = await createCompany(owner, organizationId, { name: 'Gamma', domain: null })
    const ids = async (query: string) => {
      const response = await exportOf(manager, organizationId, query)
      assert.equal(response.statusCode, 200, response.body)
      const [header, ...rows] = parse(response.body) as string[][]
      assert.deepEqual(header, COMPANY_COLUMNS)
      return rows.map((row) => row[0])
    }
    assert.deepEqual(await ids(''), [c.id, b.id, a.id])
    assert.deepEqual(await ids('?order_by=name&order=asc'), [b.id, a.id, c.id])
    assert.deepEqual(await ids('?order_by=created_at&order=asc'), [a.id, b.id, c.id])
    assert.deepEqual(await ids('?search=beta'), [a.id])
    assert.deepEqual(await ids('?search=100%25'), [a.id])
    assert.deepEqual(await ids('?search=x_y'), [b.id])
    assert.deepEqual(await ids(`?search=${shared.slice(0, 12)}`), [b.id])
    assert.deepEqual(await ids(`?owner_id=${member.id}`), [b.id])
    assert.deepEqual(await ids('?search=nothing-like-this'), [])
    // The same rows as the list, for each filter.
    for (const query of ['order_by=name&order=desc', `owner_id=${owner.id}`, 'search=a']) {
      assert.deepEqual(
        await ids(`?${query}`),
        (await companiesOf(manager, organizationId, query)).map((item) => item.id),
      )
    }
    // The other organization sees only its own.
    const theirs = parse((await exportOf(stranger, stranger.organizationId)).body) as string[][]
    assert.deepEqual(
      theirs.slice(1).map((row) => row[3]),
      ['Theirs'],
    )

    for (const query of ['page=1', 'cursor=abc', 'page_size=5', 'count=false', 'order_by=domain', 'x=1']) {
      expectProblem(await exportOf(owner, organizationId, `?${query}`), 400, 'VALIDATION_ERROR')
    }
    expectProblem(await exportOf(stranger, organizationId), 403, 'ORGANIZATION_ACCESS_DENIED')
    const anonymous = await app.inject({
      method: 'GET',
      url: `${API}/companies/export`,
      headers: { 'x-organization-id': organizationId },
    })
    assert.equal(anonymous.statusCode, 401)
  })

  it('streams more rows than one batch, in order', async () => {
    const { organizationId, owner } = await organizationWithRoles(app)
    const names = Array.from({ length: 4500 }, (_, i) => `Bulk ${String(i).padStart(4, '0')}`)
    const imported = await importCsv(owner, organizationId, ['name', ...names].join('\n'))
    assert.deepEqual(imported.json(), { created: 4500, updated: 0, unchanged: 0, failed: [] })
    const response = await exportOf(owner, organizationId, '?order_by=name&order=asc')
    const [, ...rows] = parse(response.body) as string[][]
    assert.deepEqual(
      rows.map((row) => row[3]),
      names,
    )
  })
})

describe('POST /companies/import', () => {
  it('creates, updates and leaves unchanged by domain; reports failed rows by line; commits the valid rows', async () => {
    const { organizationId, owner, manager } = await organizationWithRoles(app)
    const acme = uniqueDomain('acme')
    const same = uniqueDomain('same')
    const multi = uniqueDomain('multi')
    const existing = await createCompany(owner, organizationId, { name: 'Acme', domain: acme })
    const unchanged = await createCompany(owner, organizationId, { name: 'Same', domain: same })
    const csv = [
      'Name,Domain,Owner_Email', // line 1 (header names are case-insensitive)
      `Acme Corporation,  ${acme.toUpperCase()} ,`, // 2: updates Acme (name); domain matched in any case
      `Same,${same},`, // 3: unchanged
      `"Multi\nLine, Inc.",${multi},`, // 4-5: created, the name spans two lines
      `,nameless.example.com,`, // 6: invalid (name required)
      'Bad Domain,https://acme.example.com/,', // 7: invalid domain (a URL)
      `Managed,,${manager.email}`, // 8: created without a domain, owned by the manager
      `Stranger,${uniqueDomain()},nobody@nowhere.test`, // 9: OWNER_NOT_MEMBER
      `Again,${multi.toUpperCase()},`, // 10: repeats the key of line 4
      '"=HYPERLINK(""x"")",,', // 11: created, stored as given
      'Too,many,cells,here', // 12: wrong cell count
      `"${'x'.repeat(256)}",,`, // 13: name too long
      'No Domain Either,,', // 14: created (no domain: no match key)
    ].join('\r\n')
    const response = await importCsv(owner, organizationId, csv)
    const report = response.json()
    assert.deepEqual(summary(response), {
      created: 4,
      updated: 1,
      unchanged: 1,
      failed: [
        [6, 'VALIDATION_ERROR'],
        [7, 'VALIDATION_ERROR'],
        [9, 'OWNER_NOT_MEMBER'],
        [10, 'VALIDATION_ERROR'],
        [12, 'VALIDATION_ERROR'],
        [13, 'VALIDATION_ERROR'],
      ],
    })
    const errorsOf = (row: number) =>
      report.failed.find((f: { row: number }) => f.row === row).errors.map((e: { field: string }) => e.field)
    assert.deepEqual(errorsOf(6), ['name'])
    assert.deepEqual(errorsOf(7), ['domain'])
    assert.deepEqual(errorsOf(9), ['owner_email'])
    assert.deepEqual(errorsOf(10), ['domain'])
    assert.match(report.failed[3].errors[0].message, /line 4/)
    assert.deepEqual(errorsOf(12), ['row'])

    const rows = await companiesOf(owner, organizationId)
    assert.deepEqual(
      rows.map((r) => r.name).sort(),
      [
        '=HYPERLINK("x")',
        'Acme Corporation',
        'Managed',
        'Multi\nLine, Inc.',
        'No Domain Either',
        'Same',
      ].sort(),
    )
    const updated = rows.find((r) => r.id === existing.id)
    assert.equal(updated?.domain, acme)
    assert.equal(updated?.owner_id, owner.id)
    assert.notEqual(updated?.updated_at, existing.updated_at)
    assert.deepEqual(
      rows.find((r) => r.id === unchanged.id),
      unchanged,
    )
    assert.equal(rows.find((r) => r.name === 'Managed')?.owner_id, manager.id)
    assert.equal(rows.find((r) => r.name === 'Managed')?.domain, null)
    assert.equal(rows.find((r) => r.name === 'Multi\nLine, Inc.')?.domain, multi)
    assert.equal(rows.find((r) => r.name === 'Multi\nLine, Inc.')?.owner_id, owner.id)
    // The list's total (its counters) counts the imported rows.
    const page = (await as(app, owner, organizationId).get('/companies')).json()
    assert.equal(page.total, 6)

    // owner_email moves an existing company to another member; an empty one keeps the owner.
    const moved = await importCsv(
      owner,
      organizationId,
      `name,domain,owner_email\nAcme Corporation,${acme},${manager.email}\nSame,${same},\n`,
    )
    assert.deepEqual(moved.json(), { created: 0, updated: 1, unchanged: 1, failed: [] })
    assert.equal(
      (await companiesOf(owner, organizationId)).find((r) => r.id === existing.id)?.owner_id,
      manager.id,
    )
  })

  it('match_on=none creates every row, but a domain stays unique: taken or repeated domains fail their row', async () => {
    const { organizationId, owner } = await organizationWithRoles(app)
    const taken = uniqueDomain('taken')
    const fresh = uniqueDomain('fresh')
    await createCompany(owner, organizationId, { name: 'Old', domain: taken })
    const csv = [
      'name,domain',
      `Old again,${taken.toUpperCase()}`, // 2: COMPANY_DOMAIN_EXISTS (another company has it)
      `Fresh,${fresh}`, // 3: created
      `Fresh twice,${fresh}`, // 4: repeats line 3
      'Old', // 5: wrong cell count
      'Old,', // 6: created (no domain)
      'Old,', // 7: created too (no match key with match_on=none)
    ].join('\n')
    const report = await importCsv(owner, organizationId, csv, '?match_on=none')
    assert.deepEqual(summary(report), {
      created: 3,
      updated: 0,
      unchanged: 0,
      failed: [
        [2, 'COMPANY_DOMAIN_EXISTS'],
        [4, 'VALIDATION_ERROR'],
        [5, 'VALIDATION_ERROR'],
      ],
    })
    assert.equal(report.json().failed[0].errors[0].field, 'domain')
    assert.equal(report.json().failed[1].errors[0].field, 'domain')
    assert.deepEqual(
      (await companiesOf(owner, organizationId)).map((r) => [r.name, r.domain]),
      [
        ['Fresh', fresh],
        ['Old', taken], // the list breaks ties of name by id: the oldest first
        ['Old', null],
        ['Old', null],
      ],
    )
    // Matching on domain, the same file updates instead (one match per key) and creates the rest.
    const byDomain = await importCsv(
      owner,
      organizationId,
      `name,domain\nOld renamed,${taken}\nFresh,${fresh}\n`,
    )
    assert.deepEqual(byDomain.json(), { created: 0, updated: 1, unchanged: 1, failed: [] })
  })

  it('concurrent imports of one new domain: one creates it, the others fail that row (never a 409 or 500)', async () => {
    const { organizationId, owner } = await organizationWithRoles(app)
    const domain = uniqueDomain('race')
    for (const query of ['?match_on=none', '']) {
      const csv = `name,domain\nRacer,${query ? domain : uniqueDomain('race')}\nCalm,\n`
      const responses = await Promise.all(
        Array.from({ length: 6 }, () => importCsv(owner, organizationId, csv, query)),
      )
      const reports = responses.map(summary)
      if (query) {
        // Everyone checks before anyone commits, or after: either way the unique index decides, per row.
        assert.equal(reports.filter((r) => r.failed.length === 0).length, 1, JSON.stringify(reports))
        for (const report of reports.filter((r) => r.failed.length > 0)) {
          assert.deepEqual(report, {
            created: 1,
            updated: 0,
            unchanged: 0,
            failed: [[2, 'COMPANY_DOMAIN_EXISTS']],
          })
        }
      } else {
        // Matching on domain, a racer that loses either updates (saw the winner) or fails its row (did not).
        for (const report of reports) {
          assert.ok(report.failed.every(([, code]: [number, string]) => code === 'COMPANY_DOMAIN_EXISTS'))
        }
      }
    }
    const rows = await companiesOf(owner, organizationId)
    assert.equal(rows.filter((r) => r.domain === domain).length, 1)
    assert.equal(rows.filter((r) => r.name === 'Calm').length, 12)
    assert.equal((await as(app, owner, organizationId).get('/companies')).json().total, rows.length)
  })

  it('dry_run answers the same and writes nothing (no rows, no events)', async () => {
    const { organizationId, owner } = await organizationWithRoles(app)
    const old = uniqueDomain('old')
    const created = uniqueDomain('new')
    await createCompany(owner, organizationId, { name: 'Old', domain: old })
    const eventsBefore = await companyEvents(organizationId)
    const csv = `name,domain\nNew,${created}\nOld renamed,${old}\n,x.example.com\n`
    const dry = await importCsv(owner, organizationId, csv, '?dry_run=true')
    assert.deepEqual(summary(dry), {
      created: 1,
      updated: 1,
      unchanged: 0,
      failed: [[4, 'VALIDATION_ERROR']],
    })
    assert.deepEqual(
      (await companiesOf(owner, organizationId)).map((r) => r.name),
      ['Old'],
    )
    assert.deepEqual(await companyEvents(organizationId), eventsBefore)
    assert.equal((await as(app, owner, organizationId).get('/companies')).json().total, 1)
    const real = await importCsv(owner, organizationId, csv, '?dry_run=false')
    assert.deepEqual(real.json(), dry.json())
    assert.deepEqual(
      (await companiesOf(owner, organizationId)).map((r) => r.name),
      ['New', 'Old renamed'],
    )
  })

  it('records company.created and company.updated events like the JSON routes (none when unchanged)', async () => {
    const { organizationId, owner } = await organizationWithRoles(app)
    const old = uniqueDomain('old')
    const same = uniqueDomain('same')
    const fresh = uniqueDomain('fresh')
    const company = await createCompany(owner, organizationId, { name: 'Old', domain: old })
    await createCompany(owner, organizationId, { name: 'Same', domain: same })
    const before = (await companyEvents(organizationId)).length
    const response = await importCsv(
      owner,
      organizationId,
      `name,domain\nOld renamed,${old}\nSame,${same}\nFresh,${fresh}\nBroken,not a domain\n`,
    )
    assert.deepEqual(summary(response), {
      created: 1,
      updated: 1,
      unchanged: 1,
      failed: [[5, 'VALIDATION_ERROR']],
    })
    const recorded = (await companyEvents(organizationId)).slice(before)
    const rows = await companiesOf(owner, organizationId)
    const renamed = rows.find((r) => r.id === company.id)
    const createdRow = rows.find((r) => r.domain === fresh)
    assert.deepEqual(
      recorded.sort((a, b) => a.type.localeCompare(b.type)),
      [
        { type: 'company.created', data: createdRow, previous: null },
        {
          type: 'company.updated',
          data: renamed,
          previous: { name: 'Old', updated_at: company.updated_at },
        },
      ],
    )
  })

  it('applies the role rules per row', async () => {
    const { organizationId, owner, manager, member } = await organizationWithRoles(app)
    const owners = uniqueDomain('owners')
    const mine = uniqueDomain('mine')
    await createCompany(owner, organizationId, { name: 'Owners', domain: owners })
    await createCompany(member, organizationId, { name: 'Mine', domain: mine })
    const csv = [
      'name,domain,owner_email',
      `Owners changed,${owners},`, // 2: FORBIDDEN (not the member's)
      `Mine changed,${mine},`, // 3: updated
      `Gift,${uniqueDomain()},${owner.email}`, // 4: FORBIDDEN (a member owns only their records)
      `Self,${uniqueDomain()},${member.email}`, // 5: created
      'Plain,,', // 6: created, owned by the member
      `Stranger,,nobody@nowhere.test`, // 7: FORBIDDEN before OWNER_NOT_MEMBER, as on the JSON routes
      `Mine changed,${mine},${member.email}`, // 8: repeats line 3
    ].join('\n')
    assert.deepEqual(summary(await importCsv(member, organizationId, csv)), {
      created: 2,
      updated: 1,
      unchanged: 0,
      failed: [
        [2, 'FORBIDDEN'],
        [4, 'FORBIDDEN'],
        [7, 'FORBIDDEN'],
        [8, 'VALIDATION_ERROR'],
      ],
    })
    const rows = await companiesOf(owner, organizationId)
    assert.deepEqual(
      rows.map((r) => r.name),
      ['Mine changed', 'Owners', 'Plain', 'Self'],
    )
    assert.ok(rows.filter((r) => r.name !== 'Owners').every((r) => r.owner_id === member.id))

    // A manager updates anyone's company and gives it to any member.
    const managed = await importCsv(
      manager,
      organizationId,
      `name,domain,owner_email\nOwners by manager,${owners},${member.email}\n`,
    )
    assert.deepEqual(managed.json(), { created: 0, updated: 1, unchanged: 0, failed: [] })
    const moved = (await companiesOf(owner, organizationId)).find((r) => r.domain === owners)
    assert.deepEqual([moved?.name, moved?.owner_id], ['Owners by manager', member.id])

    // Not a member of the organization: refused before the body counts.
    expectProblem(
      await importCsv(await register(app), organizationId, 'name\nX\n'),
      403,
      'ORGANIZATION_ACCESS_DENIED',
    )
  })

  it('rejects unknown columns, other media types and bodies over 10 MiB, writing nothing', async () => {
    const { organizationId, owner } = await organizationWithRoles(app)
    const unknown = await importCsv(owner, organizationId, 'name,domain,email,phone\nA,a.example.com,,\n')
    const body = expectProblem(unknown, 400, 'VALIDATION_ERROR')
    assert.deepEqual(
      body.errors.map((e: { field: string }) => e.field),
      ['header.email', 'header.phone'],
    )
    // The contacts' columns and a file exported by GET /companies/export are not company imports.
    expectProblem(
      await importCsv(owner, organizationId, 'name,company_domain\nA,a.example.com\n'),
      400,
      'VALIDATION_ERROR',
    )
    expectProblem(
      await importCsv(owner, organizationId, `${COMPANY_COLUMNS.join(',')}\n`),
      400,
      'VALIDATION_ERROR',
    )
    expectProblem(await importCsv(owner, organizationId, 'domain\na.example.com\n'), 400, 'VALIDATION_ERROR')
    expectProblem(await importCsv(owner, organizationId, 'name,name\nA,B\n'), 400, 'VALIDATION_ERROR')
    expectProblem(await importCsv(owner, organizationId, ''), 400, 'VALIDATION_ERROR')
    expectProblem(await importCsv(owner, organizationId, 'name\n"unterminated\n'), 400, 'VALIDATION_ERROR')
    expectProblem(
      await importCsv(owner, organizationId, 'name\nA\n', '?match_on=email'),
      400,
      'VALIDATION_ERROR',
    )
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
    assert.deepEqual(await companiesOf(owner, organizationId), [])
    assert.deepEqual(await companyEvents(organizationId), [])

    // UTF-8 with a BOM, CRLF and a charset parameter are accepted.
    const rows = Array.from({ length: 2000 }, (_, i) => `Ünïcødé ${i},u${i}-${uniqueDomain()}`).join('\r\n')
    const ok = await importCsv(
      owner,
      organizationId,
      `\uFEFFname,domain\r\n${rows}\r\n`,
      '',
      'text/csv; charset=utf-8',
    )
    assert.deepEqual(ok.json(), { created: 2000, updated: 0, unchanged: 0, failed: [] })
  })

  it('keeps organizations apart: the same domain elsewhere neither matches nor conflicts', async () => {
    const { organizationId, owner } = await organizationWithRoles(app)
    const stranger = await register(app)
    const domain = uniqueDomain('both')
    const theirs = await createCompany(stranger, stranger.organizationId, { name: 'Theirs', domain })
    for (const query of ['', '?match_on=none']) {
      const fresh = await register(app)
      const report = await importCsv(fresh, fresh.organizationId, `name,domain\nOurs,${domain}\n`, query)
      assert.deepEqual(report.json(), { created: 1, updated: 0, unchanged: 0, failed: [] })
    }
    const report = await importCsv(owner, organizationId, `name,domain\nOurs,${domain}\n`)
    assert.deepEqual(report.json(), { created: 1, updated: 0, unchanged: 0, failed: [] })
    assert.deepEqual(await companiesOf(stranger, stranger.organizationId), [theirs])
    assert.deepEqual(
      (await companiesOf(owner, organizationId)).map((r) => [r.name, r.domain, r.organization_id]),
      [['Ours', domain, organizationId]],
    )
  })
})
