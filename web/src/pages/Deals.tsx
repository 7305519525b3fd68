/** The deals table: the list's filters, sorting by column, cursor paging; "New deal" opens a form. */
import type { Schemas } from '@mini-crm/client'
import { useQuery } from '@tanstack/react-query'
import { type FormEvent, useDeferredValue, useState } from 'react'
import { Link, useNavigate, useSearchParams } from 'react-router'
import { crm, org, unwrap } from '../api.ts'
import { useInvalidateDeals } from '../deals-kit.ts'
import { useMemberNames, useMembers, useOrganization } from '../queries.ts'
import { useOrganizationId, useSession } from '../session.tsx'
import {
  Dialog,
  ErrorMessage,
  formatDay,
  formatMoney,
  Loading,
  SelectField,
  STAGES,
  STATUSES,
  type Stage,
  type Status,
  stageLabel,
  statusLabel,
  TableWrap,
  TextField,
} from '../ui.tsx'

type OrderBy = 'created_at' | 'updated_at' | 'amount' | 'title' | 'expected_close_date'
const PAGE_SIZE = 25

export default function Deals() {
  const organizationId = useOrganizationId()
  const ownerName = useMemberNames()
  const members = useMembers()
  const { can } = useSession()
  const [params, setParams] = useSearchParams()
  const [status, setStatus] = useState('')
  const [stage, setStage] = useState('')
  const [ownerId, setOwnerId] = useState('')
  const [searchInput, setSearchInput] = useState('')
  const search = useDeferredValue(searchInput.trim())
  const [minAmount, setMinAmount] = useState('')
  const [maxAmount, setMaxAmount] = useState('')
  const [closeAfter, setCloseAfter] = useState('')
  const [closeBefore, setCloseBefore] = useState('')
  const [orderBy, setOrderBy] = useState<OrderBy>('updated_at')
  const [order, setOrder] = useState<'asc' | 'desc'>('desc')
  // Cursor paging: the cursors of the pages before this one, so Previous walks back.
  const [cursors, setCursors] = useState<string[]>([])
  const cursor = cursors.at(-1)
  const query = {
    page_size: PAGE_SIZE,
    order_by: orderBy,
    order,
    expand: 'contact' as const,
    ...(status === 'open'
      ? { status: ['new', 'in_progress'] as Status[] }
      : status
        ? { status: [status as Status] }
        : {}),
    ...(stage ? { stage: [stage as Stage] } : {}),
    ...(ownerId ? { owner_id: ownerId } : {}),
    ...(search ? { search } : {}),
    ...(minAmount ? { min_amount: minAmount } : {}),
    ...(maxAmount ? { max_amount: maxAmount } : {}),
    ...(closeAfter ? { expected_close_after: closeAfter } : {}),
    ...(closeBefore ? { expected_close_before: closeBefore } : {}),
    ...(cursor ? { cursor } : {}),
  }
  const list = useQuery({
    queryKey: [organizationId, 'deals', query],
    queryFn: () => unwrap(crm.GET('/api/v1/deals', { params: { header: org(), query } })),
    placeholderData: (previous) => previous,
  })
  const resetPaging =
    <T,>(set: (value: T) => void) =>
    (value: T) => {
      set(value)
      setCursors([])
    }
  function sortBy(column: OrderBy) {
    if (orderBy === column) setOrder(order === 'asc' ? 'desc' : 'asc')
    else {
      setOrderBy(column)
      setOrder(column === 'title' ? 'asc' : 'desc')
    }
    setCursors([])
  }
  const sortHeader = (column: OrderBy, label: string, className?: string) => (
    <th
      className={className}
      aria-sort={orderBy === column ? (order === 'asc' ? 'ascending' : 'descending') : undefined}
    >
      <button type="button" className="sort" onClick={() => sortBy(column)}>
        {label}
        {orderBy === column ? (order === 'asc' ? ' ▲' : ' ▼') : ''}
      </button>
    </th>
  )
  const creating = params.get('new') === '1'
  return (
    <>
      <div className="spread">
        <h1>Deals</h1>
        {can('deal.create') ? (
          <button type="button" onClick={() => setParams({ new: '1' })}>
            New deal
          </button>
        ) : null}
      </div>
      <form
        className="row card filters"
        onSubmit={(event) => event.preventDefault()}
        aria-label="Deal filters"
      >
        <TextField
          label="Search deals"
          name="search"
          type="search"
          value={searchInput}
          onChange={(event) => resetPaging(setSearchInput)(event.target.value)}
        />
        <SelectField
          label="Status"
          name="status"
          value={status}
          onChange={(event) => resetPaging(setStatus)(event.target.value)}
          options={[
            { value: '', label: 'Any' },
            { value: 'open', label: 'Open (new, in progress)' },
            ...STATUSES.map((s) => ({ value: s, label: statusLabel(s) })),
          ]}
        />
        <SelectField
          label="Stage"
          name="stage"
          value={stage}
          onChange={(event) => resetPaging(setStage)(event.target.value)}
          options={[{ value: '', label: 'Any' }, ...STAGES.map((s) => ({ value: s, label: stageLabel(s) }))]}
        />
        <SelectField
          label="Owner"
          name="owner_id"
          value={ownerId}
          onChange={(event) => resetPaging(setOwnerId)(event.target.value)}
          options={[
            { value: '', label: 'Everyone' },
            ...(members.data ?? []).map((m) => ({ value: m.user_id, label: m.name })),
          ]}
        />
        <TextField
          label="Min amount"
          name="min_amount"
          inputMode="decimal"
          value={minAmount}
          onChange={(event) => resetPaging(setMinAmount)(event.target.value)}
          error={list.error}
          size={8}
        />
        <TextField
          label="Max amount"
          name="max_amount"
          inputMode="decimal"
          value={maxAmount}
          onChange={(event) => resetPaging(setMaxAmount)(event.target.value)}
          error={list.error}
          size={8}
        />
        <TextField
          label="Closes after"
          name="expected_close_after"
          type="date"
          value={closeAfter}
          onChange={(event) => resetPaging(setCloseAfter)(event.target.value)}
        />
        <TextField
          label="Closes before"
          name="expected_close_before"
          type="date"
          value={closeBefore}
          onChange={(event) => resetPaging(setCloseBefore)(event.target.value)}
        />
      </form>
      <ErrorMessage error={list.error} />
      {list.isPending ? (
        <Loading />
      ) : (
        <TableWrap label="Deals table">
          <table>
            <caption className="visually-hidden">Deals</caption>
            <thead>
              <tr>
                {sortHeader('title', 'Title')}
                <th>Contact</th>
                {sortHeader('amount', 'Amount', 'number')}
                <th>Stage</th>
                <th>Status</th>
                <th>Owner</th>
                {sortHeader('expected_close_date', 'Expected close')}
                {sortHeader('updated_at', 'Updated')}
              </tr>
            </thead>
            <tbody>
              {list.data?.items.map((deal) => (
                <tr key={deal.id}>
                  <td>
                    <Link to={`/deals/${deal.id}`}>{deal.title}</Link>
                  </td>
                  <td>
                    {deal.contact ? (
                      <Link to={`/contacts/${deal.contact.id}`}>{deal.contact.name}</Link>
                    ) : (
                      '—'
                    )}
                  </td>
                  <td className="number">{formatMoney(deal.amount, deal.currency)}</td>
                  <td>{stageLabel(deal.stage)}</td>
                  <td>
                    <span className={`badge ${deal.status}`}>{statusLabel(deal.status)}</span>
                  </td>
                  <td>{ownerName(deal.owner_id)}</td>
                  <td>{formatDay(deal.expected_close_date)}</td>
                  <td>{formatDay(deal.updated_at.slice(0, 10))}</td>
                </tr>
              ))}
              {list.data?.items.length === 0 ? (
                <tr>
                  <td colSpan={8} className="muted">
                    No deals match.
                  </td>
                </tr>
              ) : null}
            </tbody>
          </table>
        </TableWrap>
      )}
      <nav className="pager" aria-label="Pages">
        <button
          type="button"
          className="secondary small"
          disabled={cursors.length === 0}
          onClick={() => setCursors(cursors.slice(0, -1))}
        >
          Previous
        </button>
        <span className="muted">
          Page {cursors.length + 1}
          {list.data?.total != null ? ` · ${list.data.total} deals` : ''}
        </span>
        <button
          type="button"
          className="secondary small"
          disabled={!list.data?.next_cursor}
          onClick={() => list.data?.next_cursor && setCursors([...cursors, list.data.next_cursor])}
        >
          Next
        </button>
      </nav>
      <Dialog title="New deal" open={creating} onClose={() => setParams({})}>
        <NewDealForm onDone={() => setParams({})} />
      </Dialog>
    </>
  )
}

