import { randomFillSync } from 'node:crypto'

const pool = Buffer.allocUnsafe(16 * 256)
let poolOffset = pool.length
let lastMs = 0
let sequence = 0

function randomBytes16(): Buffer {
  if (poolOffset === pool.length) {
    randomFillSync(pool)
    poolOffset = 0
  }
  const bytes = pool.subarray(poolOffset, poolOffset + 16)
  poolOffset += 16
  return bytes
}

/**
 * RFC 9562 UUID version 7, monotonic within the process (method 1: a 12-bit counter in rand_a, started at a
 * random value below 2048 each millisecond). Rows land at the right edge of their indexes, and ids made one
 * after another sort in that order even within one millisecond (two activities of one change, say).
 */
export function uuidv7(now = Date.now()): string {
  const bytes = randomBytes16()
  if (now > lastMs) {
    lastMs = now
    sequence = (((bytes[6] as number) << 8) | (bytes[7] as number)) & 0x07ff
  } else {
    sequence += 1
    if (sequence > 0x0fff) {
      // Counter exhausted within this millisecond: borrow the next one, keeping the order.
      lastMs += 1
      sequence = 0
    }
  }
  bytes.writeUIntBE(lastMs, 0, 6)
  bytes[6] = 0x70 | (sequence >> 8)
  bytes[7] = sequence & 0xff
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80
  const hex = bytes.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID_PATTERN.test(value)
}
