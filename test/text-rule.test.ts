/**
 * The text rule's paths (src/lib/text.ts): every request part passes through `badTextPaths`; the HTTP behaviour
 * (400 naming the field) is in test/bad-input.test.ts.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { badTextPaths } from '../src/lib/text.js'

describe('the text rule', () => {
  it('names every bad string and key, and nothing when all is well', () => {
    assert.deepEqual(badTextPaths({ a: 'fine', b: ['ok', { c: 'ü' }] }), [])
    assert.deepEqual(badTextPaths({ a: 'x\u0000', b: ['ok', { 'c/d': '\ud800' }], '\udc00': 'v' }), [
      '/a',
      '/b/1/c~1d',
      '/\udc00',
    ])
    assert.deepEqual(badTextPaths('\u0000'), [''])
    assert.deepEqual(badTextPaths({ 'x~y': [['fine', '\u0000']] }), ['/x~0y/0/1'])
    // Deeper than any schema allows: left to the schema.
    let deep: unknown = '\u0000'
    for (let i = 0; i < 70; i++) deep = [deep]
    assert.deepEqual(badTextPaths(deep), [])
  })
})
