/** /contacts/:id: the contact (editable by whoever may), its company, its deals, a new deal, delete. */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useId, useRef } from 'react'
import { Link, useNavigate, useParams } from 'react-router'
import { crm, org, unwrap } from '../api.ts'
import { useOrganization } from '../queries.ts'
import { useOrganizationId, useSession } from '../session.tsx'
import { ErrorMessage, formatTime, Loading, TextField, useNotify } from '../ui.tsx'
import {
  CompanyLink,
  ContactFields,
  type Contact as ContactRecord,
  contactBody,
  DealsTable,
  DeleteButton,
  OwnerName,
  text,
} from './records-kit.tsx'
import { RecordEditForm } from './records-list.tsx'

export default function Contact() {
  const { id = '' } = useParams()
  const organizationId = useOrganizationId()
  const { can } = useSession()
  const { data: contact, error } = useQuery({
    queryKey: [organizationId, 'contacts', id],
    queryFn: () => unwrap(crm.GET('/api/v1/contacts/{id}', { params: { header: org(), path: { id } } })),
  })
  if (error) {
    return (
      <div className="stack">
        <h1>Contact</h1>
        <ErrorMessage error={error} />
        <p>
          <Link to="/contacts">Back to contacts</Link>
        </p>
      </div>
    )
  }
  if (!contact) return <Loading label="Loading contact…" />
  const canEdit = can('contact.update', contact.owner_id)
  return (
    <div className="stack">
      <p>
        <Link to="/contacts">← Contacts</Link>
      </p>
      <div className="spread">
        <h1>{contact.name}</h1>
        {can('contact.delete', contact.owner_id) ? <DeleteContact contact={contact} /> : null}
      </div>

      <section className="card stack" aria-labelledby="contact-details">
        <h2 id="contact-details">Details</h2>
        <dl className="details-list">
          <dt>Company</dt>
          <dd>
            <CompanyLink id={contact.company_id} />
          </dd>
          <dt>Owner</dt>
          <dd>
            <OwnerName id={contact.owner_id} />
          </dd>
          <dt>Created</dt>
          <dd>{formatTime(contact.created_at)}</dd>
          {canEdit ? null : (
            <>
              <dt>Email</dt>
              <dd>{contact.email ?? '—'}</dd>
              <dt>Phone</dt>
              <dd>{contact.phone ?? '—'}</dd>
            </>
          )}
        </dl>
        {canEdit ? <EditContact key={contact.updated_at} contact={contact} /> : null}
      </section>

      <section className="stack" aria-labelledby="contact-deals">
        <h2 id="contact-deals">Deals</h2>
        <DealsTable filter={{ contact_id: contact.id }} caption={`Deals of ${contact.name}`} />
        {can('deal.create') ? <NewDeal contactId={contact.id} /> : null}
      </section>
    </div>
  )
}

function EditContact({ contact }: { contact: ContactRecord }) {
  return (
    <RecordEditForm
      list="contacts"
      singular="contact"
      save={(form) =>
        unwrap(
          crm.PATCH('/api/v1/contacts/{id}', {
            params: { header: org(), path: { id: contact.id } },
            body: contactBody(form),
          }),
        )
      }
      fields={(error) => <ContactFields contact={contact} error={error} />}
    />
  )
}

function DeleteContact({ contact }: { contact: ContactRecord }) {
  const organizationId = useOrganizationId()
  const queryClient = useQueryClient()
  const navigate = useNavigate()
  const notify = useNotify()
  return (
    <DeleteButton
      label="Delete contact"
      question={`Delete ${contact.name}?`}
      onDelete={async () => {
        await unwrap(
          crm.DELETE('/api/v1/contacts/{id}', { params: { header: org(), path: { id: contact.id } } }),
        )
        queryClient.removeQueries({ queryKey: [organizationId, 'contacts', contact.id] })
        await queryClient.invalidateQueries({ queryKey: [organizationId, 'contacts'] })
        notify('info', `Contact “${contact.name}” deleted`)
        navigate('/contacts')
      }}
    >
      <p>This cannot be undone. A contact that still has deals cannot be deleted.</p>
    </DeleteButton>
  )
}

function NewDeal({ contactId }: { contactId: string }) {
  const organizationId = useOrganizationId()
  const queryClient = useQueryClient()
  const notify = useNotify()
  const headingId = useId()
  const formRef = useRef<HTMLFormElement>(null)
  const { data: organization } = useOrganization()
  const create = useMutation({
    mutationFn: (form: FormData) => {
      const amount = text(form.get('amount'))
      const currency = text(form.get('currency')).toUpperCase()
      return unwrap(
        crm.POST('/api/v1/deals', {
          params: { header: org() },
          body: {
            contact_id: contactId,
            title: text(form.get('title')),
            ...(amount ? { amount } : {}),
            ...(currency ? { currency } : {}),
          },
        }),
      )
    },
    onSuccess: async (deal) => {
      notify('info', `Deal “${deal.title}” created`)
      // Every view of deals (board, lists, dashboard) is now stale; the ones on screen reload.
      await queryClient.invalidateQueries({ queryKey: [organizationId], refetchType: 'none' })
      await queryClient.invalidateQueries({ queryKey: [organizationId, 'deals'] })
      formRef.current?.reset()
    },
  })
  return (
    <section className="card" aria-labelledby={headingId}>
      <h3 id={headingId}>New deal</h3>
      <form
        ref={formRef}
        className="stack"
        onSubmit={(event) => {
          event.preventDefault()
          create.mutate(new FormData(event.currentTarget))
        }}
      >
        <div className="form-grid">
          <TextField label="Title" name="title" required maxLength={255} error={create.error} />
          <TextField
            label="Amount"
            name="amount"
            inputMode="decimal"
            pattern="[0-9]+([.][0-9]{1,2})?"
            placeholder="0.00"
            error={create.error}
            hint="Up to two decimals"
          />
          <TextField
            label="Currency"
            name="currency"
            maxLength={3}
            minLength={3}
            key={organization?.default_currency}
            defaultValue={organization?.default_currency ?? ''}
            placeholder="EUR"
            autoCapitalize="characters"
            error={create.error}
          />
        </div>
        <ErrorMessage error={create.error} />
        <div className="row">
          <button type="submit" disabled={create.isPending}>
            {create.isPending ? 'Creating…' : 'Create deal'}
          </button>
        </div>
      </form>
    </section>
  )
}
