import { and, eq, type Placeholder, type SQL, sql } from 'drizzle-orm'
import {
  type Db,
  type Executor,
  prepared,
  queryRows,
  rowFromSql,
  type Tx,
  writeWithEffects,
} from '../../db/client.js'
import { contacts } from '../../db/schema.js'

export type ContactRow = typeof contacts.$inferSelect

function byId(organizationId: string | Placeholder, id: string | Placeholder) {
  return and(eq(contacts.organizationId, organizationId), eq(contacts.id, id))
}

export async function findContact(db: Db, organizationId: string, id: string) {
  const statement = prepared(db, 'contacts_find_by_id', (database) =>
    database
      .select()
      .from(contacts)
      .where(byId(sql.placeholder('organizationId'), sql.placeholder('id')))
      .prepare('contacts_find_by_id'),
  )
  const [row] = await statement.execute({ organizationId, id })
  return row
}

/**
 * Reads the contact and locks it until the transaction ends, so its owner cannot change meanwhile. NO KEY UPDATE
 * still lets deals be created on the contact meanwhile; a delete upgrades the lock (and the FK decides).
 */
export async function lockContact(tx: Tx, organizationId: string, id: string) {
  const [row] = await tx.select().from(contacts).where(byId(organizationId, id)).for('no key update')
  return row
}

/**
 * Inserts a contact and runs `effects` (data-modifying CTE members over `inserted`, the inserted row: its
 * after-write effects) in the same statement: atomic without a transaction, and one round trip instead of four
 * (BEGIN, INSERT, the event's INSERT, COMMIT). Raw SQL: a data-modifying CTE, W3's measured hot path.
 */
export async function insertContact(
  db: Executor,
  values: typeof contacts.$inferInsert,
  effects: (inserted: SQL) => SQL[],
): Promise<ContactRow> {
  const insert = db.insert(contacts).values(values).returning()
  const [row] = await queryRows<Record<string, unknown>>(
    db,
    writeWithEffects('inserted', insert.getSQL(), effects, sql`SELECT * FROM inserted`),
  )
  return rowFromSql(contacts, row as Record<string, unknown>)
}

export type ContactChanges = Partial<Pick<ContactRow, 'name' | 'email' | 'phone' | 'ownerId' | 'companyId'>>

export async function updateContact(tx: Tx, organizationId: string, id: string, changes: ContactChanges) {
  const [row] = await tx
    .update(contacts)
    .set({ ...changes, updatedAt: sql`now()` })
    .where(byId(organizationId, id))
    .returning()
  return row as ContactRow
}

export async function deleteContact(tx: Tx, organizationId: string, id: string): Promise<void> {
  await tx.delete(contacts).where(byId(organizationId, id))
}
