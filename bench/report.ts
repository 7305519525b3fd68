import type { Workload } from './workloads.js'

/** One autocannon run against one target. */
export interface RunStats {
  reqPerSec: number
  p50Ms: number
  p99Ms: number
  requests: number
  ok: number
  non2xx: number
  /** Connection errors and timeouts. */
  errors: number
  /** CPU time of the target process per answered request, in microseconds (Linux). */
  cpuUsPerRequest?: number
  statusCodes: Record<string, number>
}

/** Every run of one workload against one target: medians of the measured runs, counts over all runs. */
export interface Measured {
  runs: RunStats[]
  warmup: RunStats | undefined
  median: { reqPerSec: number; p50Ms: number; p99Ms: number; cpuUsPerRequest?: number }
  /** Non-2xx responses over every run, warm-up included. */
  non2xx: number
  errors: number
  /** The first few non-2xx answers, to say why. */
  samples: string[]
}

export interface WorkloadResult {
  id: string
  label: string
  kind: Workload['kind']
  /** Set when the workload did not run (its route is missing from the service's /openapi.json). */
  notAvailable?: string
  service?: Measured
  floor?: Measured
  /** service req/s ÷ floor req/s. */
  ratio?: number
  misses?: string[]
}

export interface ModeResult {
  database: 'postgresql' | 'pglite'
  databaseVersion: string
  seed: Record<string, unknown>
  workloads: WorkloadResult[]
  peakRssBytes: number | undefined
  rssMiss: boolean
  profileDir?: string
  /** After W4's writes, where the service's analytics differed from SQL (empty: exact and fresh). */
  analyticsAfterWrites?: string[]
  /** --webhook: the write workloads again with one webhook subscribed to everything. */
  webhookRuns?: import('./webhook.js').WebhookRun[]
}

export const TARGETS = {
  readFloorRatio: 0.6,
  readReqPerSec: 3000,
  writeReqPerSec: 1500,
  p99Ms: 50,
  rssBytes: 150 * 1024 * 1024,
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  if (sorted.length === 0) return Number.NaN
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

export function summarizeRuns(runs: RunStats[], warmup: RunStats | undefined, samples: string[]): Measured {
  const all = warmup ? [warmup, ...runs] : runs
  return {
    runs,
    warmup,
    median: {
      reqPerSec: median(runs.map((run) => run.reqPerSec)),
      p50Ms: median(runs.map((run) => run.p50Ms)),
      p99Ms: median(runs.map((run) => run.p99Ms)),
      ...(runs.every((run) => run.cpuUsPerRequest !== undefined)
        ? { cpuUsPerRequest: median(runs.map((run) => run.cpuUsPerRequest as number)) }
        : {}),
    },
    non2xx: all.reduce((sum, run) => sum + run.non2xx, 0),
    errors: all.reduce((sum, run) => sum + run.errors, 0),
    samples,
  }
}

/** The targets this workload misses (empty: all met). */
export function checkTargets(result: WorkloadResult): string[] {
  const service = result.service
  if (!service) return []
  const misses: string[] = []
  if (result.kind === 'write') {
    if (service.median.reqPerSec < TARGETS.writeReqPerSec) misses.push(`req/s < ${TARGETS.writeReqPerSec}`)
  } else if (result.ratio !== undefined) {
    if (result.ratio < TARGETS.readFloorRatio) misses.push(`ratio < ${TARGETS.readFloorRatio}`)
  } else if (service.median.reqPerSec < TARGETS.readReqPerSec) {
    misses.push(`req/s < ${TARGETS.readReqPerSec}`)
  }
  if (service.median.p99Ms > TARGETS.p99Ms) misses.push(`p99 > ${TARGETS.p99Ms}`)
  if (service.non2xx > 0) misses.push('non-2xx')
  if (service.errors > 0) misses.push('errors')
  return misses
}

export function megabytes(bytes: number | undefined): string {
  return bytes === undefined ? 'n/a' : `${(bytes / 1024 / 1024).toFixed(1)} MB`
}

function fixed(value: number | undefined, digits: number): string {
  return value === undefined || Number.isNaN(value) ? '-' : value.toFixed(digits)
}

/** The stdout table of one database mode. */
export function formatTable(mode: ModeResult, header: string): string {
  const rows: string[][] = [
    [
      'workload',
      'req/s',
      'p50 ms',
      'p99 ms',
      'cpu us/req',
      'non-2xx',
      'floor req/s',
      'floor us/req',
      'ratio',
      'target',
    ],
  ]
  for (const w of mode.workloads) {
    const name = `${w.id} ${w.label}`
    if (w.notAvailable || !w.service) {
      rows.push([
        name,
        '-',
        '-',
        '-',
        '-',
        '-',
        '-',
        '-',
        '-',
        `not available (${w.notAvailable ?? 'not run'})`,
      ])
      continue
    }
    const s = w.service
    const non2xx = s.errors > 0 ? `${s.non2xx} (+${s.errors} err)` : String(s.non2xx)
    rows.push([
      name,
      fixed(s.median.reqPerSec, 0),
      fixed(s.median.p50Ms, 1),
      fixed(s.median.p99Ms, 1),
      fixed(s.median.cpuUsPerRequest, 0),
      non2xx,
      w.floor ? fixed(w.floor.median.reqPerSec, 0) : '-',
      fixed(w.floor?.median.cpuUsPerRequest, 0),
      fixed(w.ratio, 2),
      w.misses && w.misses.length > 0 ? `MISS (${w.misses.join(', ')})` : 'PASS',
    ])
  }
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? []
  const lines = rows.map((row) =>
    row
      .map((cell, column) => {
        const width = widths[column] ?? 0
        // Text columns left-aligned, numbers right-aligned.
        return column === 0 || column === row.length - 1 ? cell.padEnd(width) : cell.padStart(width)
      })
      .join('  ')
      .trimEnd(),
  )
  const rss = `peak RSS (service, VmHWM): ${megabytes(mode.peakRssBytes)}   target <= ${megabytes(TARGETS.rssBytes)}   ${
    mode.peakRssBytes === undefined ? 'n/a' : mode.rssMiss ? 'MISS' : 'PASS'
  }`
  const floorLine = mode.workloads.some((w) => w.floor)
    ? [
        'floor: bench/floor.ts (node:http + pg, the same SQL, no auth/validation); ratio = service / floor',
        'cpu us/req: CPU time of the node process per answered request (steady whatever else loads the machine)',
      ]
    : []
  const analyticsLine =
    mode.analyticsAfterWrites === undefined
      ? []
      : [
          `analytics after W4 writes (vs SQL): ${
            mode.analyticsAfterWrites.length === 0
              ? 'exact and fresh   PASS'
              : `${mode.analyticsAfterWrites.length} differences   MISS`
          }`,
        ]
  return [header, '', ...lines, '', rss, ...analyticsLine, ...floorLine].join('\n')
}

export function targetLegend(): string {
  return (
    `targets: reads >= ${TARGETS.readFloorRatio} x floor (>= ${TARGETS.readReqPerSec} req/s without floor), ` +
    `writes >= ${TARGETS.writeReqPerSec} req/s, p99 <= ${TARGETS.p99Ms} ms, RSS <= ${megabytes(TARGETS.rssBytes)}, ` +
    'zero non-2xx'
  )
}
