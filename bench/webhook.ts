/**
 * `npm run bench -- --webhook`: the write workloads again with one webhook subscribed to every event and a
 * local receiver (node:http in the bench process, answering 204), to show what the outbox and its delivery
 * cost the writes, and how long an event takes from its commit to the receiver.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface WebhookReceiver {
  url: string
  received: number
  /** Event timestamp (its commit) → arrival, per delivery, in ms. */
  latencies: number[]
  lastAt: number
  reset(): void
  close(): Promise<void>
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const state: WebhookReceiver = {
    url: '',
    received: 0,
    latencies: [],
    lastAt: 0,
    reset() {
      state.received = 0
      state.latencies = []
    },
    close: async () => {},
  }
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const now = Date.now()
      try {
        const event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { timestamp: string }
        state.latencies.push(now - Date.parse(event.timestamp))
      } catch {
        // counted, not timed
      }
      state.received += 1
      state.lastAt = now
      response.writeHead(204).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/bench-hook`
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  return state
}

export async function subscribeWebhook(apiBase: string, headers: Record<string, string>, url: string) {
  const response = await fetch(`${apiBase}/webhooks`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ url, events: ['*'], description: 'bench' }),
  })
  if (response.status !== 201)
    throw new Error(`POST /webhooks answered ${response.status}: ${await response.text()}`)
}

/** Waits until the receiver has heard nothing for `quietMs` (the dispatcher caught up), at most `maxMs`. */
export async function drained(receiver: WebhookReceiver, quietMs = 1_500, maxMs = 120_000): Promise<void> {
  const started = Date.now()
  while (Date.now() - started < maxMs) {
    if (receiver.received > 0 && Date.now() - receiver.lastAt >= quietMs) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number
}

export interface WebhookRun {
  id: string
  label: string
  reqPerSec: number
  baselineReqPerSec: number
  ratio: number
  deliveries: number
  latencyP50Ms: number | null
  latencyP99Ms: number | null
}

export function formatWebhookRuns(database: string, runs: WebhookRun[]): string {
  const lines = [
    `${database}, with one webhook subscribed to every event (local receiver):`,
    '| workload | req/s without | req/s with | kept | deliveries | event→delivery p50 | p99 |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ]
  for (const run of runs) {
    lines.push(
      `| ${run.id} ${run.label} | ${run.baselineReqPerSec.toFixed(0)} | ${run.reqPerSec.toFixed(0)} | ` +
        `${(run.ratio * 100).toFixed(0)} %${run.ratio < 0.8 ? ' (target 80 %)' : ''} | ${run.deliveries} | ` +
        `${run.latencyP50Ms ?? '-'} ms | ${run.latencyP99Ms ?? '-'} ms |`,
    )
  }
  return lines.join('\n')
}
