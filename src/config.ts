import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

/** Settings of spec §9, read once from the environment (and `.env`) and validated. */
export interface Config {
  nodeEnv: 'production' | 'development' | 'test'
  /** PostgreSQL URL; undefined selects the embedded PGlite database. */
  databaseUrl: string | undefined
  /** Where PGlite keeps its data (`memory://` for a throwaway database) and the generated secret lives. */
  dataDir: string
  redisUrl: string | undefined
  secretKey: string
  port: number
  host: string
  accessTokenExpireMinutes: number
  refreshTokenExpireDays: number
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
  /** `true` allows any origin, an empty list disables CORS. */
  corsOrigins: string[] | true
  /** Outgoing mail (spec §15): `smtp://user:pass@host:port`; without it emails go to the log (not in production). */
  smtpUrl: string | undefined
  mailFrom: string
  /** Base of the links in emails (no trailing slash). */
  publicUrl: string
}

export class ConfigError extends Error {
  constructor(variable: string, problem: string) {
    super(`Invalid setting ${variable}: ${problem}`)
    this.name = 'ConfigError'
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
const NODE_ENVS = ['production', 'development', 'test'] as const
const DATA_DIR = './data'
const SECRET_FILE = 'secret_key'
const MIN_SECRET_LENGTH = 32

type Env = Record<string, string | undefined>

function nonEmpty(env: Env, name: string): string | undefined {
  const value = env[name]?.trim()
  return value === undefined || value === '' ? undefined : value
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = nonEmpty(env, name)
  if (raw === undefined) return fallback
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `expected a whole number, got "${raw}"`)
  const value = Number(raw)
  if (value < min || value > max) throw new ConfigError(name, `expected ${min}..${max}, got ${value}`)
  return value
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = nonEmpty(env, name)
  if (raw === undefined) return fallback
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(name, `expected one of ${allowed.join(', ')}, got "${raw}"`)
  }
  return raw as T
}

function url(env: Env, name: string, protocols: string[]): string | undefined {
  const raw = nonEmpty(env, name)
  if (raw === undefined) return undefined
  let parsed: URL
  try {
    parsed = new URL(raw)
  } catch {
    throw new ConfigError(name, 'not a valid URL')
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `expected a ${protocols.join(' or ')} URL`)
  }
  return raw
}

function corsOrigins(env: Env): string[] | true {
  const raw = nonEmpty(env, 'CORS_ORIGINS')
  if (raw === undefined) return []
  if (raw === '*') return true
  const origins = raw
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean)
  for (const origin of origins) {
    let parsed: URL
    try {
      parsed = new URL(origin)
    } catch {
      throw new ConfigError('CORS_ORIGINS', `"${origin}" is not an origin (scheme://host[:port])`)
    }
    if (parsed.origin !== origin) throw new ConfigError('CORS_ORIGINS', `"${origin}" is not an origin`)
  }
  return origins
}

/** Outside production a key is generated once and kept in the data folder, so tokens survive restarts. */
function secretKey(env: Env, nodeEnv: Config['nodeEnv'], dataDir: string): string {
  const raw = nonEmpty(env, 'SECRET_KEY')
  if (raw !== undefined) {
    if (raw.length < MIN_SECRET_LENGTH) {
      throw new ConfigError('SECRET_KEY', `must be at least ${MIN_SECRET_LENGTH} characters`)
    }
    return raw
  }
  if (nodeEnv === 'production') {
    throw new ConfigError('SECRET_KEY', 'is required when NODE_ENV=production (e.g. `openssl rand -hex 32`)')
  }
  const file = join(dataDir, SECRET_FILE)
  if (existsSync(file)) return readFileSync(file, 'utf8').trim()
  mkdirSync(dataDir, { recursive: true })
  const generated = randomBytes(32).toString('hex')
  writeFileSync(file, `${generated}\n`, { mode: 0o600, flag: 'wx' })
  return generated
}

/** `dataDir` is `./data` of the working directory; tests pass another. */
export function loadConfig(env: Env = process.env, dataDir = resolve(DATA_DIR)): Config {
  const nodeEnv = oneOf(env, 'NODE_ENV', NODE_ENVS, 'development')
  return {
    nodeEnv,
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    dataDir,
    redisUrl: url(env, 'REDIS_URL', ['redis:', 'rediss:']),
    secretKey: secretKey(env, nodeEnv, dataDir),
    port: integer(env, 'PORT', 8000, 1, 65535),
    host: nonEmpty(env, 'HOST') ?? '0.0.0.0',
    accessTokenExpireMinutes: integer(env, 'ACCESS_TOKEN_EXPIRE_MINUTES', 30, 1, 24 * 60),
    refreshTokenExpireDays: integer(env, 'REFRESH_TOKEN_EXPIRE_DAYS', 7, 1, 365),
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    corsOrigins: corsOrigins(env),
    ...mailSettings(env),
  }
}

function mailSettings(env: Env): Pick<Config, 'smtpUrl' | 'mailFrom' | 'publicUrl'> {
  const publicUrl = (url(env, 'PUBLIC_URL', ['http:', 'https:']) ?? 'http://localhost:8000').replace(
    /\/+$/,
    '',
  )
  const mailFrom = nonEmpty(env, 'MAIL_FROM') ?? `Mini-CRM <no-reply@${new URL(publicUrl).hostname}>`
  // A bare address or `Name <address>`: nodemailer would otherwise accept nonsense and fail at send time.
  if (!/^(?:[^<>@]*<[^\s@<>]+@[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+)$/.test(mailFrom)) {
    throw new ConfigError('MAIL_FROM', 'expected an address or "Name <address>"')
  }
  return { smtpUrl: url(env, 'SMTP_URL', ['smtp:', 'smtps:']), mailFrom, publicUrl }
}

/** Loads `.env` from the working directory when present; real environment variables win. */
export function loadDotEnv(path = '.env'): void {
  if (existsSync(path)) process.loadEnvFile(path)
}
