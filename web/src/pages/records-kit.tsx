/**
 * Pieces shared by the record pages (contacts, companies, import, tasks): debounced search, cursor paging,
 * sortable headers, the owner filter, CSV export, record names by id, deal tables and delete confirmation.
 */
import type { Schemas } from '@mini-crm/client'
import { keepPreviousData, useQuery } from '@tanstack/react-query'
import { type ReactNode, useEffect, useState } from 'react'
import { Link } from 'react-router'
import { crm, downloadCsv, messageOf, org, unwrap } from '../api.ts'
import { useMemberNames, useMembers } from '../queries.ts'
import { useOrganizationId, useSession } from '../session.tsx'
import {
  ConfirmButton,
  ErrorMessage,
  formatMoney,
  Loading,
  SelectField,
  stageLabel,
  statusLabel,
  TableWrap,
  TextField,
  useNotify,
} from '../ui.tsx'
import './records.css'

export type Contact = Schemas['Contact']
export type Company = Schemas['Company']
export type Deal = Schemas['Deal']

/** The value once it has stopped changing for `delay` ms (a search box asks once per pause, not per key). */
export function useDebounced<T>(value: T, delay = 300): T {
  const [settled, setSettled] = useState(value)
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), delay)
    return () => clearTimeout(timer)
  }, [value, delay])
  return settled
}

export interface CursorPager {
  /** The cursor of the page shown (undefined: the first page). */
  cursor: string | undefined
  /** 1-based number of the page shown. */
  page: number
  next(cursor: string): void
  previous(): void
}

/**
 * Cursor paging with a stack of the cursors that led here, so Previous goes back. A cursor is bound to its
 * filters and order: when `resetKey` (those filters) changes, paging starts again at the first page.
 */
export function useCursorPager(resetKey: string): CursorPager {
  const [state, setState] = useState<{ key: string; stack: string[] }>({ key: resetKey, stack: [] })
  const stack = state.key === resetKey ? state.stack : []
  return {
    cursor: stack[stack.length - 1],
    page: stack.length + 1,
    next: (cursor) => setState({ key: resetKey, stack: [...stack, cursor] }),
    previous: () => setState({ key: resetKey, stack: stack.slice(0, -1) }),
  }
}

/** Previous / Next for a cursor-paged list, with the page number announced. */
export function Pager({
  pager,
  nextCursor,
  pages,
  label,
}: {
  pager: CursorPager
  nextCursor: string | null | undefined
  pages?: number | null | undefined
  label: string
}) {
  if (pager.page === 1 && !nextCursor) return null
  return (
    <nav className="pager" aria-label={label}>
      <button type="button" className="secondary small" disabled={pager.page === 1} onClick={pager.previous}>
        Previous
      </button>
      <span role="status">
        Page {pager.page}
        {pages ? ` of ${pages}` : ''}
      </span>
      <button
        type="button"
        className="secondary small"
        disabled={!nextCursor}
        onClick={() => nextCursor && pager.next(nextCursor)}
      >
        Next
      </button>
    </nav>
  )
}

export interface Sort<F extends string> {
  orderBy: F
  order: 'asc' | 'desc'
}

/** A column header that sorts the list: click toggles the direction; aria-sort tells which column sorts. */
export function SortHeader<F extends string>({
  label,
  field,
  sort,
  onSort,
  firstOrder = 'asc',
}: {
  label: string
  field: F
  sort: Sort<F>
  onSort: (sort: Sort<F>) => void
  /** The direction a first click on this column sorts in. */
  firstOrder?: 'asc' | 'desc'
}) {
  const active = sort.orderBy === field
  const ariaSort = active ? (sort.order === 'asc' ? 'ascending' : 'descending') : undefined
  const nextOrder = active ? (sort.order === 'asc' ? 'desc' : 'asc') : firstOrder
  return (
    <th scope="col" aria-sort={ariaSort}>
      <button type="button" className="sort" onClick={() => onSort({ orderBy: field, order: nextOrder })}>
        {label}
        <span aria-hidden="true" className="sort-arrow">
          {active ? (sort.order === 'asc' ? ' ▲' : ' ▼') : ' ↕'}
        </span>
      </button>
    </th>
  )
}

/** "Filter by owner": anyone, or one member (labelled apart from the "Owner" field of the forms). */
export function OwnerFilter({ value, onChange }: { value: string; onChange: (ownerId: string) => void }) {
  const { data: members } = useMembers()
  const { me } = useSession()
  const options = [
    { value: '', label: 'Anyone' },
    ...(members ?? []).map((member) => ({
      value: member.user_id,
      label: member.user_id === me?.id ? `${member.name} (me)` : member.name,
    })),
  ]
  return (
    <SelectField
      label="Filter by owner"
      name="owner_id"
      value={value}
      options={options}
      onChange={(event) => onChange(event.target.value)}
    />
  )
}

