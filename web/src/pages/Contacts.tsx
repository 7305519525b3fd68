/** /contacts: search, owner filter, sortable columns, cursor paging; new contact, CSV export and import. */
import { crm, org, unwrap } from '../api.ts'
import { CompanyLink, type Contact, ContactFields, contactBody } from './records-kit.tsx'
import { type RecordKind, RecordListPage } from './records-list.tsx'

const contacts: RecordKind<Contact> = {
  list: 'contacts',
  singular: 'contact',
  plural: 'contacts',
  createAction: 'contact.create',
  searchHint: 'Name or email',
  fetchPage: (query) => unwrap(crm.GET('/api/v1/contacts', { params: { header: org(), query } })),
  create: (form) =>
    unwrap(crm.POST('/api/v1/contacts', { params: { header: org() }, body: contactBody(form) })),
  Fields: ContactFields,
  columns: [
    { header: 'Email', cell: (contact) => contact.email ?? '—', className: 'wrap' },
    { header: 'Phone', cell: (contact) => contact.phone ?? '—' },
    { header: 'Company', cell: (contact) => <CompanyLink id={contact.company_id} /> },
  ],
}

export default function Contacts() {
  return <RecordListPage kind={contacts} />
}
