import { setFlagsFromString } from 'node:v8'

/**
 * How far V8 lets the old generation grow past the live heap before the next full collection, in per cent.
 * V8 picks 10 % to 300 % by itself and picks the top under a request load (fast collections, a high
 * allocation rate): the service's 30-45 MB of live heap then grew to 112 MB before the first full collection,
 * and peak RSS followed (211 MB in `npm run bench`). The promotion rate under load is under 1 MB/s, so a full
 * collection every ~10 s costs a few milliseconds each for ~50 MB less peak RSS (211 -> 160 MB;
 * docs/performance.md, session 15).
 */
export const HEAP_GROWING_PERCENT = 20

/**
 * Sets the growing factor at start-up unless the operator chose one (`node --heap-growing-percent=N` or
 * `NODE_OPTIONS`). V8 reads the flag at every full collection, so setting it after start takes effect.
 */
export function boundHeapGrowth(
  execArgv = process.execArgv,
  nodeOptions = process.env.NODE_OPTIONS ?? '',
): boolean {
  const chosen = [...execArgv, ...nodeOptions.split(/\s+/)].some((arg) =>
    /^--heap[-_]growing[-_]percent\b/.test(arg),
  )
  if (chosen) return false
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`)
  return true
}
