/**
 * The SQL the service sends for W1, W2 and W7–W10, word for word (as drizzle renders it), so the floor measures
 * the same database work without the framework around it. test/bench-floor.test.ts captures what the service
 * really sends and fails when this file falls behind; the harness also compares both answers before measuring.
 */
import type { SQL } from 'drizzle-orm'
import { PgDialect } from 'drizzle-orm/pg-core'
import { forecastClockQuery, forecastQuery, velocityQuery } from '../src/features/analytics/queries.js'
import { parseAmount } from '../src/lib/money.js'

/**
 * The deal's probability as the service computes it for deals of one organization (src/features/pipeline/
 * probability.ts): the organization's stage probabilities read once per statement, `org` being a parameter.
 */
const probability = (org: string, status: string, stage: string) =>
  `CASE ${status} WHEN 'won' THEN 100 WHEN 'lost' THEN 0 ELSE coalesce(((SELECT jsonb_object_agg(sp.st, sp.p) ` +
  `FROM (SELECT organization_id AS org, stage AS st, probability AS p FROM pipeline_stages) sp WHERE sp.org = ${org}) ->> ${stage})::integer, ` +
  `CASE ${stage} WHEN 'qualification' THEN 10 WHEN 'proposal' THEN 30 WHEN 'negotiation' THEN 60 ELSE 90 END) END`

// v1.1: the sales fields, and probability / weighted_amount computed by the database on every read. `table` is
// '' for a select of deals alone and '"deals".' over a join, as drizzle renders them (weighted_amount's
// probability is always qualified). The organization is bound once per probability: parameters $n and $n+1.
const DEAL_FIELDS = [
  'organization_id',
  'id',
  'contact_id',
  'owner_id',
  'title',
  'amount',
  'currency',
  'status',
  'stage',
  'created_at',
  'updated_at',
  'expected_close_date',
  'lost_reason',
  'closed_at',
  'stage_changed_at',
  'stage_changed_by',
]
function dealColumns(table: '' | '"deals".', n: number): string {
  const column = (name: string) => `${table}"${name}"`
  return (
    `${DEAL_FIELDS.map(column).join(', ')}, ` +
    `${probability(`$${n}`, column('status'), column('stage'))} as "probability", ` +
    `round(${column('amount')} * ${probability(`$${n + 1}`, '"deals"."status"', '"deals"."stage"')} / 100, 2)::text ` +
    'as "weighted_amount"'
  )
}
const CONTACT_COLUMNS =
  '"organization_id", "id", "owner_id", "name", "email", "phone", "created_at", "updated_at", "company_id"'

export interface FloorQuery {
  /** Set where the service runs the statement as a named prepared statement, so the floor does too. */
  name?: string
  text: string
  values: unknown[]
}

/** `limit $n [offset $n+1]`: drizzle leaves the offset out on the first page. One row more than the page. */
function limitOffset(values: unknown[], pageSize: number, offset: number): string {
  values.push(pageSize + 1)
  const clause = ` limit $${values.length}`
  if (offset === 0) return clause
  values.push(offset)
  return `${clause} offset $${values.length}`
}

// The list's counter total and write generation as the service selects them with every page (src/lib/list.ts),
// over the organization $n and the list(s) $n+1.
const COUNTER = (n: number) => `(SELECT coalesce(sum(total), 0)::text FROM list_counts
    WHERE organization_id = $${n}::uuid AND list = $${n + 1})`
const GENERATION = (n: number) => `(SELECT coalesce(sum(writes), 0)::text FROM list_counts
    WHERE organization_id = $${n}::uuid AND list = ANY(string_to_array($${n + 1}, ',')))`

/**
 * W1: `GET /deals?page=…&page_size=…` (default order created_at desc, id desc): the page (one row more, to know
 * whether a next cursor exists) with the organization's deal counter, in one statement. Parameters in the order
 * the statement names them: the organization twice (the deals' probability), the counter's two, the filter's.
 */
export function dealsPage(organizationId: string, pageSize: number, offset: number): FloorQuery {
  const values: unknown[] = [organizationId, organizationId, organizationId, 'deals', organizationId]
  const page = limitOffset(values, pageSize, offset)
  return {
    text: `select ${dealColumns('', 1)}, ${COUNTER(3)} as "list_meta" from "deals" where "deals"."organization_id" = $5 order by "deals"."created_at" desc, "deals"."id" desc${page}`,
    values,
  }
}

/**
 * The count of a filtered list with the generation it belongs to, when none is cached for the page's generation:
 * the generation's two parameters, then the filter's (`where` over $3 on).
 */
function countWithGeneration(where: string, values: unknown[]): FloorQuery {
  return {
    text: `SELECT count(*)::int AS n, ${GENERATION(1)} AS g\n        FROM "deals" WHERE ${where}`,
    values,
  }
}

