import { and, eq, type Placeholder, type SQL, sql } from 'drizzle-orm'
import { type Db, type Executor, prepared, queryRows, type Tx } from '../../db/client.js'
import { type DealStage, type DealStatus, deals } from '../../db/schema.js'

export type DealRow = typeof deals.$inferSelect

function byId(organizationId: string | Placeholder, id: string | Placeholder) {
  return and(eq(deals.organizationId, organizationId), eq(deals.id, id))
}

export async function findDeal(db: Db, organizationId: string, id: string) {
  const statement = prepared(db, 'deals_find_by_id', (database) =>
    database
      .select()
      .from(deals)
      .where(byId(sql.placeholder('organizationId'), sql.placeholder('id')))
      .prepare('deals_find_by_id'),
  )
  const [row] = await statement.execute({ organizationId, id })
  return row
}

/**
 * Reads the deal and locks it until the transaction ends (used by delete, which then upgrades the lock).
 * NO KEY UPDATE still lets tasks and activities be inserted on the deal meanwhile.
 */
export async function lockDeal(tx: Tx, organizationId: string, id: string) {
  const [row] = await tx.select().from(deals).where(byId(organizationId, id)).for('no key update')
  return row
}

export async function insertDeal(db: Executor, values: typeof deals.$inferInsert) {
  const [row] = await db.insert(deals).values(values).returning()
  return row as DealRow
}

export type DealChanges = Partial<
  Pick<DealRow, 'title' | 'amount' | 'currency' | 'status' | 'stage' | 'contactId' | 'ownerId'>
>

/**
 * One statement that applies `changes` only if the deal still has the status, stage, amount and owner the rules
 * were checked against, and runs `effects` (data-modifying CTE members over `updated`: the change's activities
 * and its after-write effects) with it: all or nothing. Returns undefined when a concurrent change got there
 * first; the caller reads again and re-checks. Of two racing changes exactly one matches, so each activity's old
 * value is the value it really replaced. Raw SQL: a data-modifying CTE, W4's measured hot path.
 */
export async function updateDealIfUnchanged(
  db: Executor,
  current: DealRow,
  changes: DealChanges,
  effects: (updated: SQL) => SQL[],
): Promise<DealRow | undefined> {
  const update = db
    .update(deals)
    .set({ ...changes, updatedAt: sql`now()` })
    .where(
      and(
        byId(current.organizationId, current.id),
        eq(deals.status, current.status),
        eq(deals.stage, current.stage),
        eq(deals.amount, current.amount),
        eq(deals.ownerId, current.ownerId),
      ),
    )
    .returning()
  const members = effects(sql`updated`).map(
    (statement, i) => sql`, ${sql.raw(`effect${i}`)} AS (${statement})`,
  )
  const [row] = await queryRows<Record<string, unknown>>(
    db,
    sql`WITH updated AS (${update.getSQL()})${sql.join(members, sql``)} SELECT * FROM updated`,
  )
  return row && dealRowFromSql(row)
}

/** A deals row read with raw SQL (snake_case columns) in the shape drizzle returns. */
function dealRowFromSql(row: Record<string, unknown>): DealRow {
  return {
    organizationId: row.organization_id as string,
    id: row.id as string,
    contactId: row.contact_id as string,
    ownerId: row.owner_id as string,
    title: row.title as string,
    amount: String(row.amount),
    currency: row.currency as string,
    status: row.status as DealStatus,
    stage: row.stage as DealStage,
    createdAt: new Date(row.created_at as string | Date),
    updatedAt: new Date(row.updated_at as string | Date),
  }
}

export async function deleteDeal(tx: Tx, organizationId: string, id: string): Promise<void> {
  await tx.delete(deals).where(byId(organizationId, id))
}
