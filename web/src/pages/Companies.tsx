/** /companies: search, owner filter, sortable columns, cursor paging; new company, CSV export and import. */
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useId, useState } from 'react'
import { Link } from 'react-router'
import { crm, org, unwrap } from '../api.ts'
import { useOrganizationId, useSession } from '../session.tsx'
import { ErrorMessage, formatTime, Loading, TableWrap, TextField, useNotify } from '../ui.tsx'
import {
  CompanyFields,
  companyBody,
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

type CompanyOrder = 'name' | 'created_at'

export default function Companies() {
  const { can } = useSession()
  const organizationId = useOrganizationId()
  const [search, setSearch] = useState('')
  const [ownerId, setOwnerId] = useState('')
  const [sort, setSort] = useState<Sort<CompanyOrder>>({ orderBy: 'created_at', order: 'desc' })
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
    queryKey: [organizationId, 'companies', params],
    queryFn: () => unwrap(crm.GET('/api/v1/companies', { params: { header: org(), query: params } })),
    placeholderData: keepPreviousData,
  })
  const exportPath = `/api/v1/companies/export${queryString({
    search: term,
    owner_id: ownerId,
    order_by: sort.orderBy,
    order: sort.order,
  })}`

  return (
    <div className="stack">
      <div className="spread">
        <h1>Companies</h1>
        <div className="record-actions">
          {can('company.create') ? (
            <button type="button" aria-expanded={creating} onClick={() => setCreating((open) => !open)}>
              New company
            </button>
          ) : null}
          <ExportButton path={exportPath} filename="companies.csv" />
          {can('company.create') ? (
            <Link className="button secondary" to="/import/companies">
              Import CSV
            </Link>
          ) : null}
        </div>
      </div>

      {creating && can('company.create') ? <NewCompany onDone={() => setCreating(false)} /> : null}

      <search className="filters">
        <TextField
          label="Search companies"
          name="search"
          type="search"
          value={search}
          maxLength={255}
          onChange={(event) => setSearch(event.target.value)}
          hint="Name or domain"
        />
        <OwnerFilter value={ownerId} onChange={setOwnerId} />
      </search>

      {isPending ? (
        <Loading label="Loading companies…" />
      ) : error ? (
        <ErrorMessage error={error} />
      ) : (
        <section aria-labelledby="companies-heading" aria-busy={isFetching}>
          <h2 id="companies-heading" className="visually-hidden">
            Company list
          </h2>
          <p className="muted" role="status">
            {data.total === null ? '' : `${data.total} ${data.total === 1 ? 'company' : 'companies'}`}
          </p>
          {data.items.length === 0 ? (
            <p>{term || ownerId ? 'No companies match these filters.' : 'No companies yet.'}</p>
          ) : (
            <TableWrap label="Companies table">
              <table className="records-table">
                <caption className="visually-hidden">Companies</caption>
                <thead>
                  <tr>
                    <SortHeader label="Name" field="name" sort={sort} onSort={setSort} />
                    <th scope="col">Domain</th>
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
                  {data.items.map((company) => (
                    <tr key={company.id}>
                      <td className="wrap">
                        <Link to={`/companies/${company.id}`}>{company.name}</Link>
                      </td>
                      <td className="wrap">{company.domain ?? '—'}</td>
                      <td>
                        <OwnerName id={company.owner_id} />
                      </td>
                      <td>{formatTime(company.created_at)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
          )}
          <Pager pager={pager} nextCursor={data.next_cursor} pages={data.pages} label="Company pages" />
        </section>
      )}
    </div>
  )
}

function NewCompany({ onDone }: { onDone: () => void }) {
  const organizationId = useOrganizationId()
  const queryClient = useQueryClient()
  const notify = useNotify()
  const headingId = useId()
  const create = useMutation({
    mutationFn: (form: FormData) =>
      unwrap(crm.POST('/api/v1/companies', { params: { header: org() }, body: companyBody(form) })),
    onSuccess: async (company) => {
      notify('info', `Company “${company.name}” created`)
      await queryClient.invalidateQueries({ queryKey: [organizationId, 'companies'] })
      onDone()
    },
  })
  return (
    <section className="card" aria-labelledby={headingId}>
      <h2 id={headingId}>New company</h2>
      <form
        className="stack"
        onSubmit={(event) => {
          event.preventDefault()
          create.mutate(new FormData(event.currentTarget))
        }}
      >
        <CompanyFields error={create.error} />
        <ErrorMessage error={create.error} />
        <div className="row">
          <button type="submit" disabled={create.isPending}>
            {create.isPending ? 'Creating…' : 'Create company'}
          </button>
          <button type="button" className="secondary" onClick={onDone}>
            Cancel
          </button>
        </div>
      </form>
    </section>
  )
}
