import type { Db } from '../db/client.js'
import { memberships, organizations, users } from '../db/schema.js'
import { joinByInvitationToken } from '../features/invitations/operations.js'
import { afterWrite } from '../features/writes/after-write.js'
import { isUniqueViolation } from '../lib/db-errors.js'
import { AppError } from '../lib/errors.js'
import { uuidv7 } from '../lib/uuid.js'
import type { Actor } from './policy.js'
import { type IssuedSession, type SessionClient, startSession } from './sessions.js'

export interface Registration {
  email: string
  passwordHash: string
  name: string
  /** Creates an organization the user owns (spec §15: optional). */
  organizationName?: string | undefined
  /** Joins the invitation's organization with its role; the email must be the invitation's. */
  invitationToken?: string | undefined
  refreshTokenDays: number
  client: SessionClient
  /** The app's clock (invitation expiry). */
  now: Date
}

/**
 * A user, optionally their organization and owner membership, optionally the membership of an invitation, and
 * the first session, in one transaction: any refusal (taken email, invitation for another email) leaves
 * nothing behind. Each new member is the actor of their own membership's after-write hook.
 */
export async function register(
  db: Db,
  input: Registration,
): Promise<{ userId: string; organizationId: string | null; session: IssuedSession }> {
  const userId = uuidv7()
  const organizationId = input.organizationName === undefined ? null : uuidv7()
  try {
    const session = await db.transaction(async (tx) => {
      await tx
        .insert(users)
        .values({ id: userId, email: input.email, passwordHash: input.passwordHash, name: input.name })
      if (organizationId !== null && input.organizationName !== undefined) {
        const actor: Actor = { userId, organizationId, role: 'owner' }
        await tx.insert(organizations).values({ id: organizationId, name: input.organizationName })
        const [membership] = await tx
          .insert(memberships)
          .values({ organizationId, userId, role: 'owner' })
          .returning()
        await afterWrite(tx, actor, { resource: 'member', kind: 'created', after: membership })
      }
      if (input.invitationToken !== undefined) {
        await joinByInvitationToken(tx, input.invitationToken, { id: userId, email: input.email }, input.now)
      }
      return startSession(tx, userId, input.refreshTokenDays, input.client)
    })
    return { userId, organizationId, session }
  } catch (error) {
    if (isUniqueViolation(error, 'users_email_lower_key')) {
      throw new AppError('EMAIL_ALREADY_EXISTS', 'A user with this email already exists')
    }
    throw error
  }
}
