/**
 * The SQL the service sends for W1, W2 and W7, word for word (as drizzle renders it), so the floor measures
 * the same database work without the framework around it. test/bench-floor.test.ts captures what the service
 * really sends and fails when this file falls behind; the harness also compares both answers before measuring.
 */

const DEAL_COLUMNS =
  '"organization_id", "id", "contact_id", "owner_id", "title", "amount", "currency", "status", "stage", ' +
  '"created_at", "updated_at"'
const CONTACT_COLUMNS =
  '"organization_id", "id", "owner_id", "name", "email", "phone", "created_at", "updated_at"'

export interface FloorQuery {
  text: string
  values: unknown[]
}

/** W1: `GET /deals?page=…&page_size=…` (default order created_at desc, id desc): the page and the total. */
export function dealsPage(organizationId: string, limit: number, offset: number): FloorQuery[] {
  return [
    {
      text: `select ${DEAL_COLUMNS} from "deals" where "deals"."organization_id" = $1 order by "deals"."created_at" desc, "deals"."id" desc limit $2 offset $3`,
      values: [organizationId, limit, offset],
    },
    { text: 'select count(*) from "deals" where "deals"."organization_id" = $1', values: [organizationId] },
  ]
}

/** W7: `GET /deals?status=<one>&min_amount=…&order_by=amount&order=desc&page_size=…`. */
export function dealsByStatusAndMinAmount(
  organizationId: string,
  status: string,
  minAmount: string,
  limit: number,
  offset: number,
): FloorQuery[] {
  const where =
    'where ("deals"."organization_id" = $1 and "deals"."status" in ($2) and "deals"."amount" >= $3)'
  return [
    {
      text: `select ${DEAL_COLUMNS} from "deals" ${where} order by "deals"."amount" desc, "deals"."id" desc limit $4 offset $5`,
      values: [organizationId, status, minAmount, limit, offset],
    },
    { text: `select count(*) from "deals" ${where}`, values: [organizationId, status, minAmount] },
  ]
}

/** W2: `GET /contacts/{id}`. */
export function contactById(organizationId: string, id: string): FloorQuery {
  return {
    text: `select ${CONTACT_COLUMNS} from "contacts" where ("contacts"."organization_id" = $1 and "contacts"."id" = $2)`,
    values: [organizationId, id],
  }
}
