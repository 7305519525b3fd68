import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import fc from 'fast-check'
import type { FastifyInstance } from 'fastify'
import { ERROR_CODES } from '../src/lib/errors.js'
import { addMember, as, buildTestApp, createContact, createDeal, register, type TestUser } from './helpers.js'
import {
  contractViolation,
  type IdsByName,
  type JsonSchema,
  listOperations,
  type Operation,
  operationName,
  type RequestParts,
  toInject,
  validRequest,
} from './openapi-requests.js'

/**
 * Issue 8 §2, proved generally: every operation of the app's own OpenAPI document (read at run time, so routes
 * added later are fuzzed too) gets a valid request, then requests with one to three parts replaced by hostile
 * values — wrong types, null, huge numbers, NUL and lone surrogates, odd Unicode, long strings, deep nesting,
 * malformed ids, dropped fields — in path, query, headers and body, authenticated as the owner of a real
 * organization with real records, so they reach the handlers. Any 5xx, or any error that is not an RFC 9457
 * problem+json body of the §1 shape, fails the test with the request that caused it.
 *
 * FUZZ_RUNS (inputs per operation, default 30), FUZZ_SEED (default fixed) and FUZZ_BUDGET_MS (wall-clock cap
 * for the whole run, default 45 s; an operation that runs out of time stops early and the count shows it).
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 30)
const SEED = Number(process.env.FUZZ_SEED ?? 20261201)
const BUDGET_MS = Number(process.env.FUZZ_BUDGET_MS ?? 45_000)
const DATABASE = process.env.TEST_DATABASE_URL ? 'PostgreSQL' : 'PGlite'

const UUID = '0192d5a4-7b5c-7def-8a12-3456789abcde'

const nastyStrings = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      '\u0000',
      'a\u0000b',
      '\ud800',
      'x\udfff',
      '\ud83d',
      '😀',
      '\u202eevil',
      'e\u0301\u0301\u0301',
      '\ufeff',
      '\u2028',
      '%',
      '%00',
      '%E0%A4%A',
      '_%\\',
      '../../etc/passwd',
      "' OR 1=1 --",
      '<script>alert(1)</script>',
      'null',
      'true',
      '-1',
      '0',
      '1e309',
      '-0',
      'NaN',
      'Infinity',
      '99999999999999999999.99',
      '1.005',
      '0x10',
      `urn:uuid:${UUID}`,
      UUID.toUpperCase(),
      `{${UUID}}`,
      UUID.replaceAll('-', ''),
      ` ${UUID}`,
      `${UUID}\u0000`,
      '00000000-0000-0000-0000-000000000000',
      'ffffffff-ffff-ffff-ffff-ffffffffffff',
      '2026-02-30',
      '0000-01-01',
      '9999-12-31',
      '+275760-09-13',
      '1970-01-01T00:00:00Z',
      'usd',
      'US$',
      'a@b',
      ' A@B.CO ',
      'a'.repeat(256),
      'a'.repeat(10_001),
      '😀'.repeat(300),
      'x'.repeat(70_000),
    ),
  },
  // Any UTF-16 code units, lone surrogates and control characters included.
  {
    weight: 2,
    arbitrary: fc.string({
      unit: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)),
      maxLength: 40,
    }),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
)

const nastyNumbers = fc.oneof(
  fc.constantFrom(
    0,
    -0,
    -1,
    0.5,
    1.005,
    0.001,
    1e13,
    9_999_999_999_999.99,
    1e308,
    -1e308,
    5e-324,
    Number.MAX_SAFE_INTEGER,
    Number.MAX_SAFE_INTEGER + 2,
    2 ** 31,
    -(2 ** 31) - 1,
    2 ** 64,
  ),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
)

function nested(depth: number, leaf: unknown, asArray: boolean): unknown {
  let value = leaf
  for (let i = 0; i < depth; i++) value = asArray ? [value] : { a: value }
  return value
}

const nastyJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: nastyStrings },
  { weight: 3, arbitrary: nastyNumbers },
  { weight: 2, arbitrary: fc.constantFrom(null, true, false, [], {}, [null], { '': null }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      nested(2_000, 1, true),
      nested(2_000, 'x', false),
      nested(50, '\u0000', false),
    ),
  },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.array(nastyStrings, { maxLength: 5 }) },
)

/** Whole bodies sent verbatim as application/json. */
const rawBodies = fc.constantFrom(
  '',
  '{',
  '}',
  'null',
  '[]',
  '"text"',
  '5',
  '{"a":1,}',
  "{'a':1}",
  '\u0000',
  '\ufeff{}',
  '{"amount": 1e999}',
  `{"title": "x", "amount": 1e999, "contact_id": "${UUID}"}`,
  '{"__proto__": {"admin": true}}',
  '{"constructor": {"prototype": {"admin": true}}}',
  '{"name": "a", "name": "\\u0000"}',
  '{"text": "\\ud800"}',
  '['.repeat(10_000) + ']'.repeat(10_000),
  `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`,
  `{"name": "${'x'.repeat(1_100_000)}"}`,
)

