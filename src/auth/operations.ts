import type { Db } from '../db/client.js'
import { memberships, organizations, users } from '../db/schema.js'
import { afterWrite } from '../features/writes/after-write.js'
import { isUniqueViolation } from '../lib/db-errors.js'
import { AppError } from '../lib/errors.js'
import { uuidv7 } from '../lib/uuid.js'
import type { Actor } from './policy.js'
import { issueRefreshToken } from './sessions.js'

export interface Registration {
  email: string
  passwordHash: string
  name: string
  organizationName: string
  refreshTokenDays: number
}

/**
 * A user, their organization and their owner membership, and the first session, in one transaction. The
 * new owner is the actor of their own membership's after-write hook.
 */
export async function register(db: Db, input: Registration) {
  const actor: Actor = { userId: uuidv7(), organizationId: uuidv7(), role: 'owner' }
  const { userId, organizationId } = actor
  try {
    const refreshToken = await db.transaction(async (tx) => {
      await tx
        .insert(users)
        .values({ id: userId, email: input.email, passwordHash: input.passwordHash, name: input.name })
      await tx.insert(organizations).values({ id: organizationId, name: input.organizationName })
      const [membership] = await tx
        .insert(memberships)
        .values({ organizationId, userId, role: 'owner' })
        .returning()
      await afterWrite(tx, actor, { resource: 'member', kind: 'created', after: membership })
      return issueRefreshToken(tx, userId, input.refreshTokenDays)
    })
    return { userId, organizationId, refreshToken }
  } catch (error) {
    if (isUniqueViolation(error, 'users_email_lower_key')) {
      throw new AppError('EMAIL_ALREADY_EXISTS', 'A user with this email already exists')
    }
    throw error
  }
}
