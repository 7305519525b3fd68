import { type Actor, assertAllowed } from '../../auth/policy.js'
import type { Db } from '../../db/client.js'
import { isForeignKeyViolation, isUniqueViolation } from '../../lib/db-errors.js'
import { AppError, recordNotFound } from '../../lib/errors.js'
import { uuidv7 } from '../../lib/uuid.js'
import { assertValidOwnerChoice } from '../organizations/owners.js'
import { afterWrite } from '../writes/after-write.js'
import { normalizeDomain } from './domain.js'
import * as queries from './queries.js'
import type { CreateCompanyBody, UpdateCompanyBody } from './schemas.js'

/**
 * Company writes (spec §11), on the contacts template. Order of checks: schema and domain (400) → the company
 * exists in the organization (404) → the actor may change it (403) → the requested owner (403, then 400
 * OWNER_NOT_MEMBER) → conflicts (409). Each is one transaction ending in the after-write hook.
 */

/** The unique index (organization_id, domain) decides, also between concurrent requests. */
function conflictAsDomainExists(error: unknown): never {
  if (isUniqueViolation(error, 'companies_org_domain_key')) {
    throw new AppError('COMPANY_DOMAIN_EXISTS', 'Another company of this organization has this domain')
  }
  throw error
}

export async function createCompany(db: Db, actor: Actor, input: CreateCompanyBody) {
  const domain = input.domain == null ? null : normalizeDomain(input.domain)
  const ownerId = input.owner_id?.toLowerCase() ?? actor.userId
  assertAllowed(actor, 'company.create')
  await assertValidOwnerChoice(db, actor, ownerId)
  return db
    .transaction(async (tx) => {
      const row = await queries.insertCompany(tx, {
        organizationId: actor.organizationId,
        id: uuidv7(),
        ownerId,
        name: input.name,
        domain,
      })
      await afterWrite(tx, actor, { resource: 'company', kind: 'created', after: row })
      return row
    })
    .catch(conflictAsDomainExists)
}

export async function changeCompany(db: Db, actor: Actor, id: string, input: UpdateCompanyBody) {
  const ownerId = input.owner_id?.toLowerCase()
  const changes: queries.CompanyChanges = {}
  if (input.name !== undefined) changes.name = input.name
  if (input.domain !== undefined)
    changes.domain = input.domain === null ? null : normalizeDomain(input.domain)
  if (ownerId !== undefined) changes.ownerId = ownerId
  return db
    .transaction(async (tx) => {
      const current = await queries.lockCompany(tx, actor.organizationId, id)
      if (!current) throw recordNotFound('COMPANY_NOT_FOUND')
      assertAllowed(actor, 'company.update', { ownerId: current.ownerId })
      if (ownerId !== undefined) await assertValidOwnerChoice(tx, actor, ownerId)
      if (Object.keys(changes).length === 0) return current
      const row = await queries.updateCompany(tx, actor.organizationId, current.id, changes)
      await afterWrite(tx, actor, { resource: 'company', kind: 'updated', before: current, after: row })
      return row
    })
    .catch(conflictAsDomainExists)
}

export async function deleteCompany(db: Db, actor: Actor, id: string): Promise<void> {
  try {
    await db.transaction(async (tx) => {
      const current = await queries.lockCompany(tx, actor.organizationId, id)
      if (!current) throw recordNotFound('COMPANY_NOT_FOUND')
      assertAllowed(actor, 'company.delete', { ownerId: current.ownerId })
      await queries.deleteCompany(tx, actor.organizationId, current.id)
      await afterWrite(tx, actor, { resource: 'company', kind: 'deleted', before: current })
    })
  } catch (error) {
    // contacts_company_fkey has no cascade: the database refuses while a contact references the company, also
    // one linked concurrently.
    if (isForeignKeyViolation(error, 'contacts_company_fkey')) {
      throw new AppError('COMPANY_HAS_CONTACTS', 'Unlink or delete the contacts of this company first')
    }
    throw error
  }
}
