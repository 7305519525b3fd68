import { type Actor, assertAllowed } from '../../auth/policy.js'
import type { Db } from '../../db/client.js'
import { recordNotFound } from '../../lib/errors.js'
import { afterWrite } from '../writes/after-write.js'
import * as queries from './queries.js'
import type { ActivityRow, CreateCommentBody } from './schemas.js'
import { writeActivities } from './writer.js'

/** A comment on a deal: any member, any deal; the deal is held FOR SHARE so it cannot vanish meanwhile. */
export async function createComment(
  db: Db,
  actor: Actor,
  dealId: string,
  input: CreateCommentBody,
): Promise<ActivityRow> {
  return db.transaction(async (tx) => {
    if (!(await queries.shareLockDeal(tx, actor.organizationId, dealId)))
      throw recordNotFound('DEAL_NOT_FOUND')
    assertAllowed(actor, 'comment.create')
    const [written] = await writeActivities(tx, actor, dealId, [
      { type: 'comment', payload: { text: input.payload.text } },
    ])
    if (!written) throw new Error('INSERT ... RETURNING gave no row')
    await afterWrite(tx, actor, { resource: 'comment', kind: 'created', after: written })
    const activity = await queries.findActivity(tx, actor.organizationId, written.id)
    if (!activity) throw new Error('a comment just written was not found')
    return activity
  })
}
