/**
 * The SQL the service sends for W1, W2 and W7, word for word (as drizzle renders it), so the floor measures
 * the same database work without the framework around it. test/bench-floor.test.ts captures what the service
 * really sends and fails when this file falls behind; the harness also compares both answers before measuring.
 */
import { parseAmount } from '../src/lib/money.js'

// v1.1: the sales fields, and probability / weighted_amount computed by the database on every read.
const DEAL_COLUMNS =
  '"organization_id", "id", "contact_id", "owner_id", "title", "amount", "currency", "status", "stage", ' +
  '"created_at", "updated_at", "expected_close_date", "lost_reason", "closed_at", "stage_changed_at", ' +
  '"stage_changed_by", deal_probability("organization_id", "status", "stage") as "probability", ' +
  'round("amount" * deal_probability("deals"."organization_id", "deals"."status", "deals"."stage") / 100, 2)::text ' +
  'as "weighted_amount"'
const CONTACT_COLUMNS =
  '"organization_id", "id", "owner_id", "name", "email", "phone", "created_at", "updated_at", "company_id"'

export interface FloorQuery {
  /** Set where the service runs the statement as a named prepared statement, so the floor does too. */
  name?: string
  text: string
  values: unknown[]
}

/** `limit $n [offset $n+1]`: drizzle leaves the offset out on the first page. */
function limitOffset(values: unknown[], limit: number, offset: number): string {
  values.push(limit)
  const clause = ` limit $${values.length}`
  if (offset === 0) return clause
  values.push(offset)
  return `${clause} offset $${values.length}`
}

/** W1: `GET /deals?page=…&page_size=…` (default order created_at desc, id desc): the page and the total. */
export function dealsPage(organizationId: string, limit: number, offset: number): FloorQuery[] {
  const values: unknown[] = [organizationId]
  const page = limitOffset(values, limit, offset)
  return [
    {
      text: `select ${DEAL_COLUMNS} from "deals" where "deals"."organization_id" = $1 order by "deals"."created_at" desc, "deals"."id" desc${page}`,
      values,
    },
    { text: 'select count(*) from "deals" where "deals"."organization_id" = $1', values: [organizationId] },
  ]
}

/**
 * W7: `GET /deals?status=<one>&min_amount=…&order_by=amount&order=desc&page_size=…`. The service binds
 * min_amount in its canonical two-decimal form, so the floor does too.
 */
export function dealsByStatusAndMinAmount(
  organizationId: string,
  status: string,
  minAmount: string,
  limit: number,
  offset: number,
): FloorQuery[] {
  const amount = parseAmount(minAmount)
  const where =
    'where ("deals"."organization_id" = $1 and "deals"."status" in ($2) and "deals"."amount" >= $3)'
  const values: unknown[] = [organizationId, status, amount]
  const page = limitOffset(values, limit, offset)
  return [
    {
      text: `select ${DEAL_COLUMNS} from "deals" ${where} order by "deals"."amount" desc, "deals"."id" desc${page}`,
      values,
    },
    { text: `select count(*) from "deals" ${where}`, values: [organizationId, status, amount] },
  ]
}

/** W2: `GET /contacts/{id}` (a prepared statement in the service, see contacts/queries.ts). */
export function contactById(organizationId: string, id: string): FloorQuery {
  return {
    name: 'contacts_find_by_id',
    text: `select ${CONTACT_COLUMNS} from "contacts" where ("contacts"."organization_id" = $1 and "contacts"."id" = $2)`,
    values: [organizationId, id],
  }
}
