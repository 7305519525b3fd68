import { type Actor, assertAllowed } from '../../auth/policy.js'
import type { Db } from '../../db/client.js'
import { isForeignKeyViolation } from '../../lib/db-errors.js'
import { AppError, recordNotFound } from '../../lib/errors.js'
import { uuidv7 } from '../../lib/uuid.js'
import { assertValidOwnerChoice } from '../organizations/owners.js'
import { afterContactCreateValues, afterWrite } from '../writes/after-write.js'
import * as queries from './queries.js'
import type { ContactRow, CreateContactBody, UpdateContactBody } from './schemas.js'

/**
 * Contact writes. Order of checks: the contact exists in the organization (404) → the actor may change it
 * (403 FORBIDDEN) → the requested owner (403 FORBIDDEN, then 400 OWNER_NOT_MEMBER) → conflicts (409).
 * Each is one transaction ending in the after-write hook; the create is one statement (`afterCreateSql`).
 */

/** The composite FK (organization_id, company_id) refuses a company of another organization, atomically. */
function unknownCompanyAsNotFound(error: unknown): never {
  if (isForeignKeyViolation(error, 'contacts_company_fkey')) throw recordNotFound('COMPANY_NOT_FOUND')
  throw error
}

export async function createContact(db: Db, actor: Actor, input: CreateContactBody): Promise<ContactRow> {
  const ownerId = input.owner_id ?? actor.userId
  assertAllowed(actor, 'contact.create')
  await assertValidOwnerChoice(db, actor, ownerId)
  const values = {
    organizationId: actor.organizationId,
    id: uuidv7(),
    ownerId,
    name: input.name,
    email: input.email,
    phone: input.phone,
    companyId: input.company_id?.toLowerCase() ?? null,
  }
  // One statement, no transaction: the after-write effects are CTE members of the insert (W3's hot path).
  return queries
    .insertContact(db, values, afterContactCreateValues(actor, values))
    .catch(unknownCompanyAsNotFound)
}

export async function changeContact(
  db: Db,
  actor: Actor,
  id: string,
  input: UpdateContactBody,
): Promise<ContactRow> {
  const ownerId = input.owner_id
  const changes: queries.ContactChanges = {}
  if (input.name !== undefined) changes.name = input.name
  if (input.email !== undefined) changes.email = input.email
  if (input.phone !== undefined) changes.phone = input.phone
  if (ownerId !== undefined) changes.ownerId = ownerId
  if (input.company_id !== undefined) changes.companyId = input.company_id?.toLowerCase() ?? null
  return db
    .transaction(async (tx) => {
      const current = await queries.lockContact(tx, actor.organizationId, id)
      if (!current) throw recordNotFound('CONTACT_NOT_FOUND')
      assertAllowed(actor, 'contact.update', { ownerId: current.ownerId })
      if (ownerId !== undefined) await assertValidOwnerChoice(tx, actor, ownerId)
      if (Object.keys(changes).length === 0) return current
      const row = await queries.updateContact(tx, actor.organizationId, current.id, changes)
      await afterWrite(tx, actor, { resource: 'contact', kind: 'updated', before: current, after: row })
      return row
    })
    .catch(unknownCompanyAsNotFound)
}

export async function deleteContact(db: Db, actor: Actor, id: string): Promise<void> {
  try {
    await db.transaction(async (tx) => {
      const current = await queries.lockContact(tx, actor.organizationId, id)
      if (!current) throw recordNotFound('CONTACT_NOT_FOUND')
      assertAllowed(actor, 'contact.delete', { ownerId: current.ownerId })
      await queries.deleteContact(tx, actor.organizationId, current.id)
      await afterWrite(tx, actor, { resource: 'contact', kind: 'deleted', before: current })
    })
  } catch (error) {
    // The database refuses while any deal references the contact (deals_contact_fkey has no cascade), also
    // when a deal is inserted concurrently.
    if (isForeignKeyViolation(error, 'deals_contact_fkey')) {
      throw new AppError('CONTACT_HAS_DEALS', 'Delete or move the deals of this contact first')
    }
    throw error
  }
}
