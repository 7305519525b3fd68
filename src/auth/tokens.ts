import { createHash, createSecretKey, randomBytes } from 'node:crypto'
import { errors, jwtVerify, SignJWT } from 'jose'
import { AppError } from '../lib/errors.js'
import { isUuid, uuidv7 } from '../lib/uuid.js'

export const TOKEN_ISSUER = 'mini-crm'
export const TOKEN_AUDIENCE = 'mini-crm-api'

export interface AccessTokenIssuer {
  sign(userId: string): Promise<string>
  /** Returns the user id of a valid access token; throws 401 INVALID_TOKEN otherwise. */
  verify(token: string): Promise<string>
  readonly expiresInSeconds: number
}

const VERIFIED_CACHE_SIZE = 10_000

export function accessTokens(secretKey: string, expireMinutes: number): AccessTokenIssuer {
  // A KeyObject made once: given raw bytes, jose would import the key again on every call.
  const key = createSecretKey(Buffer.from(secretKey, 'utf8'))
  const expiresInSeconds = expireMinutes * 60
  // Tokens already verified (the exact string), until their expiry: a client sends the same token many times.
  const verified = new Map<string, { userId: string; expiresAtMs: number }>()
  return {
    expiresInSeconds,
    sign(userId) {
      const now = Math.floor(Date.now() / 1000)
      return new SignJWT({ typ: 'access' })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(userId)
        .setIssuedAt(now)
        .setExpirationTime(now + expiresInSeconds)
        .setJti(uuidv7())
        .setIssuer(TOKEN_ISSUER)
        .setAudience(TOKEN_AUDIENCE)
        .sign(key)
    },
    async verify(token) {
      const known = verified.get(token)
      if (known) {
        if (known.expiresAtMs > Date.now()) return known.userId
        verified.delete(token)
      }
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: ['HS256'],
          issuer: TOKEN_ISSUER,
          audience: TOKEN_AUDIENCE,
          requiredClaims: ['sub', 'iat', 'exp', 'jti'],
        })
        if (payload.typ !== 'access' || !isUuid(payload.sub) || typeof payload.jti !== 'string') {
          throw new AppError('INVALID_TOKEN', 'Token is not an access token')
        }
        if (verified.size >= VERIFIED_CACHE_SIZE) verified.clear()
        verified.set(token, { userId: payload.sub, expiresAtMs: (payload.exp as number) * 1000 })
        return payload.sub
      } catch (error) {
        if (error instanceof AppError) throw error
        if (error instanceof errors.JWTExpired) throw new AppError('INVALID_TOKEN', 'Token has expired')
        throw new AppError('INVALID_TOKEN', 'Token is invalid')
      }
    },
  }
}

/** An opaque refresh token: 256 random bits; only its SHA-256 is stored (high entropy needs no slow hash). */
export function newRefreshToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url')
  return { token, hash: hashRefreshToken(token) }
}

export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}
