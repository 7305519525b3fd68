import http from 'node:http'
import https from 'node:https'
import { isIP } from 'node:net'
import { checkedLookup, hostOf, isForbiddenAddress } from './ssrf.js'

export const DELIVERY_TIMEOUT_MS = 10_000
/** Enough of an answer to log; the rest is read and dropped. */
const MAX_RESPONSE_BYTES = 64 * 1024

export interface AttemptResult {
  /** Any 2xx within the timeout. */
  ok: boolean
  responseStatus: number | null
  error: string | null
  durationMs: number
}

/**
 * POSTs one signed body. Plain node:http(s) (no redirect is ever followed: a 3xx is just a failed attempt)
 * through keep-alive agents; unless private targets are allowed, every connection resolves its name through
 * `checkedLookup`, which refuses forbidden addresses and pins the connection to the ones it checked.
 */
export class WebhookSender {
  private readonly httpAgent: http.Agent
  private readonly httpsAgent: https.Agent

  constructor(
    private readonly allowPrivate: boolean,
    private readonly timeoutMs = DELIVERY_TIMEOUT_MS,
  ) {
    const options = { keepAlive: true, maxSockets: 32, ...(allowPrivate ? {} : { lookup: checkedLookup }) }
    this.httpAgent = new http.Agent(options)
    this.httpsAgent = new https.Agent(options)
  }

  send(url: string, headers: Record<string, string>, body: string): Promise<AttemptResult> {
    const started = performance.now()
    const done = (result: Omit<AttemptResult, 'durationMs'>): AttemptResult => ({
      ...result,
      durationMs: Math.round(performance.now() - started),
    })
    let target: URL
    try {
      target = new URL(url)
    } catch {
      return Promise.resolve(done({ ok: false, responseStatus: null, error: 'invalid URL' }))
    }
    const host = hostOf(target)
    if (!this.allowPrivate && isIP(host) && isForbiddenAddress(host)) {
      return Promise.resolve(
        done({ ok: false, responseStatus: null, error: `${host} is not a public address` }),
      )
    }
    const isHttps = target.protocol === 'https:'
    return new Promise((resolve) => {
      let settled = false
      const finish = (result: Omit<AttemptResult, 'durationMs'>) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        resolve(done(result))
      }
      const request = (isHttps ? https : http).request(target, {
        method: 'POST',
        agent: isHttps ? this.httpsAgent : this.httpAgent,
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          'user-agent': 'mini-crm-webhooks/1',
        },
      })
      const timer = setTimeout(() => {
        finish({ ok: false, responseStatus: null, error: `timed out after ${this.timeoutMs} ms` })
        request.destroy()
      }, this.timeoutMs)
      request.on('error', (error: NodeJS.ErrnoException) => {
        finish({ ok: false, responseStatus: null, error: error.message || error.code || 'request failed' })
      })
      request.on('response', (response) => {
        const status = response.statusCode ?? 0
        let received = 0
        response.on('data', (chunk: Buffer) => {
          received += chunk.length
          if (received > MAX_RESPONSE_BYTES) response.destroy()
        })
        const complete = () =>
          finish({
            ok: status >= 200 && status < 300,
            responseStatus: status,
            error: status >= 200 && status < 300 ? null : `answered ${status}`,
          })
        response.on('end', complete)
        response.on('close', complete)
        response.on('error', complete)
      })
      request.end(body)
    })
  }

  close(): void {
    this.httpAgent.destroy()
    this.httpsAgent.destroy()
  }
}
