import { and, eq, inArray, sql } from 'drizzle-orm'
import type { Actor } from '../../auth/policy.js'
import type { Db } from '../../db/client.js'
import { contacts } from '../../db/schema.js'
import type { ImportReport } from '../../lib/csv-import.js'
import { isEmail } from '../../lib/email.js'
import type { FieldError } from '../../lib/errors.js'
import { companiesWithDomains } from '../companies/queries.js'
import { type ImportPlan, runImport } from '../writes/import.js'
import { type ContactChanges, type ContactRow, updateContact } from './queries.js'

/** Contact import (spec §14): the contact side of the shared import (writes/import.ts). */
export const CONTACT_IMPORT_COLUMNS = ['name', 'email', 'phone', 'company_domain', 'owner_email'] as const
export const CONTACT_MATCH_ON = ['email', 'none'] as const

interface Wanted {
  name: string
  email: string | null
  phone: string | null
  /** The company_domain cell, lower-cased ('' clears the company); undefined without the column. */
  companyDomain: string | undefined
  /** Resolved from companyDomain: undefined leaves the company as it is (no column), null clears it. */
  companyId: string | null | undefined
}

const contactImport: ImportPlan<ContactRow, Wanted, typeof contacts.$inferInsert, ContactChanges> = {
  columns: CONTACT_IMPORT_COLUMNS,
  required: ['name'],
  keyField: 'email',
  plural: 'contacts',
  actions: { create: 'contact.create', update: 'contact.update' },
  gone: {
    code: 'CONTACT_NOT_FOUND',
    errors: [{ field: 'email', message: 'the matched contact was deleted meanwhile' }],
  },

  check(cells) {
    const errors: FieldError[] = []
    const name = (cells.name ?? '').trim()
    if (name.length < 1 || name.length > 255)
      errors.push({ field: 'name', message: 'must be 1..255 characters' })
    const email = (cells.email ?? '').trim()
    if (email !== '' && (email.length > 254 || !isEmail(email))) {
      errors.push({ field: 'email', message: 'must be a valid email address' })
    }
    const phone = (cells.phone ?? '').trim()
    if (phone.length > 50) errors.push({ field: 'phone', message: 'must be at most 50 characters' })
    if (errors.length > 0) return { errors }
    const companyDomain = cells.company_domain?.trim().toLowerCase()
    return {
      wanted: { name, email: email || null, phone: phone || null, companyDomain, companyId: undefined },
      key: email === '' ? undefined : email.toLowerCase(),
    }
  },

  async prepare(tx, organizationId, rows) {
    const domains = [...new Set(rows.map((row) => row.companyDomain ?? '').filter(Boolean))]
    const found = domains.length > 0 ? await companiesWithDomains(tx, organizationId, domains) : []
    const companyByDomain = new Map(found.map((company) => [company.domain ?? '', company.id]))
    return (wanted) => {
      if (wanted.companyDomain === undefined) return { wanted }
      if (wanted.companyDomain === '') return { wanted: { ...wanted, companyId: null } }
      const companyId = companyByDomain.get(wanted.companyDomain)
      if (!companyId) {
        return {
          failed: {
            code: 'COMPANY_NOT_FOUND',
            errors: [{ field: 'company_domain', message: 'is no company of the organization' }],
          },
        }
      }
      return { wanted: { ...wanted, companyId } }
    }
  },

  // Emails are not unique: matching is case-insensitive and more than one match fails the row.
  findByKeys: (tx, organizationId, emails) =>
    tx
      .select()
      .from(contacts)
      .where(
        and(eq(contacts.organizationId, organizationId), inArray(sql`lower(${contacts.email})`, emails)),
      ),
  keyOf: (row) => row.email?.toLowerCase() ?? '',

  newRecord: (wanted, base) => ({
    ...base,
    name: wanted.name,
    email: wanted.email,
    phone: wanted.phone,
    // company_id only when the file has a company_domain column.
    ...(wanted.companyId === undefined ? {} : { companyId: wanted.companyId }),
  }),

  changes(current, wanted) {
    const changes: ContactChanges = {}
    if (current.name !== wanted.name) changes.name = wanted.name
    if (current.email !== wanted.email) changes.email = wanted.email
    if (current.phone !== wanted.phone) changes.phone = wanted.phone
    if (wanted.companyId !== undefined && current.companyId !== wanted.companyId) {
      changes.companyId = wanted.companyId
    }
    return changes
  },

  insert: (tx, values) => tx.insert(contacts).values(values).returning(),
  update: updateContact,
  created: (after) => ({ resource: 'contact', kind: 'created', after }),
  updated: (before, after) => ({ resource: 'contact', kind: 'updated', before, after }),
}

export function importContacts(
  db: Db,
  actor: Actor,
  csv: string,
  options: { matchOn: (typeof CONTACT_MATCH_ON)[number]; dryRun: boolean },
): Promise<ImportReport> {
  return runImport(db, actor, csv, contactImport, options)
}
