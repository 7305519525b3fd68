/**
 * Sets `key` in `map`, first dropping its oldest entry (by insertion order) when the map already holds `max`
 * entries: the in-process caches and memos (list statements and counts, cursor memos, analytics values) stay
 * bounded whatever the requests ask for.
 */
export function setBounded<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  if (map.size >= max && !map.has(key)) map.delete(map.keys().next().value as K)
  map.set(key, value)
}
