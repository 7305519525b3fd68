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

/** Whether any string or object key in `value` breaks the rule: the check of every request part, allocating nothing. */
function hasBadText(value: unknown, depth: number): boolean {
  if (typeof value === 'string') return !isAcceptableText(value)
  if (value === null || typeof value !== 'object' || depth >= MAX_DEPTH) return false
  if (Array.isArray(value)) {
    for (const item of value) if (hasBadText(item, depth + 1)) return true
    return false
  }
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue
    if (!isAcceptableText(key) || hasBadText((value as Record<string, unknown>)[key], depth + 1)) return true
  }
  return false
}

/**
 * JSON-pointer paths (`/a/0/b`) of every string, or object key, in `value` that breaks the rule. Values nested
 * deeper than the schemas allow are left to the schema (which refuses them anyway). The paths are only built
 * when something breaks it (every request part passes here: headers, query, params, body).
 */
export function badTextPaths(value: unknown, path = '', depth = 0, found: string[] = []): string[] {
  if (depth === 0 && !hasBadText(value, 0)) return found
  if (typeof value === 'string') {
    if (!isAcceptableText(value)) found.push(path)
  } else if (value !== null && typeof value === 'object' && depth < MAX_DEPTH) {
    for (const [key, item] of Object.entries(value)) {
      const itemPath = `${path}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`
      if (!isAcceptableText(key)) found.push(itemPath)
      else badTextPaths(item, itemPath, depth + 1, found)
    }
  }
  return found
}