/**
 * W7: `GET /deals?status=<one>&min_amount=…&order_by=amount&order=desc&page_size=…`: the page with the deals'
 * write generation, then — when no count is cached for that generation — the count with its generation. The
 * service binds min_amount in its canonical two-decimal form, so the floor does too (`minAmount`: the cursor
 * binding takes it as well).
 */
export function dealsByStatusAndMinAmount(
  organizationId: string,
  status: string,
  minAmount: string,
  pageSize: number,
  offset: number,
): { page: FloorQuery; count: FloorQuery; minAmount: string } {
  const amount = parseAmount(minAmount)
  const where = (n: number) =>
    `("deals"."organization_id" = $${n} and "deals"."status" in ($${n + 1}) and "deals"."amount" >= $${n + 2})`
  const filter = [organizationId, status, amount]
  const values: unknown[] = [organizationId, organizationId, organizationId, 'deals', ...filter]
  const page = limitOffset(values, pageSize, offset)
  return {
    page: {
      text: `select ${dealColumns('', 1)}, ${GENERATION(3)} as "list_meta" from "deals" where ${where(5)} order by "deals"."amount" desc, "deals"."id" desc${page}`,
      values,
    },
    count: countWithGeneration(where(3), [organizationId, 'deals', ...filter]),
    minAmount: amount,
  }
}

/**
 * W8: `GET /deals?stage=<one>&expand=contact&page_size=…` (a pipeline board column, default order): the page
 * joined to its contacts in one query, with the deals' write generation, then — when no count is cached for that
 * generation — the count with its generation. Same shape as W7.
 */
export function dealsBoardColumn(
  organizationId: string,
  stage: string,
  pageSize: number,
  offset: number,
): { page: FloorQuery; count: FloorQuery } {
  const where = (n: number) => `("deals"."organization_id" = $${n} and "deals"."stage" in ($${n + 1}))`
  const filter = [organizationId, stage]
  const values: unknown[] = [organizationId, organizationId, organizationId, 'deals', ...filter]
  const page = limitOffset(values, pageSize, offset)
  return {
    page: {
      text:
        `select ${dealColumns('"deals".', 1)}, "contacts"."id", "contacts"."name", "contacts"."email", "contacts"."company_id", ${GENERATION(3)} as "list_meta" ` +
        'from "deals" inner join "contacts" on ("contacts"."organization_id" = "deals"."organization_id" and "contacts"."id" = "deals"."contact_id") ' +
        `where ${where(5)} order by "deals"."created_at" desc, "deals"."id" desc${page}`,
      values,
    },
    count: countWithGeneration(where(3), [organizationId, 'deals', ...filter]),
  }
}

/** W9/W5/W6: the organization's analytics generation and default currency (a prepared statement in the service). */
export function analyticsState(organizationId: string): FloorQuery {
  return {
    name: 'analytics_state',
    text:
      'select (coalesce(sum("generation"), 0) + (SELECT coalesce(sum("writes"), 0)\n' +
      '          FROM "list_counts" WHERE "organization_id" = $1\n' +
      `          AND "list" = 'deals'))::text, (SELECT "default_currency" FROM "organizations"\n` +
      '          WHERE "id" = $2) from "analytics_generations" where "analytics_generations"."organization_id" = $3',
    values: [organizationId, organizationId, organizationId],
  }
}

// W9 and W10 run the service's own analytics statements (src/features/analytics/queries.ts), rendered by the
// same dialect: a copy of their ~80 lines here would only drift. Rendering happens once per shape in the floor.
const dialect = new PgDialect()
const rendered = (query: SQL): FloorQuery => {
  const { sql: text, params } = dialect.sqlToQuery(query)
  return { text, values: params }
}

/**
 * W9: `GET /analytics/deals/forecast` computed (the service runs this on a cache miss): the buckets and the UTC
 * month with the time left in it (the entry's expiry).
 */
export function forecastQueries(organizationId: string, currency: string, months: number) {
  return {
    buckets: rendered(forecastQuery(organizationId, currency, months)),
    clock: rendered(forecastClockQuery()),
  }
}

/** W10: `GET /analytics/deals/velocity` (never cached: its window moves with time). */
export function velocityQueryOf(organizationId: string, days: number): FloorQuery {
  return rendered(velocityQuery(organizationId, days))
}

/** W2: `GET /contacts/{id}` (a prepared statement in the service, see contacts/queries.ts). */
export function contactById(organizationId: string, id: string): FloorQuery {
  return {
    name: 'contacts_find_by_id',
    text: `select ${CONTACT_COLUMNS} from "contacts" where ("contacts"."organization_id" = $1 and "contacts"."id" = $2)`,
    values: [organizationId, id],
  }
}
