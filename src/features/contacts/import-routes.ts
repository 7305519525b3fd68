import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { IMPORT_BODY_LIMIT, ImportResult, importQuery } from '../../lib/csv-import.js'
import { AppError } from '../../lib/errors.js'
import { problems, TenantHeaders } from '../../lib/schemas.js'
import { CONTACT_IMPORT_COLUMNS, CONTACT_MATCH_ON, importContacts } from './import.js'

/** Only `text/csv` bodies; checked before the body is read, so a large body of another type is refused at once. */
export function requireCsv(request: FastifyRequest, _reply: unknown, done: (error?: Error) => void) {
  const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase()
  if (type !== 'text/csv') {
    done(new AppError('UNSUPPORTED_MEDIA_TYPE', 'The import takes a text/csv body'))
    return
  }
  done()
}

/** A text/csv body as a string (UTF-8), up to IMPORT_BODY_LIMIT; registered in the import routes' scope only. */
export function acceptCsv(app: FastifyInstance) {
  app.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit: IMPORT_BODY_LIMIT }, (_request, body, done) =>
    done(null, body),
  )
}

export default async function contactImportRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  acceptCsv(app)
  app.post(
    '/import',
    {
      bodyLimit: IMPORT_BODY_LIMIT,
      onRequest: requireCsv,
      schema: {
        tags: ['contacts'],
        summary: 'Import contacts from CSV (match on email, dry run, per-row report)',
        description:
          `Columns: ${CONTACT_IMPORT_COLUMNS.join(', ')} (name required; any other column is 400). ` +
          'Valid rows commit in one transaction; failed rows are reported with their line number (header = 1).',
        consumes: ['text/csv'],
        security: [{ bearerAuth: [] }],
        headers: TenantHeaders,
        querystring: importQuery(CONTACT_MATCH_ON),
        body: Type.String({ description: 'CSV with a header row (RFC 4180), up to 10 MiB' }),
        response: { 200: ImportResult, ...problems(400, 401, 403, 413, 415) },
      },
    },
    async (request) => {
      const { membership, userId } = request
      return importContacts(
        app.db.db,
        { userId, organizationId: membership.organizationId, role: membership.role },
        request.body,
        { matchOn: request.query.match_on ?? 'email', dryRun: request.query.dry_run ?? false },
      )
    },
  )
}
