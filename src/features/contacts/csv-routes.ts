import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { exportQuery, sendCsv } from '../../lib/csv-export.js'
import { acceptCsv, IMPORT_BODY_LIMIT, ImportResult, importQuery, requireCsv } from '../../lib/csv-import.js'
import { problems, TenantHeaders } from '../../lib/schemas.js'
import { CONTACT_IMPORT_COLUMNS, CONTACT_MATCH_ON, importContacts } from './import.js'
import { contactList } from './list.js'
import { Contact, ContactListQuery, toContact } from './schemas.js'

/** The list's filters and order, without its paging. */
export const ContactExportQuery = exportQuery(ContactListQuery)

/** `GET /contacts/export` and `POST /contacts/import` (spec §14). */
export default async function contactCsvRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.get(
    '/export',
    {
      schema: {
        tags: ['contacts'],
        operationId: 'exportContacts',
        summary: 'Export the contact list (its filters and order) as CSV',
        description:
          'Streams every contact matching the list filters, in the list order, as RFC 4180 CSV with a header row; cells that would start a formula are prefixed with an apostrophe.',
        produces: ['text/csv'],
        security: [{ bearerAuth: [] }],
        headers: TenantHeaders,
        querystring: ContactExportQuery,
        response: {
          200: Type.String({ description: 'text/csv; charset=utf-8' }),
          ...problems(400, 401, 403),
        },
      },
    },
    async (request, reply) => {
      const { search, owner_id, company_id, order_by, order } = request.query
      const list = contactList(app.db.db, request.actor.organizationId, {
        search,
        ownerId: owner_id,
        companyId: company_id,
        orderBy: order_by ?? 'created_at',
        order: order ?? 'desc',
      })
      return sendCsv(reply, 'contacts.csv', {
        ...list,
        columns: Object.keys(Contact.properties),
        toJson: toContact,
      })
    },
  )
  acceptCsv(app)
  app.post(
    '/import',
    {
      bodyLimit: IMPORT_BODY_LIMIT,
      onRequest: requireCsv,
      schema: {
        tags: ['contacts'],
        operationId: 'importContacts',
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
      return importContacts(app.db.db, request.actor, request.body, {
        matchOn: request.query.match_on ?? 'email',
        dryRun: request.query.dry_run ?? false,
      })
    },
  )
}
