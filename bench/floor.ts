/**
 * The floor: a bare node:http + pg server that answers W1, W2 and W7 with the service's SQL (bench/floor-queries.ts)
 * and the same JSON, without routing framework, auth, tenant check, validation or schemas. What the service
 * spends beyond this is its own overhead. Started by bench/run.ts with DATABASE_URL and PORT.
 */
import { createServer, type ServerResponse } from 'node:http'
import pg from 'pg'
import { contactById, dealsByStatusAndMinAmount, dealsPage, type FloorQuery } from './floor-queries.js'

const API = '/api/v1'
// The service's pool size (src/db/client.ts), so both wait on the database alike.
const POOL_SIZE = 20

const databaseUrl = process.env.DATABASE_URL
const port = Number(process.env.PORT)
if (!databaseUrl || !port) throw new Error('floor needs DATABASE_URL and PORT')

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

async function page([items, count]: FloorQuery[], page: number, pageSize: number) {
  const [found, counted] = await Promise.all([rows(items as FloorQuery), rows(count as FloorQuery)])
  const total = Number(counted[0]?.count ?? 0)
  return { items: found.map(deal), total, page, page_size: pageSize, pages: Math.ceil(total / pageSize) }
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
      const offset = (pageNumber - 1) * pageSize
      const status = q.get('status')
      const queries = status
        ? dealsByStatusAndMinAmount(organizationId, status, q.get('min_amount') ?? '0', pageSize, offset)
        : dealsPage(organizationId, pageSize, offset)
      return send(res, 200, await page(queries, pageNumber, pageSize))
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
