/**
 * The response serializer (src/lib/serialization.ts) compiles a copy of each schema with nullable scalar unions
 * written as type lists: the JSON must be exactly what fast-json-stringify writes from the schema as declared.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fastJson from 'fast-json-stringify'
import { Type } from 'typebox'
import { Deal } from '../src/features/deals/schemas.js'
import { ListPage } from '../src/lib/list.js'
import { buildSerializer, withNullableTypes } from '../src/lib/serialization.js'

const DealPage = ListPage(Deal)

function randomDeal(i: number) {
  const pick = <T>(values: T[]) => values[i % values.length] as T
  const deal: Record<string, unknown> = {
    id: '01a06c98-ddf3-743c-8197-752cebaaaddf',
    organization_id: '01a23b2c-0b41-74fe-a3c2-619a6a3872ff',
    contact_id: '01a06c8e-17af-7632-be1a-71ef6fa69667',
    owner_id: '01a23b2c-0b41-74fd-8590-798973a5b66d',
    title: pick(['Renewal', 'Quote "A", \\ 50%', 'Überweisung ✓', 'line\nbreak', '']),
    amount: pick(['0.00', '12500.00', '76.47']),
    currency: 'EUR',
    status: pick(['new', 'in_progress', 'won', 'lost']),
    stage: pick(['qualification', 'proposal', 'negotiation', 'closing', 'proposal']),
    created_at: '2026-09-04T13:25:52.755Z',
    updated_at: '2026-10-28T23:57:33.926Z',
    expected_close_date: pick([null, '2027-01-31', null]),
    lost_reason: pick([null, 'price', 'timing "now"', null, null, null]),
    probability: pick([0, 10, 30, 100]),
    weighted_amount: pick(['0.00', '3750.00']),
    closed_at: pick([null, '2026-11-01T00:00:00.000Z', null]),
    stage_changed_at: '2026-10-28T23:57:33.926Z',
  }
  if (i % 3 === 0) {
    deal.contact = {
      id: '01a06c8e-17af-7632-be1a-71ef6fa69667',
      name: 'Ada',
      email: pick([null, 'ada@example.test']),
      company_id: pick([null, '01a06c8e-17af-7632-be1a-71ef6fa69668', null, null]),
    }
  }
  return deal
}

describe('response serialization', () => {
  it('writes the same JSON as fast-json-stringify on the declared schema (deals page, nulls and values)', () => {
    const declared = fastJson(DealPage as object)
    const rewritten = buildSerializer(undefined, {})({ schema: DealPage })
    for (let i = 0; i < 60; i++) {
      const page = {
        items: Array.from({ length: i % 5 }, (_, k) => randomDeal(i + k)),
        total: i % 2 === 0 ? i * 7 : null,
        page: i % 2 === 0 ? 1 : null,
        page_size: 20,
        pages: i % 2 === 0 ? 3 : null,
        next_cursor: i % 3 === 0 ? null : `cursor-${i}`,
      }
      assert.equal(rewritten(page), declared(page))
      assert.deepEqual(JSON.parse(rewritten(page)), page)
    }
  })

  it('writes nullable scalar unions as type lists and leaves other unions and the declared schema alone', () => {
    const schema = Type.Object({
      at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'when' }),
      count: Type.Union([Type.Null(), Type.Integer()]),
      kind: Type.Union([Type.Literal('a'), Type.Literal('b')]),
      nested: Type.Union([Type.Object({ x: Type.String() }), Type.Null()]),
      list: Type.Array(Type.Union([Type.String(), Type.Null()])),
    })
    const before = JSON.stringify(schema)
    const copy = withNullableTypes(schema) as { properties: Record<string, Record<string, unknown>> }
    assert.equal(JSON.stringify(schema), before, 'the declared schema is not changed')
    assert.deepEqual(copy.properties.at, {
      type: ['string', 'null'],
      format: 'date-time',
      description: 'when',
    })
    assert.deepEqual(copy.properties.count, { type: ['integer', 'null'] })
    assert.ok(Array.isArray(copy.properties.kind?.anyOf), 'a union of literals stays a union')
    assert.ok(Array.isArray(copy.properties.nested?.anyOf), 'an object or null stays a union')
    const items = copy.properties.list?.items as Record<string, unknown> | undefined
    assert.deepEqual(items?.type, ['string', 'null'])
  })

  it('resolves shared schemas ($ref) with the rewritten copies', () => {
    const shared = {
      Thing: Type.Object({ name: Type.Union([Type.String(), Type.Null()]) }, { $id: 'Thing' }),
    }
    const serialize = buildSerializer(shared, {})({ schema: Type.Array(Type.Ref('Thing')) })
    assert.equal(serialize([{ name: null }, { name: 'x' }]), '[{"name":null},{"name":"x"}]')
  })
})
