/**
 * The one rule for text in requests (docs/decisions/foundation.md, "Text"): every string — body fields, query
 * parameters, path parameters, headers — must be well-formed UTF-16 without NUL. PostgreSQL cannot store
 * U+0000 in `text`, and a lone surrogate has no UTF-8 form (the pg driver would silently store U+FFFD, jsonb
 * refuses it), so both are refused with 400 before any handler or query sees them.
 */

// Without the `u` flag the pattern sees UTF-16 code units: a high surrogate not followed by a low one, or a
// low surrogate not preceded by a high one.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

export const TEXT_RULE_MESSAGE = 'must not contain NUL (U+0000) or unpaired UTF-16 surrogates'

export function isAcceptableText(value: string): boolean {
  return !value.includes('\u0000') && !LONE_SURROGATE.test(value)
}

const MAX_DEPTH = 64

/** A JSON pointer (`/a/0/b`) of the keys leading to a value. */
function pointer(keys: readonly string[]): string {
  return keys.map((key) => `/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`).join('')
}

/** Adds to `found` the path of every string or key under `item` (reached through `keys`) that breaks the rule. */
function collect(item: unknown, keys: string[], found: string[]): void {
  if (typeof item === 'string') {
    if (!isAcceptableText(item)) found.push(pointer(keys))
    return
  }
  if (item === null || typeof item !== 'object' || keys.length >= MAX_DEPTH) return
  for (const key in item) {
    if (!Object.hasOwn(item, key)) continue
    keys.push(key)
    if (!isAcceptableText(key)) found.push(pointer(keys))
    else collect((item as Record<string, unknown>)[key], keys, found)
    keys.pop()
  }
}

/**
 * JSON-pointer paths (`/a/0/b`) of every string, or object key, in `value` that breaks the rule. Values nested
 * deeper than the schemas allow are left to the schema (which refuses them anyway). Every request part passes
 * here (headers, query, params, body), so the walk keeps the keys it is under and writes a path only for what
 * breaks the rule.
 */
export function badTextPaths(value: unknown): string[] {
  const found: string[] = []
  collect(value, [], found)
  return found
}
