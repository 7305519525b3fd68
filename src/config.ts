import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { isIP } from 'node:net'
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
  /** Authenticated requests per user and organization per minute; 0 turns the limit off (spec §16). */
  rateLimitPerMinute: number
  /** Seconds to wait before each retry of a failed webhook delivery; after the last one it has failed. */
  webhookRetryDelays: number[]
  /** Lets webhooks target loopback, private, link-local and unspecified addresses (development, tests). */
  webhookAllowPrivateUrls: boolean
  /** Outgoing mail (spec §15): `smtp://user:pass@host:port`; without it emails go to the log (not in production). */
  smtpUrl: string | undefined
  mailFrom: string
  /** Base of the links in emails (no trailing slash). */
  publicUrl: string
  /** Which proxies' X-Forwarded-For to believe (Fastify's `trustProxy`): false, true, a hop count or addresses. */
  trustProxy: boolean | number | string[]
  /** `/metrics`: served unless disabled; with a token, only to `Authorization: Bearer <token>`. */
  metrics: { enabled: boolean; token: string | undefined }
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

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = nonEmpty(env, name)?.toLowerCase()
  if (raw === undefined) return fallback
  if (raw === 'true' || raw === '1') return true
  if (raw === 'false' || raw === '0') return false
  throw new ConfigError(name, `expected true or false, got "${raw}"`)
}

/** `false` (default), `true` (any proxy: only behind one that overwrites the header), a hop count, or IPs/CIDRs. */
function trustProxy(env: Env): Config['trustProxy'] {
  const raw = nonEmpty(env, 'TRUST_PROXY')
  if (raw === undefined || raw.toLowerCase() === 'false') return false
  if (raw.toLowerCase() === 'true') return true
  if (/^\d+$/.test(raw)) return integer(env, 'TRUST_PROXY', 0, 1, 100)
  const entries = raw
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
  for (const entry of entries) {
    const [address, bits, ...rest] = entry.split('/')
    const family = isIP(address ?? '')
    const maxBits = family === 6 ? 128 : 32
    const validBits = bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= maxBits)
    if (family === 0 || !validBits || rest.length > 0) {
      throw new ConfigError('TRUST_PROXY', `"${entry}" is not an IP address or CIDR range`)
    }
  }
  return entries
}

function metricsToken(env: Env): string | undefined {
  const token = nonEmpty(env, 'METRICS_TOKEN')
  if (token !== undefined && token.length < 16)
    throw new ConfigError('METRICS_TOKEN', 'must be at least 16 characters')
  return token
}

export const DEFAULT_WEBHOOK_RETRY_DELAYS = [5, 300, 1800, 7200, 18000, 36000, 36000]

function retryDelays(env: Env): number[] {
  const raw = nonEmpty(env, 'WEBHOOK_RETRY_DELAYS')
  if (raw === undefined) return DEFAULT_WEBHOOK_RETRY_DELAYS
  const parts = raw.split(',').map((part) => part.trim())
  if (parts.length > 20 || parts.some((part) => !/^\d+(\.\d+)?$/.test(part) || Number(part) > 604_800)) {
    throw new ConfigError(
      'WEBHOOK_RETRY_DELAYS',
      `expected up to 20 comma-separated numbers of seconds (0..604800), got "${raw}"`,
    )
  }
  return parts.map(Number)
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
    rateLimitPerMinute: integer(env, 'RATE_LIMIT_PER_MINUTE', 1200, 0, 1_000_000),
    webhookRetryDelays: retryDelays(env),
    webhookAllowPrivateUrls: boolean(env, 'WEBHOOK_ALLOW_PRIVATE_URLS', false),
    ...mailSettings(env),
    trustProxy: trustProxy(env),
    metrics: { enabled: boolean(env, 'METRICS_ENABLED', true), token: metricsToken(env) },
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
