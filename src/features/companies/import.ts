import type { Actor } from '../../auth/policy.js'
import type { Db } from '../../db/client.js'
import type { companies } from '../../db/schema.js'
import type { ImportReport } from '../../lib/csv-import.js'
import type { FieldError } from '../../lib/errors.js'
import { type ImportPlan, runImport } from '../writes/import.js'
import { domainOf } from './domain.js'
import * as queries from './queries.js'

/** Company import (spec §14): the company side of the shared import (writes/import.ts). */
export const COMPANY_IMPORT_COLUMNS = ['name', 'domain', 'owner_email'] as const
export const COMPANY_MATCH_ON = ['domain', 'none'] as const

interface Wanted {
  name: string
  domain: string | null
}

const companyImport: ImportPlan<
  queries.CompanyRow,
  Wanted,
  typeof companies.$inferInsert,
  queries.CompanyChanges
> = {
  columns: COMPANY_IMPORT_COLUMNS,
  required: ['name'],
  keyField: 'domain',
  plural: 'companies',
  actions: { create: 'company.create', update: 'company.update' },
  // A domain is unique in the organization (spec §11): the JSON routes' 409, per row here.
  unique: {
    code: 'COMPANY_DOMAIN_EXISTS',
    errors: [{ field: 'domain', message: 'another company of this organization has this domain' }],
  },
  gone: {
    code: 'COMPANY_NOT_FOUND',
    errors: [{ field: 'domain', message: 'the matched company was deleted meanwhile' }],
  },

  check(cells) {
    const errors: FieldError[] = []
    const name = (cells.name ?? '').trim()
    if (name.length < 1 || name.length > 255)
      errors.push({ field: 'name', message: 'must be 1..255 characters' })
    const text = (cells.domain ?? '').trim()
    const domain = text === '' ? null : domainOf(text)
    if (domain === undefined)
      errors.push({ field: 'domain', message: 'must be a host name such as acme.com' })
    if (errors.length > 0 || domain === undefined) return { errors }
    return { wanted: { name, domain }, key: domain ?? undefined }
  },

  // Domains are stored normalized, so the match is exact (and case-insensitive for the file).
  findByKeys: queries.companiesWithDomains,
  keyOf: (row) => row.domain ?? '',

  newRecord: (wanted, base) => ({ ...base, name: wanted.name, domain: wanted.domain }),
  changes(current, wanted) {
    const changes: queries.CompanyChanges = {}
    if (current.name !== wanted.name) changes.name = wanted.name
    if (current.domain !== wanted.domain) changes.domain = wanted.domain
    return changes
  },

  insert: queries.insertCompanies,
  update: queries.updateCompany,
  created: (after) => ({ resource: 'company', kind: 'created', after }),
  updated: (before, after) => ({ resource: 'company', kind: 'updated', before, after }),
}

export function importCompanies(
  db: Db,
  actor: Actor,
  csv: string,
  options: { matchOn: (typeof COMPANY_MATCH_ON)[number]; dryRun: boolean },
): Promise<ImportReport> {
  return runImport(db, actor, csv, companyImport, options)
}
