/**
 * The floor: a bare node:http + pg server that answers W1, W2 and W7 with the service's SQL (bench/floor-queries.ts)
 * and the same JSON, without routing framework, auth, tenant check, validation or schemas. What the service
 * spends beyond this is its own overhead. Started by bench/run.ts with DATABASE_URL and PORT.
 */
import { createServer, type ServerResponse } from 'node:http'
import pg from 'pg'
import { cursorBinding, cursorCodec } from '../src/lib/cursor.js'
import { contactById, dealsByStatusAndMinAmount, dealsPage, type FloorQuery } from './floor-queries.js'

const API = '/api/v1'
// The service's pool size (src/db/client.ts), so both wait on the database alike.
const POOL_SIZE = 20

const databaseUrl = process.env.DATABASE_URL
const port = Number(process.env.PORT)
const secretKey = process.env.SECRET_KEY
if (!databaseUrl || !port || !secretKey) throw new Error('floor needs DATABASE_URL, PORT and SECRET_KEY')

// DATE stays `YYYY-MM-DD`, as in the service (src/db/client.ts).
pg.types.setTypeParser(pg.types.builtins.DATE, (value) => value)
const pool = new pg.Pool({
  connectionString: databaseUrl,
  max: POOL_SIZE,
  application_name: 'mini-crm-floor',
})
pool.on('error', () => {})

type Row = Record<string, unknown>

async function rows(query: FloorQuery): Promise<Row[]> {
  return (await pool.query({ name: query.name, text: query.text, values: query.values })).rows as Row[]
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
  found: Row[],
  total: number,
  page: number,
  pageSize: number,
  binding: string,
  sortKey: string,
) {
  const more = found.length > pageSize
  const items = (more ? found.slice(0, pageSize) : found).map(deal)
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
  const [items, count] = dealsPage(organizationId, pageSize, (page - 1) * pageSize) as [
    FloorQuery,
    FloorQuery,
  ]
  const [found, counted] = await Promise.all([rows(items), rows(count)])
  return pageOf(found, Number(counted[0]?.total ?? 0), page, pageSize, W1_BINDING, 'created_at')
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
  const amount = queries.page.values[2] as string
  const filters = { status: [status], min_amount: amount }
  const binding = cursorBinding('deals', { ...filters, order_by: 'amount', order: 'desc' })
  const [found, generation] = await Promise.all([rows(queries.page), rows(queries.generation)])
  const key = `${organizationId}|${cursorBinding('deals:count', filters)}|${generation[0]?.g}`
  let total = counts.get(key)
  if (total === undefined) {
    const [counted] = await rows(queries.count)
    total = Number(counted?.n ?? 0)
    counts.set(`${organizationId}|${cursorBinding('deals:count', filters)}|${counted?.g}`, total)
  }
  return pageOf(found, total, page, pageSize, binding, 'amount')
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
      const body = status
        ? await dealsW7(organizationId, status, q.get('min_amount') ?? '0', pageNumber, pageSize)
        : await dealsW1(organizationId, pageNumber, pageSize)
      return send(res, 200, body)
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
