/**
 * A real SMTP server for tests (the `smtp-server` package) on an ephemeral loopback port: it receives what the
 * app sends, parses each message (mailparser) and lets tests wait for the one addressed to someone. It can
 * require a login and refuse the next N deliveries (a mail server having trouble).
 */
import { type ParsedMail, simpleParser } from 'mailparser'
import { SMTPServer } from 'smtp-server'

export interface Delivered {
  /** Envelope recipients. */
  to: string[]
  from: string
  mail: ParsedMail
}

export interface TestMailServer {
  /** `smtp://user:pass@127.0.0.1:<port>` for SMTP_URL. */
  url: string
  delivered: Delivered[]
  /** Refuses the next `count` deliveries with a temporary error (451). */
  refuseNext(count: number): void
  /** Refusals so far (deliveries the app attempted and the server turned away). */
  refused: number
  /** The first message to `to` (after `skip` earlier ones), waiting up to `timeoutMs` for it. */
  waitFor(to: string, options?: { skip?: number; timeoutMs?: number }): Promise<Delivered>
  to(address: string): Delivered[]
  close(): Promise<void>
}

export async function startMailServer(credentials = { user: 'mailer', pass: 'secret-pass' }) {
  const delivered: Delivered[] = []
  const waiters = new Set<() => void>()
  let refuse = 0
  const server = new SMTPServer({
    secure: false,
    // Plain SMTP on loopback: no certificate to trust, as a local relay would be.
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === credentials.user && auth.password === credentials.pass) {
        callback(null, { user: auth.username })
      } else {
        callback(new Error('Invalid username or password'))
      }
    },
    onRcptTo(_address, _session, callback) {
      if (refuse > 0) {
        refuse--
        mailServer.refused++
        const error = new Error('Try again later') as Error & { responseCode: number }
        error.responseCode = 451
        callback(error)
        return
      }
      callback()
    },
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((mail) => {
          delivered.push({
            to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            mail,
          })
          for (const wake of [...waiters]) wake()
          callback()
        })
        .catch(callback)
    },
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.server.address() as { port: number }
  const to = (address: string) => delivered.filter((d) => d.to.includes(address.toLowerCase()))
  const mailServer: TestMailServer = {
    url: `smtp://${credentials.user}:${credentials.pass}@127.0.0.1:${port}`,
    delivered,
    refused: 0,
    refuseNext(count) {
      refuse = count
    },
    to,
    async waitFor(address, options = {}) {
      const skip = options.skip ?? 0
      const deadline = Date.now() + (options.timeoutMs ?? 10_000)
      for (;;) {
        const found = to(address)[skip]
        if (found) return found
        const left = deadline - Date.now()
        if (left <= 0) throw new Error(`no email #${skip + 1} to ${address} within the timeout`)
        await new Promise<void>((resolve) => {
          const wake = () => {
            clearTimeout(timer)
            waiters.delete(wake)
            resolve()
          }
          const timer = setTimeout(wake, left)
          waiters.add(wake)
        })
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
  return mailServer
}

/** The token of the first link to `<base>/<path>?token=…` in the message's plain text. */
export function linkToken(delivered: Delivered, path: '/reset-password' | '/invite'): string {
  const text = delivered.mail.text ?? ''
  const match = new RegExp(`(https?://\\S+)${path.replace('/', '\\/')}\\?token=([A-Za-z0-9_%-]+)`).exec(text)
  if (!match?.[2]) throw new Error(`no ${path} link in: ${text}`)
  return decodeURIComponent(match[2])
}
