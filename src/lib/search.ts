/**
 * An ILIKE pattern matching `text` as a literal substring: `%`, `_` and the escape character `\` (PostgreSQL's
 * default LIKE escape) in the user's text match only themselves.
 */
export function substringPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, '\\$&')}%`
}

export const SORT_ORDERS = ['asc', 'desc'] as const
export type SortOrder = (typeof SORT_ORDERS)[number]
