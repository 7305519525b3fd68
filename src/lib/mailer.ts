import { createRequire } from 'node:module'
import type { FastifyBaseLogger } from 'fastify'
import type * as Nodemailer from 'nodemailer'

export interface Email {
  to: string
  subject: string
  text: string
  html: string
}

export interface Mailer {
  /**
   * Queues an email and returns at once: delivery runs in the background and is retried; a failure is logged,
   * never thrown, so no caller waits for (or is told about) the mail server.
   */
  send(email: Email): void
  /** Resolves when every queued email was delivered or given up (tests; shutdown). */
  idle(): Promise<void>
  close(): Promise<void>
}

export interface MailerOptions {
  smtpUrl: string | undefined
  from: string
  nodeEnv: 'production' | 'development' | 'test'
  log: FastifyBaseLogger
  /** Waits before the 2nd, 3rd, … attempt; one attempt more than delays. */
  retryDelaysMs?: readonly number[]
}

export const DEFAULT_RETRY_DELAYS_MS = [2_000, 10_000, 60_000] as const

/** Mail through SMTP (nodemailer) when `SMTP_URL` is set; otherwise to the log outside production. */
export function createMailer(options: MailerOptions): Mailer {
  const { log } = options
  const pending = new Set<Promise<void>>()
  /** Retries waiting for their turn: close() wakes them so they give up at once. */
  const waiting = new Set<() => void>()
  let closed = false
  const track = (work: Promise<void>) => {
    pending.add(work)
    void work.finally(() => pending.delete(work))
  }
  const idle = async () => {
    while (pending.size > 0) await Promise.allSettled([...pending])
  }

  if (!options.smtpUrl) {
    if (options.nodeEnv === 'production') {
      log.warn('SMTP_URL is not set: emails (password reset, invitations) will not be sent')
    }
    const logEmail = (email: Email) => {
      if (options.nodeEnv === 'production') {
        // The body carries single-use secrets: never into production logs.
        log.error({ to: email.to, subject: email.subject }, 'email not sent: SMTP_URL is not set')
        return
      }
      log.info(
        { mail: { to: email.to, subject: email.subject, text: email.text } },
        `email (SMTP_URL not set, logged instead of sent) to ${email.to}: ${email.subject}`,
      )
    }
    return {
      send(email) {
        track(
          new Promise((resolve) =>
            setImmediate(() => {
              logEmail(email)
              resolve()
            }),
          ),
        )
      },
      idle,
      async close() {},
    }
  }

  // Loaded only when SMTP_URL is set: ~700 KB of sources every process would otherwise keep in its heap.
  const nodemailer = createRequire(import.meta.url)('nodemailer') as typeof Nodemailer
  const transport = nodemailer.createTransport({
    url: options.smtpUrl,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  })
  const delays = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS

  /** Resolves true after `ms`, or false as soon as the mailer closes. */
  const wait = (ms: number) =>
    new Promise<boolean>((resolve) => {
      const wake = () => {
        clearTimeout(timer)
        waiting.delete(wake)
        resolve(!closed)
      }
      const timer = setTimeout(wake, ms)
      waiting.add(wake)
    })

  async function deliver(email: Email): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await transport.sendMail({ ...email, from: options.from })
        if (attempt > 1) log.info({ to: email.to, attempt }, 'email sent after retrying')
        return
      } catch (error) {
        const delay = delays[attempt - 1]
        if (delay === undefined || closed) {
          log.error(
            { err: error, to: email.to, subject: email.subject, attempt },
            'email not sent; giving up',
          )
          return
        }
        log.warn({ err: error, to: email.to, attempt, retryInMs: delay }, 'email not sent; will retry')
        if (!(await wait(delay))) {
          log.error({ to: email.to, subject: email.subject }, 'email not sent: shutting down')
          return
        }
      }
    }
  }

  return {
    send(email) {
      if (closed) {
        log.error({ to: email.to, subject: email.subject }, 'email not sent: shutting down')
        return
      }
      // Not even the first connection attempt runs in the caller's turn: answers never wait on mail.
      track(new Promise((resolve) => setImmediate(resolve)).then(() => deliver(email)))
    },
    idle,
    async close() {
      closed = true
      // Waiting retries end now (each logs that it gives up); a send in progress may finish.
      for (const wake of [...waiting]) wake()
      await Promise.race([idle(), new Promise((resolve) => setTimeout(resolve, 5_000).unref())])
      transport.close()
    },
  }
}
