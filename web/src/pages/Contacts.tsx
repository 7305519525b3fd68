/** /contacts: search, owner filter, sortable columns, cursor paging; new contact, CSV export and import. */
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useId, useState } from 'react'
import { Link } from 'react-router'
import { crm, org, unwrap } from '../api.ts'
import { useOrganizationId, useSession } from '../session.tsx'
import { ErrorMessage, formatTime, Loading, TableWrap, TextField, useNotify } from '../ui.tsx'
import {
  CompanyLink,
  ContactFields,
  contactBody,
  ExportButton,
  OwnerFilter,
  OwnerName,
  Pager,
  queryString,
  type Sort,
  SortHeader,
  useCursorPager,
  useDebounced,
} from './records-kit.tsx'

type ContactOrder = 'name' | 'created_at'

export default function Contacts() {
  const { can } = useSession()
  const organizationId = useOrganizationId()
  const [search, setSearch] = useState('')
  const [ownerId, setOwnerId] = useState('')
  const [sort, setSort] = useState<Sort<ContactOrder>>({ orderBy: 'created_at', order: 'desc' })
  const [creating, setCreating] = useState(false)
  const term = useDebounced(search.trim())

  const filters = {
    ...(term ? { search: term } : {}),
    ...(ownerId ? { owner_id: ownerId } : {}),
    order_by: sort.orderBy,
    order: sort.order,
  }
  const pager = useCursorPager(JSON.stringify(filters))
  const params = { ...filters, page_size: 20, ...(pager.cursor ? { cursor: pager.cursor } : {}) }
  const { data, error, isPending, isFetching } = useQuery({
    queryKey: [organizationId, 'contacts', params],
    queryFn: () => unwrap(crm.GET('/api/v1/contacts', { params: { header: org(), query: params } })),
    placeholderData: keepPreviousData,
  })
  const exportPath = `/api/v1/contacts/export${queryString({
    search: term,
    owner_id: ownerId,
    order_by: sort.orderBy,
    order: sort.order,
  })}`

  return (
    <div className="stack">
      <div className="spread">
        <h1>Contacts</h1>
        <div className="record-actions">
          {can('contact.create') ? (
            <button type="button" aria-expanded={creating} onClick={() => setCreating((open) => !open)}>
              New contact
            </button>
          ) : null}
          <ExportButton path={exportPath} filename="contacts.csv" />
          {can('contact.create') ? (
            <Link className="button secondary" to="/import/contacts">
              Import CSV
            </Link>
          ) : null}
        </div>
      </div>

      {creating && can('contact.create') ? <NewContact onDone={() => setCreating(false)} /> : null}

      <search className="filters">
        <TextField
          label="Search contacts"
          name="search"
          type="search"
          value={search}
          maxLength={255}
          onChange={(event) => setSearch(event.target.value)}
          hint="Name or email"
        />
        <OwnerFilter value={ownerId} onChange={setOwnerId} />
      </search>

      {isPending ? (
        <Loading label="Loading contacts…" />
      ) : error ? (
        <ErrorMessage error={error} />
      ) : (
        <section aria-labelledby="contacts-heading" aria-busy={isFetching}>
          <h2 id="contacts-heading" className="visually-hidden">
            Contact list
          </h2>
          <p className="muted" role="status">
            {data.total === null ? '' : `${data.total} ${data.total === 1 ? 'contact' : 'contacts'}`}
          </p>
          {data.items.length === 0 ? (
            <p>{term || ownerId ? 'No contacts match these filters.' : 'No contacts yet.'}</p>
          ) : (
            <TableWrap label="Contacts table">
              <table className="records-table">
                <caption className="visually-hidden">Contacts</caption>
                <thead>
                  <tr>
                    <SortHeader label="Name" field="name" sort={sort} onSort={setSort} />
                    <th scope="col">Email</th>
                    <th scope="col">Phone</th>
                    <th scope="col">Company</th>
                    <th scope="col">Owner</th>
                    <SortHeader
                      label="Created"
                      field="created_at"
                      sort={sort}
                      onSort={setSort}
                      firstOrder="desc"
                    />
                  </tr>
                </thead>
                <tbody>
                  {data.items.map((contact) => (
                    <tr key={contact.id}>
                      <td className="wrap">
                        <Link to={`/contacts/${contact.id}`}>{contact.name}</Link>
                      </td>
                      <td className="wrap">{contact.email ?? '—'}</td>
                      <td>{contact.phone ?? '—'}</td>
                      <td>
                        <CompanyLink id={contact.company_id} />
                      </td>
                      <td>
                        <OwnerName id={contact.owner_id} />
                      </td>
                      <td>{formatTime(contact.created_at)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
          )}
          <Pager pager={pager} nextCursor={data.next_cursor} pages={data.pages} label="Contact pages" />
        </section>
      )}
    </div>
  )
}

function NewContact({ onDone }: { onDone: () => void }) {
  const organizationId = useOrganizationId()
  const queryClient = useQueryClient()
  const notify = useNotify()
  const headingId = useId()
  const create = useMutation({
    mutationFn: (form: FormData) =>
      unwrap(crm.POST('/api/v1/contacts', { params: { header: org() }, body: contactBody(form) })),
    onSuccess: async (contact) => {
      notify('info', `Contact “${contact.name}” created`)
      await queryClient.invalidateQueries({ queryKey: [organizationId, 'contacts'] })
      onDone()
    },
  })
  return (
    <section className="card" aria-labelledby={headingId}>
      <h2 id={headingId}>New contact</h2>
      <form
        className="stack"
        onSubmit={(event) => {
          event.preventDefault()
          create.mutate(new FormData(event.currentTarget))
        }}
      >
        <ContactFields error={create.error} />
        <ErrorMessage error={create.error} />
        <div className="row">
          <button type="submit" disabled={create.isPending}>
            {create.isPending ? 'Creating…' : 'Create contact'}
          </button>
          <button type="button" className="secondary" onClick={onDone}>
            Cancel
          </button>
        </div>
      </form>
    </section>
  )
}
