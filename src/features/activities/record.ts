import { sql } from 'drizzle-orm'
import type { Executor } from '../../db/client.js'
import { type ActivityType, activities } from '../../db/schema.js'
import { uuidv7 } from '../../lib/uuid.js'

export interface NewActivity {
  organizationId: string
  dealId: string
  authorId: string | null
  type: ActivityType
  payload: Record<string, unknown>
}

/**
 * Writes one activity; called inside the transaction of the change it records, after that change's locks are
 * taken. Its time is the moment of writing (`clock_timestamp()`, not the transaction's start `now()`) and its
 * id is monotonic, so the feed's newest-first order is the order the changes really happened.
 */
export async function recordActivity(db: Executor, activity: NewActivity): Promise<string> {
  const id = uuidv7()
  await db.insert(activities).values({ id, ...activity, createdAt: sql`clock_timestamp()` })
  return id
}
