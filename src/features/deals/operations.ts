import { type Actor, assertAllowed } from '../../auth/policy.js'
import type { Db } from '../../db/client.js'
import { isForeignKeyViolation } from '../../lib/db-errors.js'
import { AppError, recordNotFound } from '../../lib/errors.js'
import { parseAmount } from '../../lib/money.js'
import { uuidv7 } from '../../lib/uuid.js'
import { writeActivitiesValues } from '../activities/writer.js'
import { assertValidOwnerChoice } from '../organizations/owners.js'
import { afterDealChangeValues, afterWrite } from '../writes/after-write.js'
import * as queries from './queries.js'
import { assertValidDealChange, assertValidLostReason, dealChangeActivities } from './rules.js'
import type { CreateDealBody, DealRow, UpdateDealBody } from './schemas.js'

/**
 * Deal writes. Order of checks: amounts (400 VALIDATION_ERROR) → the deal exists in the organization
 * (404 DEAL_NOT_FOUND) → the actor may change it (403 FORBIDDEN) → the requested owner (403 FORBIDDEN, then
 * 400 OWNER_NOT_MEMBER) → stage rollback (403 STAGE_ROLLBACK_FORBIDDEN) → won without amount
 * (400 INVALID_DEAL_AMOUNT) → the contact is in the organization (404 CONTACT_NOT_FOUND, from the FK).
 */

/** Each failed attempt means another change of the deal committed; this many in a row is pathological. */
const MAX_CHANGE_ATTEMPTS = 50

/** The composite FK (organization_id, contact_id) refuses a contact of another organization, atomically. */
function unknownContactAsNotFound(error: unknown): never {
  if (isForeignKeyViolation(error, 'deals_contact_fkey')) throw recordNotFound('CONTACT_NOT_FOUND')
  throw error
}

export async function createDeal(db: Db, actor: Actor, input: CreateDealBody): Promise<DealRow> {
  const amount = parseAmount(input.amount)
  const ownerId = input.owner_id ?? actor.userId
  assertAllowed(actor, 'deal.create')
  await assertValidOwnerChoice(db, actor, ownerId)
  // Initial status and stage write no activity; the won rule holds; the history starts at the stage (§12).
  assertValidDealChange(actor.role, { status: input.status, stage: input.stage, amount }, {})
  assertValidLostReason(input.status, input.lost_reason)
  return db
    .transaction(async (tx) => {
      const row = await queries.insertDeal(tx, {
        organizationId: actor.organizationId,
        id: uuidv7(),
        contactId: input.contact_id,
        ownerId,
        title: input.title,
        amount,
        currency: input.currency?.toUpperCase(),
        status: input.status,
        stage: input.stage,
        expectedCloseDate: input.expected_close_date,
        lostReason: input.lost_reason,
        // The first stay in the stage history names the deal's creator (deals_after_write trigger).
        stageChangedBy: actor.userId,
      })
      await afterWrite(tx, actor, { resource: 'deal', kind: 'created', after: row })
      return row
    })
    .catch(unknownContactAsNotFound)
}

function dealChanges(input: UpdateDealBody): queries.DealChanges {
  const changes: queries.DealChanges = {}
  if (input.title !== undefined) changes.title = input.title
  if (input.amount !== undefined) changes.amount = parseAmount(input.amount)
  if (input.currency !== undefined) changes.currency = input.currency.toUpperCase()
  if (input.status !== undefined) changes.status = input.status
  if (input.stage !== undefined) changes.stage = input.stage
  if (input.contact_id !== undefined) changes.contactId = input.contact_id
  if (input.owner_id !== undefined) changes.ownerId = input.owner_id
  if (input.expected_close_date !== undefined) changes.expectedCloseDate = input.expected_close_date
  if (input.lost_reason !== undefined) changes.lostReason = input.lost_reason
  return changes
}

/**
 * Optimistic: read, check the rules, then ONE guarded statement writes the change, its activities and its
 * after-write effects (W4's hot path: no transaction round trips); if another change got there first, read
 * again (the rules must see the state they change).
 */
export async function changeDeal(db: Db, actor: Actor, id: string, input: UpdateDealBody): Promise<DealRow> {
  const changes = dealChanges(input)
  for (let attempt = 1; attempt <= MAX_CHANGE_ATTEMPTS; attempt++) {
    const current = await queries.findDeal(db, actor.organizationId, id)
    if (!current) throw recordNotFound('DEAL_NOT_FOUND')
    assertAllowed(actor, 'deal.update', { ownerId: current.ownerId })
    if (changes.ownerId !== undefined && attempt === 1) {
      await assertValidOwnerChoice(db, actor, changes.ownerId)
    }
    assertValidDealChange(actor.role, current, changes)
    assertValidLostReason(changes.status ?? current.status, changes.lostReason)
    if (Object.keys(changes).length === 0) return current
    const activities = dealChangeActivities(current, changes)
    // A stage change names who moved the deal: the trigger writes it into the stage history with the change.
    const write =
      changes.stage !== undefined && changes.stage !== current.stage
        ? { ...changes, stageChangedBy: actor.userId }
        : changes
    const written = await queries
      .updateDealIfUnchanged(db, current, write, {
        ...writeActivitiesValues(actor, activities),
        ...afterDealChangeValues(actor, current, { ...current, ...changes }),
      })
      .catch(unknownContactAsNotFound)
    if (written) return written
  }
  throw new AppError('SERVICE_UNAVAILABLE', 'The deal is changing too fast; retry shortly', {
    headers: { 'retry-after': '1' },
  })
}

export async function deleteDeal(db: Db, actor: Actor, id: string): Promise<void> {
  await db.transaction(async (tx) => {
    const current = await queries.lockDeal(tx, actor.organizationId, id)
    if (!current) throw recordNotFound('DEAL_NOT_FOUND')
    assertAllowed(actor, 'deal.delete', { ownerId: current.ownerId })
    await queries.deleteDeal(tx, actor.organizationId, current.id)
    await afterWrite(tx, actor, { resource: 'deal', kind: 'deleted', before: current })
  })
}
