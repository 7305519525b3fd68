/**
 * The floor: a bare node:http + pg server that answers the plain reads (W1, W2, W7, W8, W9, W10) with the
 * service's SQL (bench/floor-queries.ts) and the same JSON, without routing framework, auth, tenant check,
 * validation or schemas. What the service spends beyond this is its own overhead. Started by bench/run.ts with
 * DATABASE_URL and PORT.
 */
import { createServer, type ServerResponse } from 'node:http'
import pg from 'pg'
import { statementName } from '../src/db/client.js'
import { dealForecast, dealVelocity } from '../src/features/analytics/metrics.js'
import type { ForecastRow, VelocityRow } from '../src/features/analytics/queries.js'
import { cursorBinding, cursorCodec } from '../src/lib/cursor.js'
import {
  analyticsState,
  contactById,
  dealsBoardColumn,
  dealsByStatusAndMinAmount,
  dealsPage,
  type FloorQuery,
  forecastQueries,
  velocityQueryOf,
} from './floor-queries.js'

const API = '/api/v1'
// The service's pool size (src/db/client.ts), so both wait on the database alike.
const POOL_SIZE = 20

const databaseUrl = process.env.DATABASE_URL
const port = Number(process.env.PORT)
const secretKey = process.env.SECRET_KEY
if (!databaseUrl || !port || !secretKey) throw new Error('floor needs DATABASE_URL, PORT and SECRET_KEY')

// DATE stays `YYYY-MM-DD`, as in the service (src/db/client.ts). Timestamps are parsed as drizzle parses them
// in the service (`new Date` of the text): pg's own parser takes about three times as long.
pg.types.setTypeParser(pg.types.builtins.DATE, (value) => value)
pg.types.setTypeParser(pg.types.builtins.TIMESTAMPTZ, (value) => new Date(value))
const pool = new pg.Pool({
  connectionString: databaseUrl,
  max: POOL_SIZE,
  application_name: 'mini-crm-floor',
})
pool.on('error', () => {})

type Row = Record<string, unknown>

// Like the service, every statement with parameters is prepared once per connection, under the same name.
const nameOf = (query: FloorQuery) =>
  query.name ?? (query.values.length > 0 ? statementName(query.text) : undefined)

async function rows(query: FloorQuery): Promise<Row[]> {
  return (await pool.query({ name: nameOf(query), text: query.text, values: query.values })).rows as Row[]
}

/** Rows as arrays and their column names, as drizzle reads a join (its two `id` columns would collide in an object). */
async function arrays(query: FloorQuery): Promise<{ rows: unknown[][]; names: string[] }> {
  const result = await pool.query({
    name: nameOf(query),
    text: query.text,
    values: query.values,
    rowMode: 'array',
  })
  return { rows: result.rows as unknown[][], names: result.fields.map((field) => field.name) }
}

const iso = (value: unknown) => (value as Date).toISOString()

function deal(row: Row) {
  return {
    id: row.id,
    organization_id: row.organization_id,
    contact_id: row.contact_id,
    owner_id: row.owner_id,
    title: row.title,
    amount: row.amount,
    currency: row.currency,
    status: row.status,
    stage: row.stage,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
    expected_close_date: row.expected_close_date ?? null,
    lost_reason: row.lost_reason ?? null,
    probability: Number(row.probability),
    weighted_amount: row.weighted_amount,
    closed_at: row.closed_at ? iso(row.closed_at) : null,
    stage_changed_at: iso(row.stage_changed_at),
  }
}

/** The board column's rows: the deal's columns, then its contact's (`expand=contact`); names looked up once. */
function dealsWithContacts({ rows: found, names }: { rows: unknown[][]; names: string[] }) {
  const contactFrom = names.indexOf('id', names.indexOf('id') + 1)
  const dealNames = names.slice(0, contactFrom)
  const at = (name: string) => contactFrom + names.slice(contactFrom).indexOf(name)
  const [id, name, email, companyId] = [at('id'), at('name'), at('email'), at('company_id')]
  return found.map((row) => {
    const dealRow: Row = {}
    for (let i = 0; i < dealNames.length; i++) dealRow[dealNames[i] as string] = row[i]
    const body = deal(dealRow) as ReturnType<typeof deal> & { contact?: unknown }
    body.contact = { id: row[id], name: row[name], email: row[email], company_id: row[companyId] ?? null }
    return body
  })
}

function contact(row: Row) {
  return {
    id: row.id,
    organization_id: row.organization_id,
    owner_id: row.owner_id,
    name: row.name,
    email: row.email,
    phone: row.phone,
    company_id: row.company_id ?? null,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  }
}

// The service's cursor key and filtered-count cache, so the floor answers the same JSON with the same SQL.
const codec = cursorCodec(secretKey)
const counts = new Map<string, number>()

function pageOf(
  found: ReturnType<typeof deal>[],
  total: number,
  page: number,
  pageSize: number,
  binding: string,
  sortKey: string,
) {
  const more = found.length > pageSize
  const items = more ? found.slice(0, pageSize) : found
  const last = items[items.length - 1]
  return {
    items,
    total,
    page,
    page_size: pageSize,
    pages: Math.ceil(total / pageSize),
    next_cursor:
      more && last
        ? codec.encode(binding, [last[sortKey as keyof typeof last] as string, last.id as string])
        : null,
  }
}

const W1_BINDING = cursorBinding('deals', { order_by: 'created_at', order: 'desc' })

