import { Ajv, type ErrorObject } from 'ajv'
import addFormats from 'ajv-formats'
import type { FastifySchemaCompiler } from 'fastify'
import { isCurrency } from './currency.js'
import type { FieldError } from './errors.js'

function makeAjv(coerceTypes: boolean | 'array') {
  const ajv = new Ajv({
    coerceTypes,
    useDefaults: true,
    removeAdditional: false, // unknown fields are an error, never silently dropped
    allErrors: true,
    strict: false,
  })
  addFormats.default(ajv, ['uuid', 'email', 'date', 'date-time'])
  ajv.addFormat('iso4217', { type: 'string', validate: isCurrency })
  return ajv
}

// Bodies are JSON and keep their types ("5" is not a number); path, query and headers arrive as text and are
// coerced, with single query values wrapped into arrays for repeatable parameters.
const bodyAjv = makeAjv(false)
const textAjv = makeAjv('array')

export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) =>
  (httpPart === 'body' ? bodyAjv : textAjv).compile(schema as object)

/** Turns ajv errors into the spec's `{field, message}` list, with the request part as the field's prefix. */
export function fieldErrors(errors: ErrorObject[], part: string | undefined): FieldError[] {
  return errors.map((error) => {
    const path = error.instancePath
      .split('/')
      .filter(Boolean)
      .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'))
    const params = error.params as Record<string, unknown>
    if (error.keyword === 'required') path.push(String(params.missingProperty))
    if (error.keyword === 'additionalProperties') path.push(String(params.additionalProperty))
    const message =
      error.keyword === 'additionalProperties'
        ? 'is not an allowed field'
        : error.keyword === 'required'
          ? 'is required'
          : (error.message ?? 'is invalid')
    return { field: [part ?? 'request', ...path].join('.'), message }
  })
}
