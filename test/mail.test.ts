/**
 * The mailer against a real SMTP server (smtp-server on a loopback port): delivery with the URL's credentials,
 * text and HTML bodies, retries after temporary refusals, giving up without throwing, and the log-only mode
 * without SMTP_URL (development) or with a warning (production).
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import Fastify from 'fastify'
import { createMailer } from '../src/lib/mailer.js'
import { startMailServer, type TestMailServer } from './smtp.js'

let mail: TestMailServer
before(async () => {
  mail = await startMailServer()
})
after(() => mail.close())

/** A real pino logger (Fastify's) whose lines land in an array. */
function capturedLog() {
  const lines: Record<string, unknown>[] = []
  const app = Fastify({
    logger: {
      level: 'info',
      stream: { write: (line: string) => lines.push(JSON.parse(line)) },
    },
  })
  return { log: app.log, lines }
}

const message = (to: string) => ({
  to,
  subject: 'Hello there',
  text: 'Plain body with https://crm.example.test/x?token=abc',
  html: '<p>HTML body with <a href="https://crm.example.test/x?token=abc">a link</a></p>',
})

describe('mailer over SMTP', () => {
  it('delivers text and HTML bodies from MAIL_FROM, logging in with the credentials of SMTP_URL', async () => {
    const { log } = capturedLog()
    const mailer = createMailer({ smtpUrl: mail.url, from: 'CRM <crm@example.test>', nodeEnv: 'test', log })
    try {
      mailer.send(message('ann@example.test'))
      const delivered = await mail.waitFor('ann@example.test')
      assert.equal(delivered.from, 'crm@example.test')
      assert.equal(delivered.mail.subject, 'Hello there')
      assert.match(delivered.mail.text ?? '', /https:\/\/crm\.example\.test\/x\?token=abc/)
      assert.match(String(delivered.mail.html), /<a href="https:\/\/crm\.example\.test\/x\?token=abc">/)
      assert.equal(delivered.mail.from?.value[0]?.name, 'CRM')
    } finally {
      await mailer.close()
    }
  })

  it('returns at once and retries temporary refusals in the background', async () => {
    const { log, lines } = capturedLog()
    const mailer = createMailer({
      smtpUrl: mail.url,
      from: 'crm@example.test',
      nodeEnv: 'test',
      log,
      retryDelaysMs: [20, 20, 20],
    })
    try {
      const refusedBefore = mail.refused
      mail.refuseNext(2)
      mailer.send(message('retry@example.test'))
      const delivered = await mail.waitFor('retry@example.test')
      assert.equal(delivered.mail.subject, 'Hello there')
      assert.equal(mail.refused - refusedBefore, 2)
      await mailer.idle()
      assert.equal(lines.filter((l) => l.msg === 'email not sent; will retry').length, 2)
      assert.ok(lines.some((l) => l.msg === 'email sent after retrying'))
    } finally {
      await mailer.close()
    }
  })

  it('gives up after the last attempt with an error in the log, never a throw', async () => {
    const { log, lines } = capturedLog()
    const mailer = createMailer({
      smtpUrl: mail.url,
      from: 'crm@example.test',
      nodeEnv: 'test',
      log,
      retryDelaysMs: [10],
    })
    try {
      mail.refuseNext(2)
      assert.doesNotThrow(() => mailer.send(message('never@example.test')))
      await mailer.idle()
      assert.equal(mail.to('never@example.test').length, 0)
      const gaveUp = lines.find((l) => l.msg === 'email not sent; giving up')
      assert.ok(gaveUp, 'an error is logged')
      assert.equal(gaveUp.level, 50)
      assert.equal(gaveUp.to, 'never@example.test')
    } finally {
      await mailer.close()
    }
  })

  it('survives a mail server that is not there', async () => {
    const { log, lines } = capturedLog()
    const mailer = createMailer({
      smtpUrl: 'smtp://127.0.0.1:1',
      from: 'crm@example.test',
      nodeEnv: 'test',
      log,
      retryDelaysMs: [10],
    })
    mailer.send(message('nobody@example.test'))
    await mailer.idle()
    await mailer.close()
    assert.ok(lines.some((l) => l.msg === 'email not sent; giving up'))
  })

  it('stops waiting retries when it closes', async () => {
    const { log, lines } = capturedLog()
    const mailer = createMailer({
      smtpUrl: mail.url,
      from: 'crm@example.test',
      nodeEnv: 'test',
      log,
      retryDelaysMs: [60_000],
    })
    mail.refuseNext(1)
    mailer.send(message('closing@example.test'))
    for (let i = 0; i < 200 && !lines.some((l) => l.msg === 'email not sent; will retry'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    const started = Date.now()
    await mailer.close()
    assert.ok(Date.now() - started < 5_000, 'close does not wait for the minute-long retry')
    assert.ok(lines.some((l) => l.msg === 'email not sent: shutting down'))
  })
})

describe('mailer without SMTP_URL', () => {
  it('writes the email, link included, to the log outside production', async () => {
    const { log, lines } = capturedLog()
    const mailer = createMailer({ smtpUrl: undefined, from: 'crm@example.test', nodeEnv: 'development', log })
    mailer.send(message('dev@example.test'))
    await mailer.idle()
    const line = lines.find((l) => String(l.msg).startsWith('email (SMTP_URL not set'))
    assert.ok(line)
    assert.equal(line.level, 30)
    assert.match(JSON.stringify(line.mail), /https:\/\/crm\.example\.test\/x\?token=abc/)
  })

  it('warns at start in production and never logs the body (it carries secrets)', async () => {
    const { log, lines } = capturedLog()
    const mailer = createMailer({ smtpUrl: undefined, from: 'crm@example.test', nodeEnv: 'production', log })
    assert.ok(lines.some((l) => l.level === 40 && /SMTP_URL is not set/.test(String(l.msg))))
    mailer.send(message('prod@example.test'))
    await mailer.idle()
    assert.ok(lines.some((l) => l.msg === 'email not sent: SMTP_URL is not set'))
    assert.doesNotMatch(JSON.stringify(lines), /token=abc/)
  })
})
