import { createHash, createSecretKey, randomBytes } from 'node:crypto'
import { errors, jwtVerify, SignJWT } from 'jose'
import { AppError } from '../lib/errors.js'
import { isUuid, uuidv7 } from '../lib/uuid.js'

export const TOKEN_ISSUER = 'mini-crm'
export const TOKEN_AUDIENCE = 'mini-crm-api'

export interface AccessTokenClaims {
  userId: string
  /** `sid`: the session (refresh-token family) the token belongs to; ending it ends the token. */
  sessionId: string
}

export interface AccessTokenIssuer {
  sign(userId: string, sessionId: string): Promise<string>
  /** The claims of a validly signed, unexpired access token; throws 401 INVALID_TOKEN otherwise. */
  verify(token: string): Promise<AccessTokenClaims>
  readonly expiresInSeconds: number
}

const VERIFIED_CACHE_SIZE = 10_000

export function accessTokens(secretKey: string, expireMinutes: number): AccessTokenIssuer {
  // A KeyObject made once: given raw bytes, jose would import the key again on every call.
  const key = createSecretKey(Buffer.from(secretKey, 'utf8'))
  const expiresInSeconds = expireMinutes * 60
  // Tokens already verified (the exact string), until their expiry: a client sends the same token many times.
  const verified = new Map<string, { claims: AccessTokenClaims; expiresAtMs: number }>()
  return {
    expiresInSeconds,
    sign(userId, sessionId) {
      const now = Math.floor(Date.now() / 1000)
      return new SignJWT({ typ: 'access', sid: sessionId })
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
        if (known.expiresAtMs > Date.now()) return known.claims
        verified.delete(token)
      }
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: ['HS256'],
          issuer: TOKEN_ISSUER,
          audience: TOKEN_AUDIENCE,
          requiredClaims: ['sub', 'iat', 'exp', 'jti', 'sid'],
        })
        if (
          payload.typ !== 'access' ||
          !isUuid(payload.sub) ||
          !isUuid(payload.sid) ||
          typeof payload.jti !== 'string'
        ) {
          throw new AppError('INVALID_TOKEN', 'Token is not an access token')
        }
        const claims = { userId: payload.sub.toLowerCase(), sessionId: payload.sid.toLowerCase() }
        if (verified.size >= VERIFIED_CACHE_SIZE) verified.clear()
        verified.set(token, { claims, expiresAtMs: (payload.exp as number) * 1000 })
        return claims
      } catch (error) {
        if (error instanceof AppError) throw error
        if (error instanceof errors.JWTExpired) throw new AppError('INVALID_TOKEN', 'Token has expired')
        throw new AppError('INVALID_TOKEN', 'Token is invalid')
      }
    },
  }
}

/**
 * An opaque secret (refresh, invitation and password-reset tokens): 256 random bits; only its SHA-256 is
 * stored (high entropy needs no slow hash), so a database leak yields no usable token.
 */
export function newOpaqueToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url')
  return { token, hash: hashOpaqueToken(token) }
}

export function hashOpaqueToken(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

export const newRefreshToken = newOpaqueToken
export const hashRefreshToken = hashOpaqueToken
