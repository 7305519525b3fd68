import { and, eq, inArray, sql } from 'drizzle-orm'
import { type Actor, allows, assertAllowed } from '../../auth/policy.js'
import type { Db, Tx } from '../../db/client.js'
import { companies, contacts, memberships, users } from '../../db/schema.js'
import { type ImportFailure, type ImportReport, parseImport } from '../../lib/csv-import.js'
import { isEmail } from '../../lib/email.js'
import type { FieldError } from '../../lib/errors.js'
import { uuidv7 } from '../../lib/uuid.js'
import { afterWrite } from '../writes/after-write.js'

/** Contact import (spec §14): columns, matching, per-row failures, one transaction for the valid rows. */
export const CONTACT_IMPORT_COLUMNS = ['name', 'email', 'phone', 'company_domain', 'owner_email'] as const
export const CONTACT_MATCH_ON = ['email', 'none'] as const

/** The organization's companies by (lower-case) domain. */
export type CompanyLookup = (
  tx: Tx,
  organizationId: string,
  domains: string[],
) => Promise<Map<string, string>>
export const companiesByDomain: CompanyLookup = async (tx, organizationId, domains) => {
  const rows = await tx
    .select({ id: companies.id, domain: companies.domain })
    .from(companies)
    .where(and(eq(companies.organizationId, organizationId), inArray(companies.domain, domains)))
  return new Map(rows.map((row) => [row.domain ?? '', row.id]))
}

const INSERT_CHUNK = 1_000

type ContactRow = typeof contacts.$inferSelect
interface Wanted {
  name: string
  email: string | null
  phone: string | null
  ownerId: string | undefined
  companyId: string | null | undefined
}

function fail(report: ImportReport, row: number, code: ImportFailure['code'], errors: FieldError[]) {
  report.failed.push({ row, code, errors })
}

