/** Invitations (owners, admins): invite by email, copy the link once, see and revoke the pending ones. */
import type { Schemas } from '@mini-crm/client'
import { useQuery, useQueryClient } from '@tanstack/react-query'
import { type FormEvent, useState } from 'react'
import { crm, unwrap } from '../../api.ts'
import { useMemberNames } from '../../queries.ts'
import { useOrganizationId, useSession } from '../../session.tsx'
import {
  ConfirmButton,
  ErrorMessage,
  formatTime,
  Loading,
  SelectField,
  TableWrap,
  TextField,
  useNotify,
} from '../../ui.tsx'
import { CopyField, grantableRoles, type Role, roleLabel } from './shared.tsx'

type Invitation = Schemas['Invitation']

export default function Invitations() {
  const organizationId = useOrganizationId()
  const { organization } = useSession()
  const queryClient = useQueryClient()
  const notify = useNotify()
  const memberName = useMemberNames()
  const roles = grantableRoles(organization?.role)
  const key = [organizationId, 'invitations']
  const {
    data,
    error: loadError,
    isPending,
  } = useQuery({
    queryKey: key,
    queryFn: () =>
      unwrap(crm.GET('/api/v1/organizations/{id}/invitations', { params: { path: { id: organizationId } } })),
  })
  const [error, setError] = useState<unknown>()
  const [busy, setBusy] = useState(false)
  /** The one-time token, as a link: only in this state, gone on leaving the page. */
  const [created, setCreated] = useState<{ email: string; link: string }>()

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    const formElement = event.currentTarget
    const form = new FormData(formElement)
    setBusy(true)
    setError(undefined)
    setCreated(undefined)
    try {
      const invitation = await unwrap(
        crm.POST('/api/v1/organizations/{id}/invitations', {
          params: { path: { id: organizationId } },
          body: { email: String(form.get('email') ?? '').trim(), role: String(form.get('role')) as Role },
        }),
      )
      setCreated({
        email: invitation.email,
        link: `${window.location.origin}/invite?token=${encodeURIComponent(invitation.token)}`,
      })
      formElement.reset()
      await queryClient.invalidateQueries({ queryKey: key })
    } catch (failure) {
      setError(failure)
    } finally {
      setBusy(false)
    }
  }

  async function revoke(invitation: Invitation) {
    await unwrap(
      crm.DELETE('/api/v1/organizations/{id}/invitations/{invitation_id}', {
        params: { path: { id: organizationId, invitation_id: invitation.id } },
      }),
    )
    notify('info', `The invitation of ${invitation.email} was revoked`)
    await queryClient.invalidateQueries({ queryKey: key })
  }

  return (
    <>
      <section className="card stack" aria-labelledby="invite-heading">
        <h2 id="invite-heading">Invite someone</h2>
        <p className="muted">
          They get an email with a link valid for 7 days. You can also copy the link below and send it
          yourself.
        </p>
        <form onSubmit={submit} className="stack">
          <ErrorMessage error={error} />
          <div className="form-grid">
            <TextField label="Email" name="email" type="email" autoComplete="off" required error={error} />
            <SelectField
              label="Role"
              name="role"
              defaultValue="member"
              options={roles.map((role) => ({ value: role, label: roleLabel(role) }))}
              error={error}
            />
          </div>
          <div>
            <button type="submit" disabled={busy}>
              {busy ? 'Inviting…' : 'Invite'}
            </button>
          </div>
        </form>
        {created ? (
          <div className="stack" role="status">
            <p className="success">Invitation sent to {created.email}.</p>
            <CopyField label="Invitation link" value={created.link} button="Copy link" />
            <p className="hint">This link is shown only now; anyone with it can join as the invited email.</p>
          </div>
        ) : null}
      </section>
      <section className="card stack" aria-labelledby="pending-heading">
        <h2 id="pending-heading">Pending invitations</h2>
        {isPending ? <Loading /> : null}
        <ErrorMessage error={loadError} />
        {data && data.length === 0 ? <p className="muted">No pending invitations.</p> : null}
        {data && data.length > 0 ? (
          <TableWrap label="Pending invitations">
            <table>
              <thead>
                <tr>
                  <th scope="col">Email</th>
                  <th scope="col">Role</th>
                  <th scope="col">Invited by</th>
                  <th scope="col">Sent</th>
                  <th scope="col">Expires</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {data.map((invitation) => (
                  <tr key={invitation.id}>
                    <td className="cell-wrap">{invitation.email}</td>
                    <td>{roleLabel(invitation.role)}</td>
                    <td>{memberName(invitation.invited_by)}</td>
                    <td className="time">{formatTime(invitation.created_at)}</td>
                    <td className="time">{formatTime(invitation.expires_at)}</td>
                    <td>
                      {roles.includes(invitation.role) ? (
                        <ConfirmButton
                          label="Revoke"
                          accessibleLabel={`Revoke the invitation of ${invitation.email}`}
                          title="Revoke invitation"
                          question={`Revoke the invitation of ${invitation.email}? Its link stops working.`}
                          confirm="Revoke invitation"
                          action={() => revoke(invitation)}
                        />
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        ) : null}
      </section>
    </>
  )
}