const contentTypes = fc.constantFrom(
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json; charset=latin1',
  'application/json; charset=utf-16',
  'application/problem+json',
  'application/jsonx',
  '',
)

const authorizations = fc.constantFrom(
  undefined,
  '',
  'Bearer',
  'Bearer ',
  'Bearer x.y.z',
  'bearer \u0000',
  'Basic dXNlcjpwYXNz',
  'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
)

type Slot =
  | { in: 'path' | 'query' | 'header'; name: string; schema: JsonSchema }
  | { in: 'body'; path: string[] }
  | { in: 'rawBody' | 'contentType' | 'authorization' }

function bodyPaths(schema: JsonSchema | undefined, prefix: string[] = [], depth = 0): string[][] {
  if (!schema) return []
  const paths = [prefix]
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>
  if (depth < 2) {
    for (const [key, child] of Object.entries(properties))
      paths.push(...bodyPaths(child, [...prefix, key], depth + 1))
    paths.push([...prefix, 'unknown_field'])
  }
  return paths
}

function slotsOf(operation: Operation): Slot[] {
  const slots: Slot[] = operation.parameters.map((parameter) => ({
    in: parameter.in,
    name: parameter.name,
    schema: parameter.schema,
  }))
  slots.push({ in: 'header', name: 'x-request-id', schema: {} }, { in: 'authorization' })
  if (!operation.parameters.some((parameter) => parameter.name === 'x-organization-id')) {
    slots.push({ in: 'header', name: 'x-organization-id', schema: {} })
  }
  if (operation.body) {
    slots.push(...bodyPaths(operation.body).map((path): Slot => ({ in: 'body', path })))
    slots.push({ in: 'rawBody' }, { in: 'contentType' })
  } else {
    slots.push({ in: 'query', name: 'unknown_param', schema: {} })
  }
  return slots
}

type Mutation = [Slot, unknown]

function valueFor(slot: Slot): fc.Arbitrary<unknown> {
  switch (slot.in) {
    case 'body':
      return fc.option(nastyJson, { nil: undefined, freq: 8 })
    case 'rawBody':
      return rawBodies
    case 'contentType':
      return contentTypes
    case 'authorization':
      return authorizations
    case 'query':
      return fc.option(
        fc.oneof(
          nastyStrings,
          nastyNumbers.map(String),
          fc.array(nastyStrings, { minLength: 2, maxLength: 3 }),
        ),
        { nil: undefined, freq: 8 },
      )
    default:
      return fc.option(fc.oneof(nastyStrings, nastyNumbers.map(String)), { nil: undefined, freq: 8 })
  }
}

function mutationsOf(operation: Operation): fc.Arbitrary<Mutation[]> {
  const mutation = fc
    .constantFrom(...slotsOf(operation))
    .chain((slot) => valueFor(slot).map((value): Mutation => [slot, value]))
  return fc.array(mutation, { minLength: 1, maxLength: 3 })
}

function setIn(target: unknown, path: string[], value: unknown): unknown {
  if (path.length === 0) return value
  const [key, ...rest] = path as [string, ...string[]]
  const object =
    target !== null && typeof target === 'object' && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {}
  const next = setIn(object[key], rest, value)
  if (next === undefined) delete object[key]
  else object[key] = next
  return object
}

interface Prepared {
  parts: RequestParts
  headers: Record<string, string>
}

function applyMutations(base: RequestParts, token: string, mutations: Mutation[]): Prepared {
  const parts: RequestParts = {
    path: { ...base.path },
    query: { ...base.query },
    headers: { ...base.headers },
    body: structuredClone(base.body),
  }
  const headers: Record<string, string> = { authorization: `Bearer ${token}` }
  for (const [slot, value] of mutations) {
    switch (slot.in) {
      case 'path':
        parts.path[slot.name] = value === undefined ? '' : String(value)
        break
      case 'query':
        if (value === undefined) delete parts.query[slot.name]
        else parts.query[slot.name] = value
        break
      case 'header':
        if (value === undefined) delete parts.headers[slot.name]
        else parts.headers[slot.name] = String(value)
        break
      case 'body':
        parts.body = setIn(parts.body, slot.path, value)
        if (parts.body === undefined) parts.body = null
        parts.rawBody = false
        break
      case 'rawBody':
        parts.body = value
        parts.rawBody = true
        break
      case 'contentType':
        parts.headers['content-type'] = String(value)
        break
      case 'authorization':
        if (value === undefined) delete headers.authorization
        else headers.authorization = String(value)
        break
    }
  }
  return { parts, headers }
}