type Contact = Schemas['Contact']

/** Picks a contact by search (a list of a million contacts cannot be a plain select). */
export function ContactPicker({
  value,
  onChange,
  error,
}: {
  value: string
  onChange: (id: string) => void
  error?: unknown
}) {
  const organizationId = useOrganizationId()
  const [searchInput, setSearchInput] = useState('')
  const search = useDeferredValue(searchInput.trim())
  const contacts = useQuery({
    queryKey: [organizationId, 'contacts', 'picker', search],
    queryFn: () =>
      unwrap(
        crm.GET('/api/v1/contacts', {
          params: { header: org(), query: { page_size: 20, count: false, ...(search ? { search } : {}) } },
        }),
      ),
  })
  const options: Contact[] = contacts.data?.items ?? []
  return (
    <>
      <TextField
        label="Find contact"
        name="contact_search"
        type="search"
        value={searchInput}
        onChange={(event) => setSearchInput(event.target.value)}
        placeholder="Name or email"
      />
      <SelectField
        label="Contact"
        name="contact_id"
        required
        value={value}
        onChange={(event) => onChange(event.target.value)}
        error={error}
        options={[
          { value: '', label: options.length ? 'Choose a contact' : 'No contact matches' },
          ...options.map((c) => ({ value: c.id, label: c.email ? `${c.name} (${c.email})` : c.name })),
        ]}
      />
    </>
  )
}