export async function importContacts(
  db: Db,
  actor: Actor,
  csv: string,
  options: { matchOn: (typeof CONTACT_MATCH_ON)[number]; dryRun: boolean; companies?: CompanyLookup },
): Promise<ImportReport> {
  assertAllowed(actor, 'contact.create')
  const { rows, badRows } = parseImport(csv, CONTACT_IMPORT_COLUMNS, ['name'])
  const report: ImportReport = { created: 0, updated: 0, unchanged: 0, failed: [...badRows] }
  const { organizationId } = actor
  const lookupCompanies = options.companies ?? companiesByDomain

  await db.transaction(async (tx) => {
    // Everything the rows are checked against, read inside the transaction that writes them.
    const members = await tx
      .select({ id: users.id, email: users.email })
      .from(memberships)
      .innerJoin(users, eq(users.id, memberships.userId))
      .where(eq(memberships.organizationId, organizationId))
    const memberByEmail = new Map(members.map((m) => [m.email.toLowerCase(), m.id]))
    const domains = [
      ...new Set(rows.map((r) => r.cells.company_domain?.trim().toLowerCase() ?? '').filter(Boolean)),
    ]
    const companyByDomain =
      domains.length > 0 ? await lookupCompanies(tx, organizationId, domains) : new Map()
    const existingByEmail = new Map<string, ContactRow[]>()
    if (options.matchOn === 'email') {
      const emails = [...new Set(rows.map((r) => r.cells.email?.trim().toLowerCase() ?? '').filter(Boolean))]
      for (let i = 0; i < emails.length; i += 5_000) {
        const found = await tx
          .select()
          .from(contacts)
          .where(
            and(
              eq(contacts.organizationId, organizationId),
              inArray(sql`lower(${contacts.email})`, emails.slice(i, i + 5_000)),
            ),
          )
        for (const row of found) {
          const key = row.email?.toLowerCase() ?? ''
          existingByEmail.set(key, [...(existingByEmail.get(key) ?? []), row])
        }
      }
    }

    const creates: (typeof contacts.$inferInsert)[] = []
    const updates: { before: ContactRow; changes: Partial<ContactRow> }[] = []
    const seenKeys = new Map<string, number>()
    for (const { line, cells } of rows) {
      const errors: FieldError[] = []
      const name = (cells.name ?? '').trim()
      if (name.length < 1 || name.length > 255)
        errors.push({ field: 'name', message: 'must be 1..255 characters' })
      const emailText = (cells.email ?? '').trim()
      if (emailText !== '' && (emailText.length > 254 || !isEmail(emailText))) {
        errors.push({ field: 'email', message: 'must be a valid email address' })
      }
      const phone = (cells.phone ?? '').trim()
      if (phone.length > 50) errors.push({ field: 'phone', message: 'must be at most 50 characters' })
      if (errors.length > 0) {
        fail(report, line, 'VALIDATION_ERROR', errors)
        continue
      }
      const key = options.matchOn === 'email' && emailText !== '' ? emailText.toLowerCase() : undefined
      if (key !== undefined) {
        const earlier = seenKeys.get(key)
        if (earlier !== undefined) {
          fail(report, line, 'VALIDATION_ERROR', [
            { field: 'email', message: `repeats the match key of line ${earlier}` },
          ])
          continue
        }
        seenKeys.set(key, line)
      }
      // Owner: a member may only name themselves (403 first, as on the JSON routes), then it must be a member.
      const ownerEmail = (cells.owner_email ?? '').trim().toLowerCase()
      let ownerId: string | undefined
      if (ownerEmail !== '') {
        ownerId = memberByEmail.get(ownerEmail)
        if (!allows(actor, 'record.assign_owner', ownerId ?? '')) {
          fail(report, line, 'FORBIDDEN', [
            { field: 'owner_email', message: 'a member may only own their records' },
          ])
          continue
        }
        if (!ownerId) {
          fail(report, line, 'OWNER_NOT_MEMBER', [{ field: 'owner_email', message: 'is not a member' }])
          continue
        }
      }
      const domain = (cells.company_domain ?? '').trim().toLowerCase()
      let companyId: string | null | undefined = cells.company_domain === undefined ? undefined : null
      if (domain !== '') {
        companyId = companyByDomain.get(domain)
        if (!companyId) {
          fail(report, line, 'COMPANY_NOT_FOUND', [
            { field: 'company_domain', message: 'is no company of the organization' },
          ])
          continue
        }
      }
      const wanted: Wanted = { name, email: emailText || null, phone: phone || null, ownerId, companyId }
      const matches = key !== undefined ? (existingByEmail.get(key) ?? []) : []
      if (matches.length > 1) {
        fail(report, line, 'VALIDATION_ERROR', [
          {
            field: 'email',
            message: `matches ${matches.length} contacts; only a unique match can be updated`,
          },
        ])
        continue
      }
      const [current] = matches
      if (!current) {
        creates.push({
          organizationId,
          id: uuidv7(),
          ownerId: ownerId ?? actor.userId,
          name: wanted.name,
          email: wanted.email,
          phone: wanted.phone,
          ...companyColumn(companyId),
        })
        continue
      }
      if (!allows(actor, 'contact.update', current.ownerId)) {
        fail(report, line, 'FORBIDDEN', [
          { field: 'row', message: 'a member may only update their own contacts' },
        ])
        continue
      }
      const changes = diff(current, wanted)
      if (Object.keys(changes).length === 0) report.unchanged += 1
      else updates.push({ before: current, changes })
    }

    report.created = creates.length
    report.updated = updates.length
    report.failed.sort((a, b) => a.row - b.row)
    if (options.dryRun) return
    // Each written row goes through the after-write hook, as a contact written by the JSON routes does.
    for (let i = 0; i < creates.length; i += INSERT_CHUNK) {
      const written = await tx
        .insert(contacts)
        .values(creates.slice(i, i + INSERT_CHUNK))
        .returning()
      for (const row of written)
        await afterWrite(tx, actor, { resource: 'contact', kind: 'created', after: row })
    }
    for (const { before, changes } of updates) {
      const [row] = await tx
        .update(contacts)
        .set({ ...changes, updatedAt: sql`now()` })
        .where(and(eq(contacts.organizationId, organizationId), eq(contacts.id, before.id)))
        .returning()
      await afterWrite(tx, actor, { resource: 'contact', kind: 'updated', before, after: row })
    }
  })
  return report
}

/** `company_id` only when the file has a company_domain column. */
function companyColumn(companyId: string | null | undefined): Record<string, unknown> {
  return companyId === undefined ? {} : { companyId }
}

function diff(current: ContactRow, wanted: Wanted): Partial<ContactRow> {
  const changes: Record<string, unknown> = {}
  if (current.name !== wanted.name) changes.name = wanted.name
  if (current.email !== wanted.email) changes.email = wanted.email
  if (current.phone !== wanted.phone) changes.phone = wanted.phone
  if (wanted.ownerId !== undefined && current.ownerId !== wanted.ownerId) changes.ownerId = wanted.ownerId
  if (wanted.companyId !== undefined && current.companyId !== wanted.companyId) {
    changes.companyId = wanted.companyId
  }
  return changes as Partial<ContactRow>
}