describe(`fuzz: every OpenAPI operation, hostile inputs, no 5xx and only problem+json errors (${DATABASE})`, () => {
  let app: FastifyInstance
  let owner: TestUser
  let member: TestUser
  let recordIds: Record<string, string>

  before(async () => {
    app = await buildTestApp()
    owner = await register(app)
    member = await register(app)
    await addMember(app, owner, owner.organizationId, member, 'member')
    const contact = await createContact(app, owner, owner.organizationId, { email: 'fuzz@example.test' })
    const deal = await createDeal(app, owner, owner.organizationId, {
      contact_id: contact.id,
      amount: '10.00',
    })
    const task = await as(app, owner, owner.organizationId).post('/tasks', {
      deal_id: deal.id,
      title: 'Fuzz',
    })
    recordIds = {
      organizations: owner.organizationId,
      contacts: contact.id,
      deals: deal.id,
      tasks: task.json().id,
    }
  })
  after(() => app.close())

  /** Real ids for an operation's UUID fields: `{id}` is the record named by the path segment before it. */
  function idsFor(operation: Operation): IdsByName {
    const segments = operation.path.split('/')
    const resource = segments[segments.indexOf('{id}') - 1] ?? ''
    return {
      id: recordIds[resource] ?? randomUUID(),
      user_id: member.id,
      owner_id: owner.id,
      contact_id: recordIds.contacts as string,
      deal_id: recordIds.deals as string,
      'x-organization-id': owner.organizationId,
    }
  }

  it(`answers ${RUNS} hostile inputs per operation without a 5xx (seed ${SEED})`, async () => {
    const started = Date.now()
    const operations = await listOperations(app)
    // Deletions last, so the records the others aim at exist as long as possible.
    operations.sort((a, b) => Number(a.method === 'DELETE') - Number(b.method === 'DELETE'))
    assert.ok(operations.length >= 20, `only ${operations.length} operations in /openapi.json`)
    const statuses = new Map<string, number>()
    let requests = 0
    let unsendable = 0
    const perOperation: string[] = []

    for (const [index, operation] of operations.entries()) {
      const base = validRequest(operation, idsFor(operation))
      const send = async ({ parts, headers }: Prepared) => {
        let response: Awaited<ReturnType<FastifyInstance['inject']>>
        try {
          response = await app.inject(toInject(operation, parts, headers))
        } catch (error) {
          // A header value no HTTP client can send (light-my-request refuses it as Node would).
          if (
            /ERR_INVALID_CHAR|ERR_HTTP_INVALID_HEADER_VALUE/.test(String((error as { code?: string }).code))
          ) {
            unsendable++
            return
          }
          throw error
        }
        requests++
        const bucket = `${Math.floor(response.statusCode / 100)}xx`
        statuses.set(bucket, (statuses.get(bucket) ?? 0) + 1)
        const violation = contractViolation(response, ERROR_CODES)
        if (violation) {
          throw new Error(
            `${operationName(operation)}: ${violation}\nrequest: ${JSON.stringify(toInject(operation, parts, headers)).slice(0, 2_000)}\nresponse: ${response.statusCode} ${response.body.slice(0, 500)}`,
          )
        }
      }
      await send({ parts: base, headers: { authorization: `Bearer ${owner.token}` } })
      const before = requests
      const remaining = BUDGET_MS - (Date.now() - started)
      const share = Math.max(500, remaining / (operations.length - index))
      const result = await fc.check(
        fc.asyncProperty(mutationsOf(operation), async (mutations) => {
          await send(applyMutations(base, owner.token, mutations))
        }),
        {
          seed: SEED + index,
          numRuns: RUNS,
          interruptAfterTimeLimit: share,
          markInterruptAsFailure: false,
          endOnFailure: true,
        },
      )
      if (result.failed) {
        throw new Error(`${fc.defaultReportMessage(result) ?? ''}\n${String(result.errorInstance)}`)
      }
      perOperation.push(`${operationName(operation)}: ${requests - before}`)
    }

    const seconds = ((Date.now() - started) / 1000).toFixed(1)
    const fivexx = statuses.get('5xx') ?? 0
    console.log(
      `fuzz (${DATABASE}): ${operations.length} operations × up to ${RUNS + 1} inputs = ${requests} requests, ` +
        `5xx = ${fivexx}; ${[...statuses]
          .sort()
          .map(([bucket, count]) => `${bucket} ${count}`)
          .join(', ')}` +
        `${unsendable ? `; ${unsendable} unsendable header values skipped` : ''}; ${seconds} s, seed ${SEED}`,
    )
    if (requests < operations.length * (RUNS + 1))
      console.log(`fuzz: per operation: ${perOperation.join('; ')}`)
    assert.equal(fivexx, 0)
  })
})
