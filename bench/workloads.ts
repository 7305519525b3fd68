import type { RequestSpec } from 'autocannon'

export const API = '/api/v1'

export interface WorkloadData {
  contactIds: string[]
  /** Deals that start in status `new`. */
  newDealIds: string[]
}

export interface Workload {
  id: string
  label: string
  kind: 'read' | 'write'
  method: 'GET' | 'POST' | 'PATCH'
  /** The OpenAPI path that must exist for the workload to run (path parameters as `{}`). */
  route: string
  /** Whether bench/floor.ts serves it (same SQL, no auth or validation). */
  floor: boolean
  /**
   * The autocannon request sequence. State (rotating ids, the W4 toggle) lives in the closure and continues
   * across warm-up and repetitions, so no id is ever reused in a way that turns a write into a no-op.
   */
  requests(data: WorkloadData): RequestSpec[]
}

const JSON_BODY = { 'content-type': 'application/json' }

function rotate<T>(values: T[]): () => T {
  if (values.length === 0) throw new Error('no seeded rows to rotate over')
  let next = 0
  return () => {
    const value = values[next % values.length] as T
    next += 1
    return value
  }
}

export const WORKLOADS: Workload[] = [
  {
    id: 'W1',
    label: 'GET /deals page 1',
    kind: 'read',
    method: 'GET',
    route: `${API}/deals`,
    floor: true,
    requests: () => [{ method: 'GET', path: `${API}/deals?page=1&page_size=20` }],
  },
  {
    id: 'W2',
    label: 'GET /contacts/{id}',
    kind: 'read',
    method: 'GET',
    route: `${API}/contacts/{}`,
    floor: true,
    requests: (data) => {
      const nextId = rotate(data.contactIds)
      return [
        {
          method: 'GET',
          setupRequest: (request) => ({ ...request, path: `${API}/contacts/${nextId()}` }),
        },
      ]
    },
  },
  {
    id: 'W3',
    label: 'POST /contacts',
    kind: 'write',
    method: 'POST',
    route: `${API}/contacts`,
    floor: false,
    requests: () => {
      let n = 0
      return [
        {
          method: 'POST',
          path: `${API}/contacts`,
          headers: JSON_BODY,
          setupRequest: (request) => {
            n += 1
            const body = { name: `Bench Contact ${n}`, email: `bench.${n}@example.com`, phone: '+1-555-0100' }
            return { ...request, body: JSON.stringify(body) }
          },
        },
      ]
    },
  },
  {
    id: 'W4',
    label: 'PATCH /deals/{id} status',
    kind: 'write',
    method: 'PATCH',
    route: `${API}/deals/{}`,
    floor: false,
    requests: (data) => {
      // Pass k over the pool sets in_progress when k is even and new when odd: each PATCH changes the status
      // (and writes its activity), and a deal is never patched twice within the same pass.
      const pool = data.newDealIds
      if (pool.length === 0) throw new Error('no deals in status new to patch')
      let n = 0
      return [
        {
          method: 'PATCH',
          headers: JSON_BODY,
          setupRequest: (request) => {
            const id = pool[n % pool.length]
            const status = Math.floor(n / pool.length) % 2 === 0 ? 'in_progress' : 'new'
            n += 1
            return { ...request, path: `${API}/deals/${id}`, body: JSON.stringify({ status }) }
          },
        },
      ]
    },
  },
  {
    id: 'W5',
    label: 'GET analytics summary',
    kind: 'read',
    method: 'GET',
    route: `${API}/analytics/deals/summary`,
    floor: false,
    requests: () => [{ method: 'GET', path: `${API}/analytics/deals/summary` }],
  },
  {
    id: 'W6',
    label: 'GET analytics funnel',
    kind: 'read',
    method: 'GET',
    route: `${API}/analytics/deals/funnel`,
    floor: false,
    requests: () => [{ method: 'GET', path: `${API}/analytics/deals/funnel` }],
  },
  {
    id: 'W7',
    label: 'GET /deals won>=100 by amount',
    kind: 'read',
    method: 'GET',
    route: `${API}/deals`,
    floor: true,
    requests: () => [
      {
        method: 'GET',
        path: `${API}/deals?status=won&min_amount=100&order_by=amount&order=desc&page_size=20`,
      },
    ],
  },
  {
    id: 'W8',
    label: 'GET /deals board column (stage, expand=contact)',
    kind: 'read',
    method: 'GET',
    route: `${API}/deals`,
    floor: true,
    requests: () => {
      // The pipeline board reads one column per stage: rotate over the four.
      const nextStage = rotate(['qualification', 'proposal', 'negotiation', 'closed'])
      return [
        {
          method: 'GET',
          setupRequest: (request) => ({
            ...request,
            path: `${API}/deals?stage=${nextStage()}&expand=contact&page_size=20`,
          }),
        },
      ]
    },
  },
  {
    id: 'W9',
    label: 'GET analytics forecast',
    kind: 'read',
    method: 'GET',
    route: `${API}/analytics/deals/forecast`,
    floor: true,
    requests: () => [{ method: 'GET', path: `${API}/analytics/deals/forecast` }],
  },
  {
    id: 'W10',
    label: 'GET analytics velocity',
    kind: 'read',
    method: 'GET',
    route: `${API}/analytics/deals/velocity`,
    floor: true,
    requests: () => [{ method: 'GET', path: `${API}/analytics/deals/velocity` }],
  },
]

/** `/api/v1/contacts/{id}` → `/api/v1/contacts/{}`, so parameter names do not matter. */
export function routeKey(path: string): string {
  return path.replace(/\{[^}]*\}/g, '{}')
}

/** Which workloads the running service serves, judged by its own /openapi.json. */
export async function availableRoutes(baseUrl: string): Promise<Set<string>> {
  const response = await fetch(`${baseUrl}/openapi.json`)
  if (!response.ok) throw new Error(`GET /openapi.json answered ${response.status}`)
  const document = (await response.json()) as { paths?: Record<string, Record<string, unknown>> }
  const routes = new Set<string>()
  for (const [path, operations] of Object.entries(document.paths ?? {})) {
    for (const method of Object.keys(operations)) routes.add(`${method.toUpperCase()} ${routeKey(path)}`)
  }
  return routes
}

export function isAvailable(workload: Workload, routes: Set<string>): boolean {
  return routes.has(`${workload.method} ${workload.route}`)
}
