import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import type { FastifyInstance } from 'fastify'
import { CLIENT_TYPES_PATH, DOCUMENT_PATH, generateOpenApiArtifacts } from '../scripts/openapi-artifacts.js'
import { API, buildTestApp } from './helpers.js'

// biome-ignore lint/suspicious/noExplicitAny: walking a JSON document
type Json = Record<string, any>
const METHODS = ['get', 'post', 'put', 'patch', 'delete']

function operations(document: Json): { id: string; path: string; method: string; operation: Json }[] {
  return Object.entries(document.paths as Json).flatMap(([path, item]) =>
    METHODS.filter((method) => item[method]).map((method) => ({
      id: `${method.toUpperCase()} ${path}`,
      path,
      method,
      operation: item[method] as Json,
    })),
  )
}

/** Validates a value against a schema of the document (refs resolved inside it), returning ajv's errors. */
function validator(document: Json) {
  const ajv = new Ajv2020({ strict: false, allErrors: true })
  addFormats.default(ajv)
  ajv.addSchema({ $id: 'https://openapi.test/document', components: document.components })
  return (schema: Json, value: unknown) => {
    const validate = ajv.compile(
      schema.$ref ? { $ref: `https://openapi.test/document${schema.$ref}` } : schema,
    )
    return validate(value) ? [] : (validate.errors ?? [])
  }
}

