/** /companies/:id: the company (editable by whoever may), its contacts and deals, delete. */
import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query'
import { Link, useNavigate, useParams } from 'react-router'
import { crm, org, unwrap } from '../api.ts'
import { useOrganizationId, useSession } from '../session.tsx'
import { ErrorMessage, formatTime, Loading, TableWrap, useNotify } from '../ui.tsx'
import {
  CompanyFields,
  type Company as CompanyRecord,
  companyBody,
  DealsTable,
  DeleteButton,
  OwnerName,
  Pager,
  useCompany,
  useCursorPager,
} from './records-kit.tsx'
import { RecordEditForm } from './records-list.tsx'

export default function Company() {
  const { id = '' } = useParams()
  const { can } = useSession()
  const { data: company, error } = useCompany(id)
  if (error) {
    return (
      <div className="stack">
        <h1>Company</h1>
        <ErrorMessage error={error} />
        <p>
          <Link to="/companies">Back to companies</Link>
        </p>
      </div>
    )
  }
  if (!company) return <Loading label="Loading company…" />
  const canEdit = can('company.update', company.owner_id)
  return (
    <div className="stack">
      <p>
        <Link to="/companies">← Companies</Link>
      </p>
      <div className="spread">
        <h1>{company.name}</h1>
        {can('company.delete', company.owner_id) ? <DeleteCompany company={company} /> : null}
      </div>

      <section className="card stack" aria-labelledby="company-details">
        <h2 id="company-details">Details</h2>
        <dl className="details-list">
          {canEdit ? null : (
            <>
              <dt>Domain</dt>
              <dd>{company.domain ?? '—'}</dd>
            </>
          )}
          <dt>Owner</dt>
          <dd>
            <OwnerName id={company.owner_id} />
          </dd>
          <dt>Created</dt>
          <dd>{formatTime(company.created_at)}</dd>
        </dl>
        {canEdit ? <EditCompany key={company.updated_at} company={company} /> : null}
      </section>

      <section className="stack" aria-labelledby="company-contacts">
        <h2 id="company-contacts">Contacts</h2>
        <CompanyContacts company={company} />
      </section>

      <section className="stack" aria-labelledby="company-deals">
        <h2 id="company-deals">Deals</h2>
        <DealsTable filter={{ company_id: company.id }} caption={`Deals of ${company.name}`} />
      </section>
    </div>
  )
}

function EditCompany({ company }: { company: CompanyRecord }) {
  return (
    <RecordEditForm
      list="companies"
      singular="company"
      save={(form) =>
        unwrap(
          crm.PATCH('/api/v1/companies/{id}', {
            params: { header: org(), path: { id: company.id } },
            body: companyBody(form),
          }),
        )
      }
      fields={(error) => <CompanyFields company={company} error={error} />}
    />
  )
}

function CompanyContacts({ company }: { company: CompanyRecord }) {
  const organizationId = useOrganizationId()
  const pager = useCursorPager(company.id)
  const params = {
    company_id: company.id,
    order_by: 'name',
    order: 'asc',
    page_size: 20,
    ...(pager.cursor ? { cursor: pager.cursor } : {}),
  } as const
  const { data, error, isPending } = useQuery({
    queryKey: [organizationId, 'contacts', params],
    queryFn: () => unwrap(crm.GET('/api/v1/contacts', { params: { header: org(), query: params } })),
    placeholderData: keepPreviousData,
  })
  if (isPending) return <Loading label="Loading contacts…" />
  if (error) return <ErrorMessage error={error} />
  if (data.items.length === 0) return <p className="muted">No contacts at this company.</p>
  return (
    <>
      <TableWrap label="Company contacts">
        <table>
          <caption className="visually-hidden">Contacts at {company.name}</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Email</th>
              <th scope="col">Phone</th>
              <th scope="col">Owner</th>
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
                  <OwnerName id={contact.owner_id} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableWrap>
      <Pager pager={pager} nextCursor={data.next_cursor} pages={data.pages} label="Contact pages" />
    </>
  )
}

function DeleteCompany({ company }: { company: CompanyRecord }) {
  const organizationId = useOrganizationId()
  const queryClient = useQueryClient()
  const navigate = useNavigate()
  const notify = useNotify()
  return (
    <DeleteButton
      label="Delete company"
      question={`Delete ${company.name}?`}
      onDelete={async () => {
        await unwrap(
          crm.DELETE('/api/v1/companies/{id}', { params: { header: org(), path: { id: company.id } } }),
        )
        queryClient.removeQueries({ queryKey: [organizationId, 'companies', company.id] })
        await queryClient.invalidateQueries({ queryKey: [organizationId, 'companies'] })
        notify('info', `Company “${company.name}” deleted`)
        navigate('/companies')
      }}
    >
      <p>This cannot be undone. A company that still has contacts cannot be deleted.</p>
    </DeleteButton>
  )
}
