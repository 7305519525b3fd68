import { timingSafeEqual } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import { AppError } from './errors.js'

/** Requests that matched no route share one label, so scanners cannot grow the series without bound. */
export const UNMATCHED_ROUTE = 'unmatched'
export const METRICS_PATH = '/metrics'

/**
 * `GET /metrics` in the Prometheus text format (prom-client), one registry per app so tests and several apps in
 * one process never mix their series:
 * - `http_requests_total` and `http_request_duration_seconds` by method, route PATTERN (never the raw URL:
 *   ids would make a series per record) and status code;
 * - `db_pool_connections{state}` (in_use, idle, waiting) on PostgreSQL;
 * - `analytics_cache_lookups_total{result}` and `analytics_cache_hit_ratio`;
 * - Node's defaults, among them `nodejs_eventloop_lag_seconds` and its percentiles, heap and CPU.
 * Public unless `METRICS_TOKEN` is set (then `Authorization: Bearer <METRICS_TOKEN>`); off with
 * `METRICS_ENABLED=false`.
 */
export async function registerMetrics(app: FastifyInstance): Promise<void> {
  const { enabled, token } = app.config.metrics
  if (!enabled) return
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })

  const labelNames = ['method', 'route', 'status_code'] as const
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status code',
    labelNames,
    registers: [registry],
  })
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to answer HTTP requests, by method, route pattern and status code',
    labelNames,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  })
  app.addHook('onResponse', async (request, reply) => {
    const labels = {
      method: request.method,
      route: request.routeOptions.url ?? UNMATCHED_ROUTE,
      status_code: String(reply.statusCode),
    }
    requests.inc(labels)
    duration.observe(labels, reply.elapsedTime / 1000)
  })

  const { db, analyticsCache } = app
  if (db.poolStats) {
    const poolStats = db.poolStats.bind(db)
    new Gauge({
      name: 'db_pool_connections',
      help: 'PostgreSQL pool connections: in_use (checked out), idle, and waiting (requests queued for one)',
      labelNames: ['state'],
      registers: [registry],
      collect() {
        const { total, idle, waiting } = poolStats()
        this.set({ state: 'in_use' }, total - idle)
        this.set({ state: 'idle' }, idle)
        this.set({ state: 'waiting' }, waiting)
      },
    })
  }
  new Counter({
    name: 'analytics_cache_lookups_total',
    help: 'Analytics cache lookups: hit, miss (computed and stored), bypassed (cache unavailable, computed)',
    labelNames: ['result'],
    registers: [registry],
    collect() {
      const stats = analyticsCache.stats()
      this.reset()
      this.inc({ result: 'hit' }, stats.hits)
      this.inc({ result: 'miss' }, stats.misses)
      this.inc({ result: 'bypassed' }, stats.bypassed)
    },
  })
  new Gauge({
    name: 'analytics_cache_hit_ratio',
    help: 'Share of analytics lookups served from the cache since start (0 before any lookup)',
    registers: [registry],
    collect() {
      const { hits, misses, bypassed } = analyticsCache.stats()
      const total = hits + misses + bypassed
      this.set(total === 0 ? 0 : hits / total)
    },
  })

  const expected = token === undefined ? undefined : Buffer.from(`Bearer ${token}`)
  app.get(METRICS_PATH, { schema: { hide: true }, config: { public: true } }, async (request, reply) => {
    if (expected) {
      const given = Buffer.from(request.headers.authorization ?? '')
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        throw new AppError('UNAUTHORIZED', 'Metrics need Authorization: Bearer <METRICS_TOKEN>')
      }
    }
    return reply.type(registry.contentType).send(await registry.metrics())
  })
}