describe('the OpenAPI document', () => {
  let app: FastifyInstance
  let document: Json
  before(async () => {
    app = await buildTestApp()
    document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json()
  })
  after(() => app.close())

  it('describes every operation: operationId, summary, description and a declared tag', () => {
    const tags = new Set((document.tags as { name: string }[]).map((tag) => tag.name))
    const ids = new Set<string>()
    const all = operations(document)
    assert.ok(all.length >= 30, `${all.length} operations`)
    for (const { id, operation } of all) {
      assert.match(String(operation.operationId), /^[a-z][A-Za-z0-9]+$/, `${id} operationId`)
      assert.ok(!ids.has(operation.operationId), `${id}: duplicate operationId ${operation.operationId}`)
      ids.add(operation.operationId)
      assert.ok(String(operation.summary ?? '').length > 3, `${id} summary`)
      assert.ok(String(operation.description ?? '').length > 10, `${id} description`)
      assert.ok(Array.isArray(operation.tags) && operation.tags.length > 0, `${id} tags`)
      for (const tag of operation.tags) assert.ok(tags.has(tag), `${id}: tag ${tag} is not declared`)
    }
    assert.ok((document.servers as unknown[]).length > 0, 'a servers entry')
  })

  it('names every request and response body schema as a component', () => {
    for (const { id, operation } of operations(document)) {
      const media = [
        ...Object.values(operation.requestBody?.content ?? {}),
        ...Object.values(operation.responses as Json).flatMap((response: Json) =>
          Object.values(response.content ?? {}),
        ),
      ] as Json[]
      for (const entry of media) {
        const ref = String(entry.schema?.$ref ?? '')
        assert.match(ref, /^#\/components\/schemas\/[A-Za-z0-9]+$/, `${id}: an inline schema`)
        assert.ok(document.components.schemas[ref.split('/').pop() as string], `${id}: ${ref} exists`)
      }
    }
  })

  it('documents every error as problem+json with examples that validate and match the status', () => {
    const validate = validator(document)
    for (const { id, path, operation } of operations(document)) {
      const statuses = Object.keys(operation.responses)
      if (path.startsWith(API)) {
        assert.ok(
          statuses.some((status) => /^4\d\d$/.test(status)),
          `${id} documents a 4xx`,
        )
        assert.ok(statuses.includes('500'), `${id} documents 500`)
        assert.ok(statuses.includes('503'), `${id} documents 503`)
      }
      for (const [status, response] of Object.entries(operation.responses as Json)) {
        if (Number(status) < 400) continue
        assert.deepEqual(Object.keys(response.content), ['application/problem+json'], `${id} ${status}`)
        const media = response.content['application/problem+json']
        assert.equal(media.schema.$ref, '#/components/schemas/Problem', `${id} ${status}`)
        const examples = Object.values(media.examples ?? {}) as { value: Json }[]
        assert.ok(examples.length > 0, `${id} ${status} has examples`)
        for (const { value } of examples) {
          assert.deepEqual(validate(media.schema, value), [], `${id} ${status} example ${value.code}`)
          assert.equal(value.status, Number(status), `${id} ${status} example ${value.code}`)
        }
      }
    }
  })

  it('marks public operations `security: []` and every other one with the bearer scheme', () => {
    const publicIds = new Set([
      'POST /api/v1/auth/register',
      'POST /api/v1/auth/login',
      'POST /api/v1/auth/refresh',
      'POST /api/v1/auth/logout',
      'POST /api/v1/auth/session/refresh',
      'POST /api/v1/auth/session/logout',
      'POST /api/v1/auth/password-reset',
      'POST /api/v1/auth/password-reset/confirm',
      'GET /health',
      'GET /ready',
    ])
    for (const { id, operation } of operations(document)) {
      assert.deepEqual(operation.security, publicIds.has(id) ? [] : [{ bearerAuth: [] }], id)
    }
  })

  it('gives request examples that pass validation, and the register example works as sent', async () => {
    const validate = validator(document)
    let checked = 0
    for (const { id, operation } of operations(document)) {
      const media = operation.requestBody?.content?.['application/json']
      if (!media) continue
      const examples = [
        ...(media.example === undefined ? [] : [media.example]),
        ...Object.values(media.examples ?? {}).map((example) => (example as { value: unknown }).value),
      ]
      assert.ok(examples.length > 0, `${id} has a request example`)
      for (const example of examples) {
        assert.deepEqual(validate(media.schema, example), [], `${id} example`)
        checked++
      }
    }
    assert.ok(checked > 10)
    // "Try it out" with the document's own example: a new user, not a 400.
    const register = operations(document).find(({ id }) => id === 'POST /api/v1/auth/register')?.operation
    const example = register?.requestBody.content['application/json'].example
    const response = await app.inject({ method: 'POST', url: `${API}/auth/register`, payload: example })
    assert.equal(response.statusCode, 201, response.body)
  })

  it('gives response examples that validate and name no field the schema lacks, the v1.1 sales ones included', () => {
    const validate = validator(document)
    const resolve = (schema: Json): Json =>
      schema.$ref
        ? resolve(document.components.schemas[String(schema.$ref).split('/').pop() as string])
        : schema
    // Response schemas allow unknown fields (they are not request bodies): a misspelt field would still pass.
    const unknownFields = (schema: Json, value: unknown, at: string): string[] => {
      const resolved = resolve(schema)
      if (Array.isArray(value)) {
        return resolved.items
          ? value.flatMap((item, i) => unknownFields(resolved.items, item, `${at}[${i}]`))
          : []
      }
      if (!value || typeof value !== 'object') return []
      if (resolved.anyOf) {
        const fits = (resolved.anyOf as Json[]).map((option) => unknownFields(option, value, at))
        return fits.find((problems) => problems.length === 0) ?? (fits[0] as string[])
      }
      if (!resolved.properties) return []
      return Object.entries(value).flatMap(([key, child]) =>
        resolved.properties[key]
          ? unknownFields(resolved.properties[key], child, `${at}.${key}`)
          : [`${at}.${key}`],
      )
    }
    const withExamples = new Set<string>()
    for (const { id, operation } of operations(document)) {
      for (const [status, response] of Object.entries(operation.responses as Json)) {
        if (Number(status) >= 400) continue
        for (const media of Object.values(response.content ?? {}) as Json[]) {
          const examples = [
            ...(media.example === undefined ? [] : [media.example]),
            ...Object.values(media.examples ?? {}).map((example) => (example as { value: unknown }).value),
          ]
          for (const example of examples) {
            assert.deepEqual(validate(media.schema, example), [], `${id} ${status} example`)
            assert.deepEqual(unknownFields(media.schema, example, 'example'), [], `${id} ${status} example`)
          }
          if (examples.length > 0) withExamples.add(operation.operationId)
        }
      }
    }
    // Named components keep their examples (OpenAPI 3.1 schemas): each one validates against its schema too.
    for (const [name, schema] of Object.entries(document.components.schemas as Json)) {
      for (const example of schema.examples ?? []) {
        const ref = { $ref: `#/components/schemas/${name}` }
        assert.deepEqual(validate(ref, example), [], `${name} example`)
        assert.deepEqual(unknownFields(ref, example, name), [], `${name} example`)
      }
    }
    const sales = [
      ['createCompany', 'getCompany', 'updateCompany'],
      ['createDeal', 'getDeal', 'updateDeal', 'listDealStageHistory', 'getPipeline', 'updatePipeline'],
      ['getDealSummary', 'getDealForecast', 'getDealVelocity', 'getOrganization', 'updateOrganization'],
    ].flat()
    for (const operationId of sales)
      assert.ok(withExamples.has(operationId), `${operationId} response example`)
  })

  it('is the committed docs/openapi.json, and the client types are generated from it', async () => {
    const { document: served, files } = await generateOpenApiArtifacts()
    assert.deepEqual(served, document)
    for (const path of [DOCUMENT_PATH, CLIENT_TYPES_PATH]) {
      assert.equal(readFileSync(path, 'utf8'), files[path], `${path} is out of date: run npm run openapi`)
    }
  })
})
