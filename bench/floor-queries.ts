/**
 * The SQL the service sends for W1, W2 and W7–W10, word for word (as drizzle renders it), so the floor measures
 * the same database work without the framework around it. test/bench-floor.test.ts captures what the service
 * really sends and fails when this file falls behind; the harness also compares both answers before measuring.
 */
import type { SQL } from 'drizzle-orm'
import { PgDialect } from 'drizzle-orm/pg-core'
import { forecastClockQuery, forecastQuery, velocityQuery } from '../src/features/analytics/queries.js'
import { parseAmount } from '../src/lib/money.js'

/** The deal's probability as the service inlines it (src/features/pipeline/probability.ts). */
const probability = (org: string, status: string, stage: string) =>
  `CASE ${status} WHEN 'won' THEN 100 WHEN 'lost' THEN 0 ELSE coalesce((SELECT sp.p FROM (SELECT organization_id AS org, ` +
  `stage AS st, probability::integer AS p FROM pipeline_stages) sp WHERE sp.org = ${org} AND sp.st = ${stage}), ` +
  `CASE ${stage} WHEN 'qualification' THEN 10 WHEN 'proposal' THEN 30 WHEN 'negotiation' THEN 60 ELSE 90 END) END`

// v1.1: the sales fields, and probability / weighted_amount computed by the database on every read. `table` is
// '' for a select of deals alone and '"deals".' over a join, as drizzle renders them (weighted_amount's
// probability is always qualified).
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
function dealColumns(table: '' | '"deals".'): string {
  const column = (name: string) => `${table}"${name}"`
  return (
    `${DEAL_FIELDS.map(column).join(', ')}, ` +
    `${probability(column('organization_id'), column('status'), column('stage'))} as "probability", ` +
    `round(${column('amount')} * ${probability('"deals"."organization_id"', '"deals"."status"', '"deals"."stage"')} / 100, 2)::text ` +
    'as "weighted_amount"'
  )
}
const DEAL_COLUMNS = dealColumns('')
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

const GENERATION = `(SELECT coalesce(sum(writes), 0)::text FROM list_counts
    WHERE organization_id = $1::uuid AND list = ANY(string_to_array($2, ','))) AS g`

/**
 * W1: `GET /deals?page=…&page_size=…` (default order created_at desc, id desc): the page (one row more, to know
 * whether a next cursor exists) and the organization's deal counter.
 */
export function dealsPage(organizationId: string, pageSize: number, offset: number): FloorQuery[] {
  const values: unknown[] = [organizationId]
  const page = limitOffset(values, pageSize, offset)
  return [
    {
      text: `select ${DEAL_COLUMNS} from "deals" where "deals"."organization_id" = $1 order by "deals"."created_at" desc, "deals"."id" desc${page}`,
      values,
    },
    {
      text: 'SELECT coalesce(sum(total), 0) AS total FROM list_counts\n    WHERE organization_id = $1::uuid AND list = $2',
      values: [organizationId, 'deals'],
    },
  ]
}

/**
 * W7: `GET /deals?status=<one>&min_amount=…&order_by=amount&order=desc&page_size=…`: the page, the deals' write
 * generation, and — when no count is cached for that generation — the count with its generation. The service
 * binds min_amount in its canonical two-decimal form, so the floor does too.
 */
export function dealsByStatusAndMinAmount(
  organizationId: string,
  status: string,
  minAmount: string,
  pageSize: number,
  offset: number,
): { page: FloorQuery; generation: FloorQuery; count: FloorQuery } {
  const amount = parseAmount(minAmount)
  const where = '("deals"."organization_id" = $1 and "deals"."status" in ($2) and "deals"."amount" >= $3)'
  const values: unknown[] = [organizationId, status, amount]
  const page = limitOffset(values, pageSize, offset)
  return {
    page: {
      text: `select ${DEAL_COLUMNS} from "deals" where ${where} order by "deals"."amount" desc, "deals"."id" desc${page}`,
      values,
    },
    generation: { text: `SELECT ${GENERATION}`, values: [organizationId, 'deals'] },
    count: {
      text: `SELECT count(*)::int AS n, ${GENERATION}\n        FROM "deals" WHERE ("deals"."organization_id" = $3 and "deals"."status" in ($4) and "deals"."amount" >= $5)`,
      values: [organizationId, 'deals', organizationId, status, amount],
    },
  }
}

/**
 * W8: `GET /deals?stage=<one>&expand=contact&page_size=…` (a pipeline board column, default order): the page
 * joined to its contacts in one query, the deals' write generation, and — when no count is cached for that
 * generation — the count with its generation. Same shape as W7.
 */
export function dealsBoardColumn(
  organizationId: string,
  stage: string,
  pageSize: number,
  offset: number,
): { page: FloorQuery; generation: FloorQuery; count: FloorQuery } {
  const values: unknown[] = [organizationId, stage]
  const page = limitOffset(values, pageSize, offset)
  return {
    page: {
      text:
        `select ${dealColumns('"deals".')}, "contacts"."id", "contacts"."name", "contacts"."email", "contacts"."company_id" ` +
        'from "deals" inner join "contacts" on ("contacts"."organization_id" = "deals"."organization_id" and "contacts"."id" = "deals"."contact_id") ' +
        `where ("deals"."organization_id" = $1 and "deals"."stage" in ($2)) order by "deals"."created_at" desc, "deals"."id" desc${page}`,
      values,
    },
    generation: { text: `SELECT ${GENERATION}`, values: [organizationId, 'deals'] },
    count: {
      text: `SELECT count(*)::int AS n, ${GENERATION}\n        FROM "deals" WHERE ("deals"."organization_id" = $3 and "deals"."stage" in ($4))`,
      values: [organizationId, 'deals', organizationId, stage],
    },
  }
}

/** W9/W5/W6: the organization's analytics generation and default currency (a prepared statement in the service). */
export function analyticsState(organizationId: string): FloorQuery {
  return {
    name: 'analytics_state',
    text:
      'select coalesce(sum("generation"), 0)::text, (SELECT "default_currency" FROM "organizations"\n' +
      '          WHERE "id" = $1) from "analytics_generations" where "analytics_generations"."organization_id" = $2',
    values: [organizationId, organizationId],
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
