import { Ajv, type ErrorObject } from 'ajv'
import type { DataValidationCxt } from 'ajv/dist/types/index.js'
import addFormats from 'ajv-formats'
import type { FastifySchemaCompiler } from 'fastify'
import { isCurrency } from './currency.js'
import { isEmail, normalizeEmailText } from './email.js'
import type { FieldError } from './errors.js'
import { badTextPaths, TEXT_RULE_MESSAGE } from './text.js'
import { isUuid } from './uuid.js'

/**
 * Schema keyword that rewrites a value into its one stored and compared form before the other string
 * keywords run: `id` lower-cases a UUID, `email` trims and lower-cases an address. Handlers only ever see the
 * normalized value ("normalize at the edge, once").
 */
export const NORMALIZE_KEYWORD = 'x-normalize'
const NORMALIZERS: Record<string, (value: string) => string> = {
  id: (value) => value.toLowerCase(),
  email: normalizeEmailText,
}

function makeAjv(coerceTypes: boolean | 'array') {
  const ajv = new Ajv({
    coerceTypes,
    useDefaults: true,
    removeAdditional: false, // unknown fields are an error, never silently dropped
    allErrors: true,
    strict: false,
  })
  addFormats.default(ajv, ['date', 'date-time'])
  // ajv-formats' `uuid` also takes `urn:uuid:…`, which PostgreSQL refuses: only the 36-character form.
  ajv.addFormat('uuid', { type: 'string', validate: isUuid })
  // The same address rule as user emails (lib/email.ts), not ajv-formats' own.
  ajv.addFormat('email', { type: 'string', validate: isEmail })
  ajv.addKeyword({
    keyword: NORMALIZE_KEYWORD,
    type: 'string',
    modifying: true,
    before: 'maxLength',
    schemaType: 'string',
    validate: (kind: string, data: string, _schema: unknown, context?: DataValidationCxt) => {
      const normalize = NORMALIZERS[kind]
      if (normalize && context?.parentData !== undefined) {
        context.parentData[context.parentDataProperty] = normalize(data)
      }
      return true
    },
  })
  ajv.addFormat('iso4217', { type: 'string', validate: isCurrency })
  return ajv
}

// Bodies are JSON and keep their types ("5" is not a number); path, query and headers arrive as text and are
// coerced, with single query values wrapped into arrays for repeatable parameters.
const bodyAjv = makeAjv(false)
const textAjv = makeAjv('array')

/**
 * Every request part is checked by its schema and then by the one text rule (lib/text.ts), so a NUL or a lone
 * surrogate is a 400 naming its field wherever it appears, whatever the field's own schema says.
 */
export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const validate = (httpPart === 'body' ? bodyAjv : textAjv).compile(schema as object)
  const checked = (data: unknown) => {
    const valid = validate(data)
    const badText = badTextPaths(data)
    if (valid && badText.length === 0) return true
    checked.errors = [
      ...(validate.errors ?? []),
      ...badText.map(
        (instancePath): ErrorObject => ({
          keyword: 'text',
          instancePath,
          schemaPath: '#',
          params: {},
          message: TEXT_RULE_MESSAGE,
        }),
      ),
    ]
    return false
  }
  checked.errors = null as ErrorObject[] | null
  return checked
}

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
