import { type Actor, assertAllowed } from '../../auth/policy.js'
import type { Executor } from '../../db/client.js'
import { AppError } from '../../lib/errors.js'
import { isMember } from './queries.js'

/**
 * A requested `owner_id` on create or update: 403 for a member naming someone else (the permission table),
 * then 400 OWNER_NOT_MEMBER for someone outside the organization.
 */
export async function assertValidOwnerChoice(db: Executor, actor: Actor, ownerId: string): Promise<void> {
  assertAllowed(actor, 'record.assign_owner', { ownerId })
  // The actor is a member (the tenant hook checked), so only someone else needs a lookup.
  if (ownerId !== actor.userId && !(await isMember(db, actor.organizationId, ownerId))) {
    throw new AppError('OWNER_NOT_MEMBER', 'owner_id is not a member of this organization')
  }
}
