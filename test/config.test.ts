import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { ConfigError, loadConfig } from '../src/config.js'

// Every working directory a test uses lives under one folder, removed at the end: npm test leaves no trace.
const root = mkdtempSync(join(tmpdir(), 'mini-crm-config-'))
after(() => rmSync(root, { recursive: true, force: true }))
const tempDir = () => mkdtempSync(join(root, 'case-'))
const SECRET = 'x'.repeat(40)

describe('loadConfig', () => {
  it('applies the defaults of spec §9', () => {
    const config = loadConfig({ SECRET_KEY: SECRET }, tempDir())
    assert.equal(config.port, 8000)
    assert.equal(config.host, '0.0.0.0')
    assert.equal(config.accessTokenExpireMinutes, 30)
    assert.equal(config.refreshTokenExpireDays, 7)
    assert.equal(config.logLevel, 'info')
    assert.equal(config.databaseUrl, undefined)
    assert.equal(config.redisUrl, undefined)
    assert.deepEqual(config.corsOrigins, [])
    assert.equal(config.nodeEnv, 'development')
  })

  it('reads every setting', () => {
    const config = loadConfig(
      {
        DATABASE_URL: 'postgres://u:p@db:5432/crm',
        REDIS_URL: 'redis://cache:6379',
        SECRET_KEY: SECRET,
        PORT: '9000',
        HOST: '127.0.0.1',
        ACCESS_TOKEN_EXPIRE_MINUTES: '15',
        REFRESH_TOKEN_EXPIRE_DAYS: '14',
        LOG_LEVEL: 'debug',
        CORS_ORIGINS: 'https://app.example.com, http://localhost:3000',
        NODE_ENV: 'production',
      },
      tempDir(),
    )
    assert.equal(config.databaseUrl, 'postgres://u:p@db:5432/crm')
    assert.equal(config.redisUrl, 'redis://cache:6379')
    assert.equal(config.port, 9000)
    assert.equal(config.host, '127.0.0.1')
    assert.equal(config.accessTokenExpireMinutes, 15)
    assert.equal(config.refreshTokenExpireDays, 14)
    assert.equal(config.logLevel, 'debug')
    assert.deepEqual(config.corsOrigins, ['https://app.example.com', 'http://localhost:3000'])
    assert.equal(config.nodeEnv, 'production')
  })

  it('reads the email settings of spec §15, with their defaults', () => {
    const defaults = loadConfig({ SECRET_KEY: SECRET }, tempDir())
    assert.equal(defaults.smtpUrl, undefined)
    assert.equal(defaults.publicUrl, 'http://localhost:8000')
    assert.equal(defaults.mailFrom, 'Mini-CRM <no-reply@localhost>')
    const set = loadConfig(
      {
        SECRET_KEY: SECRET,
        SMTP_URL: 'smtps://user:pass@mail.example.com:465',
        MAIL_FROM: 'Acme CRM <crm@acme.example>',
        PUBLIC_URL: 'https://crm.acme.example/',
      },
      tempDir(),
    )
    assert.equal(set.smtpUrl, 'smtps://user:pass@mail.example.com:465')
    assert.equal(set.mailFrom, 'Acme CRM <crm@acme.example>')
    assert.equal(set.publicUrl, 'https://crm.acme.example')
    assert.equal(
      loadConfig({ SECRET_KEY: SECRET, PUBLIC_URL: 'https://crm.acme.example' }, tempDir()).mailFrom,
      'Mini-CRM <no-reply@crm.acme.example>',
    )
    assert.equal(
      loadConfig({ SECRET_KEY: SECRET, MAIL_FROM: 'crm@acme.example' }, tempDir()).mailFrom,
      'crm@acme.example',
    )
  })

  it('allows every origin with CORS_ORIGINS=*', () => {
    assert.equal(loadConfig({ SECRET_KEY: SECRET, CORS_ORIGINS: '*' }, tempDir()).corsOrigins, true)
  })

  const bad: [Record<string, string>, string][] = [
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ PORT: '0' }, 'PORT'],
    [{ ACCESS_TOKEN_EXPIRE_MINUTES: '-5' }, 'ACCESS_TOKEN_EXPIRE_MINUTES'],
    [{ REFRESH_TOKEN_EXPIRE_DAYS: '1.5' }, 'REFRESH_TOKEN_EXPIRE_DAYS'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ DATABASE_URL: 'mysql://db/crm' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL'],
    [{ REDIS_URL: 'http://cache' }, 'REDIS_URL'],
    [{ CORS_ORIGINS: 'example.com' }, 'CORS_ORIGINS'],
    [{ CORS_ORIGINS: 'https://example.com/path' }, 'CORS_ORIGINS'],
    [{ NODE_ENV: 'staging' }, 'NODE_ENV'],
    [{ SECRET_KEY: 'short' }, 'SECRET_KEY'],
    [{ SMTP_URL: 'http://mail.example.com' }, 'SMTP_URL'],
    [{ SMTP_URL: 'smtp//nope' }, 'SMTP_URL'],
    [{ PUBLIC_URL: 'ftp://crm.example.com' }, 'PUBLIC_URL'],
    [{ PUBLIC_URL: 'crm.example.com' }, 'PUBLIC_URL'],
    [{ MAIL_FROM: 'not an address' }, 'MAIL_FROM'],
    [{ MAIL_FROM: 'Name <broken>' }, 'MAIL_FROM'],
  ]
  for (const [env, variable] of bad) {
    it(`stops on a bad ${variable} (${JSON.stringify(env)}) naming the variable`, () => {
      assert.throws(
        () => loadConfig({ SECRET_KEY: SECRET, ...env }, tempDir()),
        (error: unknown) => error instanceof ConfigError && error.message.includes(variable),
      )
    })
  }

  it('requires SECRET_KEY in production', () => {
    assert.throws(
      () => loadConfig({ NODE_ENV: 'production' }, tempDir()),
      (error: unknown) => error instanceof ConfigError && /SECRET_KEY.*required/.test(error.message),
    )
  })

  it('generates a key once outside production and keeps it in the data folder', () => {
    const dir = tempDir()
    const first = loadConfig({}, dir).secretKey
    const second = loadConfig({}, dir).secretKey
    assert.equal(first, second)
    assert.ok(first.length >= 32)
    assert.equal(readFileSync(join(dir, 'secret_key'), 'utf8').trim(), first)
    assert.equal(statSync(join(dir, 'secret_key')).mode & 0o777, 0o600)
    assert.notEqual(loadConfig({}, tempDir()).secretKey, first)
  })
})
