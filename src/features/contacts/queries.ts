import { and, eq, type Placeholder, sql } from 'drizzle-orm'
import {
  type Db,
  type Executor,
  fixedStatement,
  param,
  prepared,
  rowFromSql,
  type Tx,
  writeWithEffects,
} from '../../db/client.js'
import { contacts } from '../../db/schema.js'
import { afterContactCreateSql } from '../writes/after-write.js'

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
 * The contact create as one fixed statement (built once, prepared once per connection): the insert and its
 * after-write effects (`afterContactCreateSql`) as CTE members: atomic without a transaction, one round trip.
 */
const insertContactStatement = fixedStatement(() =>
  writeWithEffects(
    'inserted',
    sql`INSERT INTO ${contacts} (organization_id, id, owner_id, name, email, phone, company_id)
      VALUES (${param('organizationId')}::uuid, ${param('id')}::uuid, ${param('ownerId')}::uuid, ${param('name')}::text,
        ${param('email')}::text, ${param('phone')}::text, ${param('companyId')}::uuid)
      RETURNING *`,
    afterContactCreateSql,
    sql`SELECT * FROM inserted`,
  ),
)

/**
 * Inserts a contact with its after-write effects (`effects`: the values of `afterContactCreateValues`) in one
 * statement, instead of four round trips (BEGIN, INSERT, the event's INSERT, COMMIT). W3's measured hot path.
 */
export async function insertContact(
  db: Executor,
  values: typeof contacts.$inferInsert,
  effects: Record<string, unknown>,
): Promise<ContactRow> {
  const [row] = await insertContactStatement(db, {
    ...values,
    // Every placeholder needs a value: absent optional fields are inserted as NULL, their default.
    email: values.email ?? null,
    phone: values.phone ?? null,
    companyId: values.companyId ?? null,
    ...effects,
  })
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
