import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { setBounded } from '../src/lib/bounded-map.js'

describe('setBounded', () => {
  it('drops the oldest entry when full, never one when a key is only replaced', () => {
    const map = new Map<string, number>()
    for (const [i, key] of ['a', 'b', 'c'].entries()) setBounded(map, key, i, 3)
    setBounded(map, 'b', 10, 3)
    assert.deepEqual(
      [...map],
      [
        ['a', 0],
        ['b', 10],
        ['c', 2],
      ],
    )
    setBounded(map, 'd', 3, 3)
    assert.deepEqual([...map.keys()], ['b', 'c', 'd'])
    assert.equal(map.size, 3)
  })
})
