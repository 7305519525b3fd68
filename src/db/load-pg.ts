/**
 * Loads the `pg` driver without loading Node's bundled fetch (undici) with it. Imported, for its effect, first
 * by every module that uses pg or drizzle's node-postgres driver.
 *
 * While it loads, pg asks whether it runs in a Cloudflare Worker (pg/lib/stream.js): without a global
 * `navigator` (Node 20; Node 21 and later have one and answer there) it constructs a `Response`, and that first
 * touch of the global loads undici into a process that never fetches: ~2 MB of heap and ~2 MB of WebAssembly
 * and buffers (docs/performance.md, session 17). The global is hidden for that one synchronous load and then
 * put back as it was, still unloaded; later imports of pg get the loaded module.
 */
import { createRequire } from 'node:module'

const response = Object.getOwnPropertyDescriptor(globalThis, 'Response')
if (!('navigator' in globalThis) && response?.configurable) {
  Object.defineProperty(globalThis, 'Response', { value: undefined, configurable: true, writable: true })
  try {
    createRequire(import.meta.url)('pg')
  } finally {
    Object.defineProperty(globalThis, 'Response', response)
  }
}
