import { and, eq, inArray, sql } from 'drizzle-orm'
import type { Executor, Tx } from '../../db/client.js'
import { companies } from '../../db/schema.js'
import { isoTimestamp } from '../../lib/dates.js'

export type CompanyRow = typeof companies.$inferSelect

export function companyBody(row: CompanyRow) {
  return {
    id: row.id,
    organization_id: row.organizationId,
    owner_id: row.ownerId,
    name: row.name,
    domain: row.domain,
    created_at: isoTimestamp(row.createdAt),
    updated_at: isoTimestamp(row.updatedAt),
  }
}

function byId(organizationId: string, id: string) {
  return and(eq(companies.organizationId, organizationId), eq(companies.id, id))
}

export async function findCompany(db: Executor, organizationId: string, id: string) {
  const [row] = await db.select().from(companies).where(byId(organizationId, id))
  return row
}

/** Reads and locks the company (its owner cannot change meanwhile); contacts may still link to it. */
export async function lockCompany(tx: Tx, organizationId: string, id: string) {
  const [row] = await tx.select().from(companies).where(byId(organizationId, id)).for('no key update')
  return row
}

export async function insertCompany(db: Executor, values: typeof companies.$inferInsert) {
  const [row] = await db.insert(companies).values(values).returning()
  return row as CompanyRow
}

/**
 * Inserts many companies at once (the import); a company whose domain another company of the organization has
 * (also one inserted concurrently) is skipped, not an error: the rows returned are those written.
 */
export async function insertCompanies(tx: Tx, values: (typeof companies.$inferInsert)[]) {
  return tx.insert(companies).values(values).onConflictDoNothing().returning()
}

/** The organization's companies with one of these (normalized) domains. */
export async function companiesWithDomains(db: Executor, organizationId: string, domains: string[]) {
  return db
    .select()
    .from(companies)
    .where(and(eq(companies.organizationId, organizationId), inArray(companies.domain, domains)))
}

export type CompanyChanges = Partial<Pick<CompanyRow, 'name' | 'domain' | 'ownerId'>>

export async function updateCompany(tx: Tx, organizationId: string, id: string, changes: CompanyChanges) {
  const [row] = await tx
    .update(companies)
    .set({ ...changes, updatedAt: sql`now()` })
    .where(byId(organizationId, id))
    .returning()
  return row as CompanyRow
}

export async function deleteCompany(tx: Tx, organizationId: string, id: string): Promise<void> {
  await tx.delete(companies).where(byId(organizationId, id))
}
