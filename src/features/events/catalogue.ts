/** Spec §16 event catalogue: every type a webhook may subscribe to. */
export const EVENT_TYPES = [
  'contact.created',
  'contact.updated',
  'contact.deleted',
  'company.created',
  'company.updated',
  'company.deleted',
  'deal.created',
  'deal.updated',
  'deal.deleted',
  'task.created',
  'task.updated',
  'task.deleted',
  'comment.created',
  'member.added',
  'member.updated',
  'member.removed',
] as const
export type EventType = (typeof EVENT_TYPES)[number]
/** Sent by `POST /webhooks/{id}/ping` to that webhook only, whatever it subscribes to. */
export const PING_EVENT = 'webhook.ping'

const OBJECTS = new Set(EVENT_TYPES.map((type) => type.split('.')[0]))

/** `*`, `<object>.*` with a known object, or a known type. */
export function isEventPattern(pattern: string): boolean {
  if (pattern === '*') return true
  if (pattern.endsWith('.*')) return OBJECTS.has(pattern.slice(0, -2))
  return (EVENT_TYPES as readonly string[]).includes(pattern)
}

export function matchesPattern(patterns: readonly string[], type: string): boolean {
  const object = type.split('.')[0]
  return patterns.some((p) => p === '*' || p === type || p === `${object}.*`)
}
