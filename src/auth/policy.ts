import type { Role } from '../db/schema.js'
import { AppError } from '../lib/errors.js'

/**
 * Who acts: set on `request.actor` by the tenant hook (X-Organization-Id) and the organization-path hook, and
 * passed to every operation. An API key's actor (integrations) adds `apiKeyId` and `scopes`; its `userId` is the
 * key's creator and `role` the role the key acts with.
 */
export interface Actor {
  userId: string
  organizationId: string
  role: Role
  apiKeyId?: string
  scopes?: readonly string[]
}

/**
 * Every action of the API that a role may or may not do (spec §2, §4). Default-deny: an action missing here does
 * not compile, and a role missing from an action's list is refused.
 */
export type Action =
  | 'record.read'
  | 'contact.create'
  | 'contact.update'
  | 'contact.delete'
  | 'deal.create'
  | 'deal.update'
  | 'deal.delete'
  | 'deal.rollback_stage'
  | 'task.create'
  | 'task.update'
  | 'task.delete'
  | 'comment.create'
  | 'record.assign_owner'
  | 'analytics.read'
  | 'member.list'
  | 'member.add'
  | 'member.change_role'
  | 'member.remove'
  | 'member.leave'
  | 'company.create'
  | 'company.update'
  | 'company.delete'
  | 'organization.read'
  | 'organization.update'
  | 'organization.delete'
  | 'pipeline.update'
  | 'invitation.create'
  | 'invitation.list'
  | 'invitation.revoke'
  | 'api_key.create'
  | 'api_key.manage_any'
  | 'webhook.manage'

const EVERYONE: readonly Role[] = ['owner', 'admin', 'manager', 'member']
const MANAGERS_UP: readonly Role[] = ['owner', 'admin', 'manager']
const OWNERS_ADMINS: readonly Role[] = ['owner', 'admin']
const OWNER_ONLY: readonly Role[] = ['owner']

export const CAN: Readonly<Record<Action, readonly Role[]>> = {
  'record.read': EVERYONE,
  'contact.create': EVERYONE,
  'contact.update': EVERYONE,
  'contact.delete': EVERYONE,
  'deal.create': EVERYONE,
  'deal.update': EVERYONE,
  'deal.delete': EVERYONE,
  'deal.rollback_stage': OWNERS_ADMINS,
  // Tasks belong to a deal: their owner is the deal's owner.
  'task.create': EVERYONE,
  'task.update': EVERYONE,
  'task.delete': EVERYONE,
  // Any member comments on any deal (spec §6): no owner is passed.
  'comment.create': EVERYONE,
  // Naming the owner of a new or changed record: `ownerId` is the owner asked for.
  'record.assign_owner': EVERYONE,
  'analytics.read': EVERYONE,
  'member.list': EVERYONE,
  // Which roles an admin may grant or touch is organizations/rules.ts (it depends on the target's role).
  'member.add': OWNERS_ADMINS,
  'member.change_role': OWNERS_ADMINS,
  'member.remove': OWNERS_ADMINS,
  'member.leave': EVERYONE,
  // Companies follow the contact rules (spec §11): members change only their own.
  'company.create': EVERYONE,
  'company.update': EVERYONE,
  'company.delete': EVERYONE,
  'organization.read': EVERYONE,
  'organization.update': OWNERS_ADMINS,
  'organization.delete': OWNER_ONLY,
  'pipeline.update': OWNERS_ADMINS,
  // Invitations follow members-add (spec §15); which roles an admin may invite or revoke: organizations/rules.ts.
  'invitation.create': OWNERS_ADMINS,
  'invitation.list': OWNERS_ADMINS,
  'invitation.revoke': OWNERS_ADMINS,
  // Any member makes keys acting as themselves; owners and admins see and revoke everyone's.
  'api_key.create': EVERYONE,
  'api_key.manage_any': OWNERS_ADMINS,
  'webhook.manage': OWNERS_ADMINS,
}

/**
 * The "own records" rule, in one place: these roles act on every record; the others only on records they own
 * (`ownerId` given). An action called without `ownerId` is a plain role check.
 */
const ACTS_ON_ALL_RECORDS: readonly Role[] = MANAGERS_UP

/** What an API key with only the `read` scope may still do (its authentication step also allows only GET). */
const READ_ACTIONS: ReadonlySet<Action> = new Set(['record.read', 'analytics.read', 'member.list'])

export function allows(
  actor: Pick<Actor, 'role' | 'userId' | 'scopes'>,
  action: Action,
  ownerId?: string,
): boolean {
  if (!CAN[action].includes(actor.role)) return false
  if (actor.scopes && !actor.scopes.includes('write') && !READ_ACTIONS.has(action)) return false
  if (ownerId === undefined || ACTS_ON_ALL_RECORDS.includes(actor.role)) return true
  return ownerId === actor.userId
}

const REFUSALS: Partial<Record<Action, string>> = {
  'record.assign_owner': 'Members cannot assign records to other users',
  'member.add': 'Only owners and admins manage members',
  'member.change_role': 'Only owners and admins manage members',
  'member.remove': 'Only owners and admins manage members',
  'organization.update': 'Only owners and admins change the organization',
  'organization.delete': 'Only owners delete the organization',
  'pipeline.update': 'Only owners and admins change the pipeline',
  'invitation.create': 'Only owners and admins invite',
  'invitation.list': 'Only owners and admins see invitations',
  'invitation.revoke': 'Only owners and admins manage invitations',
  'webhook.manage': 'Only owners and admins manage webhooks',
}

/** Throws 403 FORBIDDEN unless `allows`. `ownerId`: the owner of the record acted on (a task: its deal's). */
export function assertAllowed(
  actor: Pick<Actor, 'role' | 'userId' | 'scopes'>,
  action: Action,
  target: { ownerId?: string } = {},
): void {
  if (allows(actor, action, target.ownerId)) return
  const detail =
    REFUSALS[action] ??
    (target.ownerId === undefined
      ? `Your role may not ${action.replace('.', ' ')}`
      : 'Members may change only records they own')
  throw new AppError('FORBIDDEN', detail)
}
