import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import { setBounded } from './bounded-map.js'

/**
 * Signed keyset cursors (spec §14). A cursor carries the sort values and id of the last row of a page and a
 * hash of the list, filters and order it was made for; it is HMAC-signed with a key derived from SECRET_KEY, so
 * a client can neither forge a position nor reuse a cursor under other filters (both are 400 VALIDATION_ERROR).
 *
 * Format: base64url(JSON [version, binding, values]) "." base64url(first 16 bytes of HMAC-SHA256).
 * Opaque to clients; the version lets the format change without misreading old cursors.
 */

export type CursorValue = string | number | boolean | null

const VERSION = 1
const SIGNATURE_BYTES = 16
/** Generous bound: a cursor holds a few sort values of at most 255 characters each. */
const MAX_CURSOR_LENGTH = 4096
/** Entries of each memo below (bindings of recent queries, signatures of issued cursors; each under 4 KB). */
const RECENT_ENTRIES = 1_000

export class InvalidCursor extends Error {}

export interface CursorCodec {
  encode(binding: string, values: readonly CursorValue[]): string
  /** The position `values` of a cursor made by `encode` for the same binding; throws InvalidCursor otherwise. */
  decode(token: string, binding: string, arity: number): CursorValue[]
}

/** The signing key is derived, never SECRET_KEY itself, so a cursor signature reveals nothing about token keys. */
export function cursorCodec(secretKey: string): CursorCodec {
  const key = createHmac('sha256', secretKey).update('mini-crm list cursor v1').digest()
  // Signatures of the cursors handed out recently: the first page of a busy list hands out the same next_cursor
  // until its rows change, and the next request brings it back (an HMAC is ~4 us here, the lookup ~0.1 us).
  // Only encode remembers: a body a client makes up is signed, compared and forgotten.
  const issued = new Map<string, string>()
  const hmac = (body: string) =>
    createHmac('sha256', key).update(body).digest().subarray(0, SIGNATURE_BYTES).toString('base64url')
  const sign = (body: string) => issued.get(body) ?? hmac(body)
  const signIssued = (body: string) => {
    let signature = issued.get(body)
    if (signature === undefined) {
      signature = hmac(body)
      setBounded(issued, body, signature, RECENT_ENTRIES)
    }
    return signature
  }
  return {
    encode(binding, values) {
      const body = Buffer.from(JSON.stringify([VERSION, binding, values])).toString('base64url')
      return `${body}.${signIssued(body)}`
    },
    decode(token, binding, arity) {
      if (token.length > MAX_CURSOR_LENGTH) throw new InvalidCursor('The cursor is malformed')
      const [body, signature, extra] = token.split('.')
      if (!body || !signature || extra !== undefined) throw new InvalidCursor('The cursor is malformed')
      const expected = Buffer.from(sign(body))
      const given = Buffer.from(signature)
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        throw new InvalidCursor('The cursor is not one this service issued (or it was altered)')
      }
      let parsed: unknown
      try {
        parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'))
      } catch {
        throw new InvalidCursor('The cursor is malformed')
      }
      if (!Array.isArray(parsed) || parsed[0] !== VERSION || !Array.isArray(parsed[2])) {
        throw new InvalidCursor('The cursor is malformed')
      }
      if (parsed[1] !== binding) {
        throw new InvalidCursor(
          'The cursor belongs to other filters or another order; start again without it',
        )
      }
      const values = parsed[2] as unknown[]
      if (values.length !== arity || !values.every(isCursorValue)) {
        throw new InvalidCursor('The cursor is malformed')
      }
      return values
    },
  }
}

function isCursorValue(value: unknown): value is CursorValue {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value)
}

/**
 * What a cursor is bound to: the list, its scope (e.g. the deal of an activity feed), every filter and the order,
 * canonicalized (keys sorted, absent = undefined dropped, arrays sorted) so that equal queries give equal bindings
 * whatever the parameter order. `page`, `page_size`, `count` and `cursor` itself are not part of it.
 */
export function cursorBinding(list: string, params: Record<string, unknown>): string {
  const canonical: [string, unknown][] = Object.keys(params)
    .filter((name) => params[name] !== undefined)
    .sort()
    .map((name) => {
      const value = params[name]
      return [name, Array.isArray(value) ? [...new Set(value.map(String))].sort() : value]
    })
  const text = JSON.stringify([list, canonical])
  let binding = recentBindings.get(text)
  if (binding === undefined) {
    binding = createHash('sha256').update(text).digest().subarray(0, 12).toString('base64url')
    setBounded(recentBindings, text, binding, RECENT_ENTRIES)
  }
  return binding
}

/**
 * The bindings of recent queries by their canonical text: a list request needs two (its cursor's and its count's),
 * and a busy list is asked the same few queries over and over (a hash is ~3 us here, the lookup ~0.1 us).
 */
const recentBindings = new Map<string, string>()
