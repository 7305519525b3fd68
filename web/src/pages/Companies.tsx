/** /companies: search, owner filter, sortable columns, cursor paging; new company, CSV export and import. */
import { crm, org, unwrap } from '../api.ts'
import { type Company, CompanyFields, companyBody } from './records-kit.tsx'
import { type RecordKind, RecordListPage } from './records-list.tsx'

const companies: RecordKind<Company> = {
  list: 'companies',
  singular: 'company',
  plural: 'companies',
  createAction: 'company.create',
  searchHint: 'Name or domain',
  fetchPage: (query) => unwrap(crm.GET('/api/v1/companies', { params: { header: org(), query } })),
  create: (form) =>
    unwrap(crm.POST('/api/v1/companies', { params: { header: org() }, body: companyBody(form) })),
  Fields: CompanyFields,
  columns: [{ header: 'Domain', cell: (company) => company.domain ?? '—', className: 'wrap' }],
}

export default function Companies() {
  return <RecordListPage kind={companies} />
}