/**
 * Owners the caller may give a record (members: only themselves, managers and up: anyone); an owner select is
 * worth showing only when there is a choice.
 */
export function useAssignableOwners(): { value: string; label: string }[] {
  const { data: members } = useMembers()
  const { can } = useSession()
  return (members ?? [])
    .filter((member) => can('record.assign_owner', member.user_id))
    .map((member) => ({ value: member.user_id, label: member.name }))
}

export function OwnerName({ id }: { id: string }) {
  const nameOf = useMemberNames()
  return <>{nameOf(id)}</>
}

/** "Export CSV": the list's current filters as a download; a refusal is shown as a notice. */
export function ExportButton({ path, filename }: { path: string; filename: string }) {
  const notify = useNotify()
  const [busy, setBusy] = useState(false)
  return (
    <button
      type="button"
      className="secondary"
      disabled={busy}
      onClick={async () => {
        setBusy(true)
        try {
          await downloadCsv(path, filename)
        } catch (error) {
          notify('error', `Export failed: ${messageOf(error)}`)
        } finally {
          setBusy(false)
        }
      }}
    >
      {busy ? 'Exporting…' : 'Export CSV'}
    </button>
  )
}

/** A query string of the defined, non-empty values. */
export function queryString(params: Record<string, string | undefined>): string {
  const search = new URLSearchParams()
  for (const [name, value] of Object.entries(params)) if (value) search.set(name, value)
  const text = search.toString()
  return text ? `?${text}` : ''
}

export function useCompany(id: string | null | undefined) {
  const organizationId = useOrganizationId()
  return useQuery({
    queryKey: [organizationId, 'companies', id],
    queryFn: () =>
      unwrap(crm.GET('/api/v1/companies/{id}', { params: { header: org(), path: { id: id ?? '' } } })),
    enabled: Boolean(id),
    staleTime: 60_000,
  })
}

/** A company's name as a link to its page (— when none). */
export function CompanyLink({ id }: { id: string | null | undefined }) {
  const { data, isError } = useCompany(id)
  if (!id) return <>—</>
  if (isError) return <span className="muted">Unknown company</span>
  return <Link to={`/companies/${id}`}>{data?.name ?? '…'}</Link>
}

export function useDeal(id: string | undefined) {
  const organizationId = useOrganizationId()
  return useQuery({
    queryKey: [organizationId, 'deals', id],
    queryFn: () =>
      unwrap(crm.GET('/api/v1/deals/{id}', { params: { header: org(), path: { id: id ?? '' } } })),
    enabled: Boolean(id),
    staleTime: 30_000,
  })
}

/** A deal's title as a link to its page. */
export function DealLink({ id }: { id: string }) {
  const { data, isError } = useDeal(id)
  if (isError) return <span className="muted">Unknown deal</span>
  return <Link to={`/deals/${id}`}>{data?.title ?? 'Deal'}</Link>
}

/** Companies for a select, by name (the first 100; the API's page limit). */
export function useCompanyOptions(): { value: string; label: string }[] {
  const organizationId = useOrganizationId()
  const params = { order_by: 'name', order: 'asc', page_size: 100, count: false } as const
  const { data } = useQuery({
    queryKey: [organizationId, 'companies', params],
    queryFn: () => unwrap(crm.GET('/api/v1/companies', { params: { header: org(), query: params } })),
    staleTime: 30_000,
  })
  return (data?.items ?? []).map((company) => ({ value: company.id, label: company.name }))
}

