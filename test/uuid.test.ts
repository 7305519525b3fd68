import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isUuid, uuidv7 } from '../src/lib/uuid.js'

describe('uuidv7', () => {
  it('makes version 7, RFC 9562 variant ids', () => {
    const id = uuidv7()
    assert.ok(isUuid(id))
    assert.equal(id[14], '7')
    assert.ok(['8', '9', 'a', 'b'].includes(id[19] as string))
  })

  it('carries the millisecond timestamp', () => {
    const id = uuidv7(Date.UTC(2030, 0, 1))
    assert.equal(Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16) >= Date.UTC(2030, 0, 1), true)
  })

  it('sorts in creation order within one millisecond, also past the counter', () => {
    const now = Date.now() + 60_000
    const ids = Array.from({ length: 10_000 }, () => uuidv7(now))
    assert.deepEqual([...ids].sort(), ids)
    assert.equal(new Set(ids).size, ids.length)
  })

  it('keeps the order when the clock goes back', () => {
    const later = uuidv7(Date.now() + 120_000)
    const earlier = uuidv7(Date.now())
    assert.ok(earlier > later)
  })
})