function NewDealForm({ onDone }: { onDone: () => void }) {
  const navigate = useNavigate()
  const invalidate = useInvalidateDeals()
  const { me, can } = useSession()
  const members = useMembers()
  const organization = useOrganization()
  const [contactId, setContactId] = useState('')
  const [error, setError] = useState<unknown>()
  const [busy, setBusy] = useState(false)
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    const form = new FormData(event.currentTarget)
    const closeDate = String(form.get('expected_close_date') ?? '')
    setBusy(true)
    setError(undefined)
    try {
      const deal = await unwrap(
        crm.POST('/api/v1/deals', {
          params: { header: org() },
          body: {
            contact_id: contactId,
            title: String(form.get('title')),
            amount: String(form.get('amount') || '0'),
            currency: String(form.get('currency') || organization.data?.default_currency || 'USD'),
            owner_id: String(form.get('owner_id') || me?.id),
            ...(closeDate ? { expected_close_date: closeDate } : {}),
          },
        }),
      )
      await invalidate()
      onDone()
      navigate(`/deals/${deal.id}`)
    } catch (failure) {
      setError(failure)
      setBusy(false)
    }
  }
  const owners = (members.data ?? []).filter((m) => can('record.assign_owner', m.user_id))
  return (
    <form className="stack" onSubmit={submit}>
      <ErrorMessage error={error} />
      <ContactPicker value={contactId} onChange={setContactId} error={error} />
      <TextField label="Title" name="title" required maxLength={255} error={error} />
      <div className="row">
        <TextField
          label="Amount"
          name="amount"
          inputMode="decimal"
          defaultValue="0"
          error={error}
          size={12}
        />
        <TextField
          label="Currency"
          name="currency"
          defaultValue={organization.data?.default_currency ?? 'USD'}
          maxLength={3}
          size={4}
          error={error}
        />
      </div>
      <TextField label="Expected close date" name="expected_close_date" type="date" error={error} />
      <SelectField
        label="Owner"
        name="owner_id"
        defaultValue={me?.id}
        error={error}
        options={owners.map((m) => ({ value: m.user_id, label: m.name }))}
      />
      <div className="row">
        <button type="submit" disabled={busy}>
          Create deal
        </button>
        <button type="button" className="secondary" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  )
}