async function dealsW1(organizationId: string, page: number, pageSize: number) {
  const found = await rows(dealsPage(organizationId, pageSize, (page - 1) * pageSize))
  return pageOf(found.map(deal), Number(found[0]?.list_meta ?? 0), page, pageSize, W1_BINDING, 'created_at')
}

async function dealsW7(
  organizationId: string,
  status: string,
  minAmount: string,
  page: number,
  pageSize: number,
) {
  const queries = dealsByStatusAndMinAmount(
    organizationId,
    status,
    minAmount,
    pageSize,
    (page - 1) * pageSize,
  )
  const filters = { status: [status], min_amount: queries.minAmount }
  const binding = cursorBinding('deals', { ...filters, order_by: 'amount', order: 'desc' })
  const found = await rows(queries.page)
  const total = await cachedCount(organizationId, filters, found[0]?.list_meta, queries.count)
  return pageOf(found.map(deal), total, page, pageSize, binding, 'amount')
}

/**
 * The filtered count as the service keeps it: per filters and the write generation its page carried, counted
 * when missing. (The bench's pages are never empty, where the service reads the generation alone.)
 */
async function cachedCount(
  organizationId: string,
  filters: Record<string, unknown>,
  generation: unknown,
  countQuery: FloorQuery,
): Promise<number> {
  const cached = counts.get(`${organizationId}|${cursorBinding('deals:count', filters)}|${generation}`)
  if (cached !== undefined) return cached
  const [counted] = await rows(countQuery)
  const total = Number(counted?.n ?? 0)
  counts.set(`${organizationId}|${cursorBinding('deals:count', filters)}|${counted?.g}`, total)
  return total
}

async function dealsW8(organizationId: string, stage: string, page: number, pageSize: number) {
  const queries = dealsBoardColumn(organizationId, stage, pageSize, (page - 1) * pageSize)
  const filters = { stage: [stage] }
  const binding = cursorBinding('deals', { ...filters, order_by: 'created_at', order: 'desc' })
  const found = await arrays(queries.page)
  const generation = found.rows[0]?.[found.names.indexOf('list_meta')]
  const total = await cachedCount(organizationId, filters, generation, queries.count)
  return pageOf(dealsWithContacts(found), total, page, pageSize, binding, 'created_at')
}

// The service's analytics cache, reduced to what W9 needs: an entry per organization, generation and request,
// kept until the UTC month turns (the forecast's buckets move then).
const forecasts = new Map<string, { body: unknown; expiresAt: number }>()

async function forecastW9(organizationId: string, months: number) {
  const [[generation, defaultCurrency] = []] = (await arrays(analyticsState(organizationId))).rows
  const currency = String(defaultCurrency ?? 'USD')
  const key = `${organizationId}|${generation}|forecast:${months}:${currency}`
  const cached = forecasts.get(key)
  if (cached && cached.expiresAt > Date.now()) return cached.body
  const queries = forecastQueries(organizationId, currency, months)
  const [buckets, [clock]] = await Promise.all([rows(queries.buckets), rows(queries.clock)])
  const forecastRows = buckets.map((row) => ({ ...row, count: Number(row.count) }) as unknown as ForecastRow)
  const body = dealForecast(forecastRows, currency, String(clock?.first_month), months)
  forecasts.set(key, { body, expiresAt: Date.now() + Number(clock?.next_month_in_ms ?? 0) })
  return body
}

async function velocityW10(organizationId: string, days: number) {
  const found = await rows(velocityQueryOf(organizationId, days))
  return dealVelocity(
    found.map((row) => ({ ...row, exits: Number(row.exits) }) as unknown as VelocityRow),
    days,
  )
}

function send(res: ServerResponse, status: number, body: unknown) {
  const json = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(json),
  })
  res.end(json)
}

const server = createServer(async (req, res) => {
  try {
    const url = new URL(req.url ?? '/', 'http://floor')
    const organizationId = String(req.headers['x-organization-id'])
    if (url.pathname === '/ready') {
      await pool.query('SELECT 1')
      return send(res, 200, { status: 'ready' })
    }
    if (url.pathname === `${API}/deals`) {
      const q = url.searchParams
      const pageNumber = Number(q.get('page') ?? 1)
      const pageSize = Number(q.get('page_size') ?? 20)
      const status = q.get('status')
      const stage = q.get('stage')
      const body = status
        ? await dealsW7(organizationId, status, q.get('min_amount') ?? '0', pageNumber, pageSize)
        : stage
          ? await dealsW8(organizationId, stage, pageNumber, pageSize)
          : await dealsW1(organizationId, pageNumber, pageSize)
      return send(res, 200, body)
    }
    if (url.pathname === `${API}/analytics/deals/forecast`) {
      return send(res, 200, await forecastW9(organizationId, Number(url.searchParams.get('months') ?? 6)))
    }
    if (url.pathname === `${API}/analytics/deals/velocity`) {
      return send(res, 200, await velocityW10(organizationId, Number(url.searchParams.get('days') ?? 90)))
    }
    const contactPath = /^\/api\/v1\/contacts\/([^/]+)$/.exec(url.pathname)
    if (contactPath?.[1]) {
      const [row] = await rows(contactById(organizationId, contactPath[1]))
      return row ? send(res, 200, contact(row)) : send(res, 404, { code: 'NOT_FOUND' })
    }
    send(res, 404, { code: 'NOT_FOUND' })
  } catch (error) {
    console.error(error)
    send(res, 500, { code: 'INTERNAL_ERROR' })
  }
})
server.keepAliveTimeout = 72_000

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server.close()
    server.closeAllConnections()
    void pool.end().finally(() => process.exit(0))
  })
}

server.listen(port, '127.0.0.1')
