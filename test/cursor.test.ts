import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { cursorBinding, cursorCodec, InvalidCursor } from '../src/lib/cursor.js'

describe('list cursors', () => {
  const codec = cursorCodec('a-secret-key-of-enough-length-0123456789')
  const binding = cursorBinding('deals', { status: ['won', 'new'], order_by: 'amount', order: 'desc' })

  it('decode what they encode for the same binding', () => {
    const token = codec.encode(binding, ['1250.00', '01938f2e-0000-7000-8000-000000000000'])
    assert.deepEqual(codec.decode(token, binding, 2), ['1250.00', '01938f2e-0000-7000-8000-000000000000'])
    assert.deepEqual(codec.decode(codec.encode(binding, [null, 'x', 'y']), binding, 3), [null, 'x', 'y'])
  })

  it('bind to filters and order regardless of parameter order, repeats, or absent values', () => {
    assert.equal(
      binding,
      cursorBinding('deals', {
        order: 'desc',
        order_by: 'amount',
        status: ['new', 'won', 'won'],
        search: undefined,
      }),
    )
    assert.notEqual(binding, cursorBinding('deals', { status: ['won'], order_by: 'amount', order: 'desc' }))
    assert.notEqual(
      binding,
      cursorBinding('deals', { status: ['won', 'new'], order_by: 'amount', order: 'asc' }),
    )
    assert.notEqual(
      binding,
      cursorBinding('contacts', { status: ['won', 'new'], order_by: 'amount', order: 'desc' }),
    )
  })

  it('refuse other bindings, other keys, tampering and garbage', () => {
    const token = codec.encode(binding, ['1250.00', 'id'])
    const other = cursorBinding('deals', { order_by: 'amount', order: 'asc' })
    assert.throws(() => codec.decode(token, other, 2), InvalidCursor)
    assert.throws(
      () => cursorCodec('another-secret-key-0123456789abcdef').decode(token, binding, 2),
      InvalidCursor,
    )
    assert.throws(() => codec.decode(token, binding, 3), InvalidCursor)
    const [body, signature] = token.split('.') as [string, string]
    const forged = Buffer.from(JSON.stringify([1, binding, ['0.00', 'id']])).toString('base64url')
    assert.throws(() => codec.decode(`${forged}.${signature}`, binding, 2), InvalidCursor)
    const flipped = signature.startsWith('A') ? `B${signature.slice(1)}` : `A${signature.slice(1)}`
    assert.throws(() => codec.decode(`${body}.${flipped}`, binding, 2), InvalidCursor)
    for (const garbage of ['', '.', 'abc', `${body}.`, `${token}.x`, 'x'.repeat(5000), '%%%.%%%']) {
      assert.throws(() => codec.decode(garbage, binding, 2), InvalidCursor, garbage.slice(0, 20))
    }
  })
})