/** The deals of a contact or a company, paged, titles linking to the deal pages. */
export function DealsTable({
  filter,
  caption,
}: {
  filter: { contact_id: string } | { company_id: string }
  caption: string
}) {
  const organizationId = useOrganizationId()
  const pager = useCursorPager(JSON.stringify(filter))
  const params = { ...filter, page_size: 20, ...(pager.cursor ? { cursor: pager.cursor } : {}) }
  const { data, error, isPending } = useQuery({
    queryKey: [organizationId, 'deals', params],
    queryFn: () => unwrap(crm.GET('/api/v1/deals', { params: { header: org(), query: params } })),
    placeholderData: keepPreviousData,
  })
  if (isPending) return <Loading label="Loading deals…" />
  if (error) return <ErrorMessage error={error} />
  if (data.items.length === 0) return <p className="muted">No deals yet.</p>
  return (
    <>
      <TableWrap label={caption}>
        <table>
          <caption className="visually-hidden">{caption}</caption>
          <thead>
            <tr>
              <th scope="col">Title</th>
              <th scope="col">Stage</th>
              <th scope="col">Status</th>
              <th scope="col" className="number">
                Amount
              </th>
              <th scope="col">Owner</th>
            </tr>
          </thead>
          <tbody>
            {data.items.map((deal) => (
              <tr key={deal.id}>
                <td>
                  <Link to={`/deals/${deal.id}`}>{deal.title}</Link>
                </td>
                <td>{stageLabel(deal.stage)}</td>
                <td>
                  <span className={`badge ${deal.status}`}>{statusLabel(deal.status)}</span>
                </td>
                <td className="number">{formatMoney(deal.amount, deal.currency)}</td>
                <td>
                  <OwnerName id={deal.owner_id} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableWrap>
      <Pager pager={pager} nextCursor={data.next_cursor} pages={data.pages} label={`${caption} pages`} />
    </>
  )
}

/**
 * A delete button that asks first; the service's refusal (e.g. 409 CONTACT_HAS_DEALS) is shown in the dialog.
 */
export function DeleteButton({
  label,
  question,
  children,
  onDelete,
}: {
  label: string
  question: string
  children?: ReactNode
  onDelete: () => Promise<void>
}) {
  return (
    <ConfirmButton
      label={label}
      title={question}
      question={<div>{children}</div>}
      confirm="Delete"
      action={onDelete}
      className="danger"
    />
  )
}

/** '' → null, for optional text fields the API clears with null. */
export function orNull(value: FormDataEntryValue | null): string | null {
  const text = typeof value === 'string' ? value.trim() : ''
  return text === '' ? null : text
}

export function text(value: FormDataEntryValue | null): string {
  return typeof value === 'string' ? value.trim() : ''
}

/** The editable fields of a contact (new or existing); field errors of the failed request next to each. */
export function ContactFields({ contact, error }: { contact?: Contact | undefined; error: unknown }) {
  const companies = useCompanyOptions()
  const owners = useAssignableOwners()
  const { me } = useSession()
  // Controlled, with the current company always among the options: the options arrive after the form, and a
  // select whose value is missing from its options would send "no company" and unlink it.
  const [companyId, setCompanyId] = useState(contact?.company_id ?? '')
  const current = useCompany(contact?.company_id)
  const companyOptions = [{ value: '', label: 'No company' }, ...companies]
  if (contact?.company_id && !companies.some((option) => option.value === contact.company_id)) {
    companyOptions.push({ value: contact.company_id, label: current.data?.name ?? 'Current company' })
  }
  return (
    <div className="form-grid">
      <TextField
        label="Name"
        name="name"
        required
        maxLength={255}
        defaultValue={contact?.name}
        error={error}
      />
      <TextField
        label="Email"
        name="email"
        type="email"
        maxLength={320}
        defaultValue={contact?.email ?? ''}
        error={error}
      />
      <TextField
        label="Phone"
        name="phone"
        type="tel"
        maxLength={50}
        defaultValue={contact?.phone ?? ''}
        error={error}
      />
      <SelectField
        label="Company"
        name="company_id"
        value={companyId}
        onChange={(event) => setCompanyId(event.target.value)}
        options={companyOptions}
        error={error}
      />
      {owners.length > 1 ? (
        <SelectField
          label="Owner"
          name="owner_id"
          defaultValue={contact?.owner_id ?? me?.id}
          options={owners}
          error={error}
        />
      ) : null}
    </div>
  )
}

/** The form's contact fields as the API body (empty optional fields are null, an absent owner is left out). */
export function contactBody(form: FormData) {
  const owner = text(form.get('owner_id'))
  return {
    name: text(form.get('name')),
    email: orNull(form.get('email')),
    phone: orNull(form.get('phone')),
    company_id: orNull(form.get('company_id')),
    ...(owner ? { owner_id: owner } : {}),
  }
}

/** The editable fields of a company (new or existing). */
export function CompanyFields({ company, error }: { company?: Company | undefined; error: unknown }) {
  const owners = useAssignableOwners()
  const { me } = useSession()
  return (
    <div className="form-grid">
      <TextField
        label="Name"
        name="name"
        required
        maxLength={255}
        defaultValue={company?.name}
        error={error}
      />
      <TextField
        label="Domain"
        name="domain"
        maxLength={300}
        placeholder="acme.com"
        defaultValue={company?.domain ?? ''}
        error={error}
      />
      {owners.length > 1 ? (
        <SelectField
          label="Owner"
          name="owner_id"
          defaultValue={company?.owner_id ?? me?.id}
          options={owners}
          error={error}
        />
      ) : null}
    </div>
  )
}

export function companyBody(form: FormData) {
  const owner = text(form.get('owner_id'))
  return {
    name: text(form.get('name')),
    domain: orNull(form.get('domain')),
    ...(owner ? { owner_id: owner } : {}),
  }
}
