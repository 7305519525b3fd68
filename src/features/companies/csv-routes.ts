import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { exportQuery, sendCsv } from '../../lib/csv-export.js'
import { acceptCsv, IMPORT_BODY_LIMIT, ImportResult, importQuery, requireCsv } from '../../lib/csv-import.js'
import { problems, TenantHeaders } from '../../lib/schemas.js'
import { COMPANY_IMPORT_COLUMNS, COMPANY_MATCH_ON, importCompanies } from './import.js'
import { companyFiltersOf, companyList } from './list.js'
import { companyBody } from './queries.js'
import { Company, CompanyListQuery } from './schemas.js'

/** The list's filters and order, without its paging. */
export const CompanyExportQuery = exportQuery(CompanyListQuery)

/** `GET /companies/export` and `POST /companies/import` (spec §14), as contacts have them. */
export default async function companyCsvRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.get(
    '/export',
    {
      schema: {
        tags: ['companies'],
        operationId: 'exportCompanies',
        summary: 'Export the company list (its filters and order) as CSV',
        description:
          'Streams every company matching the list filters, in the list order, as RFC 4180 CSV with a header row; cells that would start a formula are prefixed with an apostrophe.',
        produces: ['text/csv'],
        security: [{ bearerAuth: [] }],
        headers: TenantHeaders,
        querystring: CompanyExportQuery,
        response: {
          200: Type.String({ description: 'text/csv; charset=utf-8' }),
          ...problems(400, 401, 403),
        },
      },
    },
    async (request, reply) => {
      const list = companyList(app.db.db, request.actor.organizationId, companyFiltersOf(request.query))
      return sendCsv(reply, 'companies.csv', {
        ...list,
        columns: Object.keys(Company.properties),
        toJson: companyBody,
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
        tags: ['companies'],
        operationId: 'importCompanies',
        summary: 'Import companies from CSV (match on domain, dry run, per-row report)',
        description:
          `Columns: ${COMPANY_IMPORT_COLUMNS.join(', ')} (name required; any other column is 400). ` +
          'Rows match existing companies on domain (or none: every row creates); a domain another company has, ' +
          'or an earlier row of the file, fails the row. Valid rows commit in one transaction; failed rows are ' +
          'reported with their line number (header = 1).',
        consumes: ['text/csv'],
        security: [{ bearerAuth: [] }],
        headers: TenantHeaders,
        querystring: importQuery(COMPANY_MATCH_ON),
        body: Type.String({ description: 'CSV with a header row (RFC 4180), up to 10 MiB' }),
        response: { 200: ImportResult, ...problems(400, 401, 403, 413, 415) },
      },
    },
    async (request) => {
      return importCompanies(app.db.db, request.actor, request.body, {
        matchOn: request.query.match_on ?? 'domain',
        dryRun: request.query.dry_run ?? false,
      })
    },
  )
}
