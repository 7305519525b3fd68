/**
 * /invite?token=…: signed out, explains and offers sign-in or a new account; signed in, accepts the token's
 * invitation. Signed in, it also lists the invitations waiting for the caller's email (accept or decline).
 */
import type { Schemas } from '@mini-crm/client'
import { useQuery, useQueryClient } from '@tanstack/react-query'
import { useState } from 'react'
import { Link, useLocation, useNavigate, useSearchParams } from 'react-router'
import { ApiError, crm, unwrap } from '../api.ts'
import { useSession } from '../session.tsx'
import { ErrorMessage, formatTime, Loading, TableWrap, useNotify } from '../ui.tsx'
import { AuthFrame } from './auth-frame.tsx'
import { roleLabel } from './settings/shared.tsx'
import './settings/settings.css'

type Received = Schemas['ReceivedInvitation']
const RECEIVED_KEY = ['me', 'invitations']

export default function AcceptInvitation() {
  const { status } = useSession()
  const [params] = useSearchParams()
  const token = params.get('token') ?? undefined
  return (
    <AuthFrame>
      <div className="invitation-page">
        {status === 'signed-in' ? <SignedIn token={token} /> : <SignedOut token={token} />}
      </div>
    </AuthFrame>
  )
}

function SignedOut({ token }: { token: string | undefined }) {
  const location = useLocation()
  const here = `${location.pathname}${location.search}`
  return (
    <>
      <h1>You are invited to Mini-CRM</h1>
      <div className="card stack">
        {token ? (
          <>
            <p>
              A colleague invited you to their organization. Sign in with the email address the invitation was
              sent to, or create an account with it, to join.
            </p>
            <div className="row">
              <Link className="button" to={`/login?next=${encodeURIComponent(here)}`}>
                Sign in to accept
              </Link>
              <Link className="button secondary" to={`/register?invitation=${encodeURIComponent(token)}`}>
                Create an account
              </Link>
            </div>
          </>
        ) : (
          <>
            <p>Open the link in your invitation email to join an organization.</p>
            <p>
              <Link to="/login">Sign in</Link> to see the invitations waiting for you.
            </p>
          </>
        )}
      </div>
    </>
  )
}

/** A readable sentence for the invitation errors, with what to do. */
function invitationProblem(error: unknown, email: string | undefined): string | undefined {
  if (!(error instanceof ApiError)) return undefined
  if (error.code === 'INVITATION_NOT_FOUND')
    return `This invitation cannot be used by ${email ?? 'this account'}: it may have expired, been revoked or used already, or it was sent to another email address. Sign in with the invited email, or ask for a new invitation.`
  if (error.code === 'INVITATION_EMAIL_MISMATCH')
    return `This invitation was sent to another email address than ${email ?? 'yours'}. Sign in with the invited email, or ask for a new invitation.`
  return undefined
}

function SignedIn({ token }: { token: string | undefined }) {
  const { me, reloadOrganizations, signOut } = useSession()
  const navigate = useNavigate()
  const notify = useNotify()
  const queryClient = useQueryClient()
  const [error, setError] = useState<unknown>()
  const [busy, setBusy] = useState<string>()
  const received = useQuery({
    queryKey: RECEIVED_KEY,
    queryFn: () => unwrap(crm.GET('/api/v1/invitations')),
  })

  async function joined(answer: Schemas['Accepted'], name?: string) {
    await queryClient.invalidateQueries({ queryKey: RECEIVED_KEY })
    await reloadOrganizations(answer.organization_id)
    notify('info', `You joined ${name ?? 'the organization'} as ${roleLabel(answer.role).toLowerCase()}`)
    navigate('/', { replace: true })
  }

  async function run(label: string, action: () => Promise<void>) {
    setBusy(label)
    setError(undefined)
    try {
      await action()
    } catch (failure) {
      setError(failure)
      setBusy(undefined)
    }
  }

  const acceptToken = (token: string) =>
    run('token', async () => {
      const answer = await unwrap(crm.POST('/api/v1/invitations/accept', { body: { token } }))
      await joined(answer)
    })
  const accept = (invitation: Received) =>
    run(invitation.id, async () => {
      const answer = await unwrap(
        crm.POST('/api/v1/invitations/{id}/accept', { params: { path: { id: invitation.id } } }),
      )
      await joined(answer, invitation.organization_name)
    })
  const decline = (invitation: Received) =>
    run(invitation.id, async () => {
      await unwrap(crm.POST('/api/v1/invitations/{id}/decline', { params: { path: { id: invitation.id } } }))
      notify('info', `You declined the invitation to ${invitation.organization_name}`)
      await queryClient.invalidateQueries({ queryKey: RECEIVED_KEY })
      setBusy(undefined)
    })

  const problem = invitationProblem(error, me?.email)
  const pending = received.data ?? []
  return (
    <>
      <h1>Invitations</h1>
      {problem ? (
        <div className="card stack">
          <p className="error" role="alert">
            {problem}
          </p>
          <div>
            <button type="button" className="secondary" onClick={() => void signOut()}>
              Sign out
            </button>
          </div>
        </div>
      ) : (
        <ErrorMessage error={error} />
      )}
      {token ? (
        <section className="card stack" aria-labelledby="token-heading">
          <h2 id="token-heading">Join from your link</h2>
          <p>
            You are signed in as <strong>{me?.email}</strong>. Accept to join the organization that invited
            this email.
          </p>
          <div>
            <button type="button" disabled={busy !== undefined} onClick={() => void acceptToken(token)}>
              {busy === 'token' ? 'Joining…' : 'Accept invitation'}
            </button>
          </div>
        </section>
      ) : null}
      <section className="card stack" aria-labelledby="received-heading">
        <h2 id="received-heading">Waiting for {me?.email ?? 'you'}</h2>
        {received.isPending ? <Loading /> : null}
        <ErrorMessage error={received.error} />
        {received.data && pending.length === 0 ? <p className="muted">No pending invitations.</p> : null}
        {pending.length > 0 ? (
          <TableWrap label="Your invitations">
            <table>
              <thead>
                <tr>
                  <th scope="col">Organization</th>
                  <th scope="col">Role</th>
                  <th scope="col">Invited by</th>
                  <th scope="col">Expires</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {pending.map((invitation) => (
                  <tr key={invitation.id}>
                    <td className="cell-wrap">{invitation.organization_name}</td>
                    <td>{roleLabel(invitation.role)}</td>
                    <td className="cell-wrap">
                      {invitation.invited_by.name}{' '}
                      <span className="muted">({invitation.invited_by.email})</span>
                    </td>
                    <td className="time">{formatTime(invitation.expires_at)}</td>
                    <td>
                      <div className="actions">
                        <button
                          type="button"
                          className="small"
                          aria-label={`Accept the invitation to ${invitation.organization_name}`}
                          disabled={busy !== undefined}
                          onClick={() => void accept(invitation)}
                        >
                          Accept
                        </button>
                        <button
                          type="button"
                          className="secondary small"
                          aria-label={`Decline the invitation to ${invitation.organization_name}`}
                          disabled={busy !== undefined}
                          onClick={() => void decline(invitation)}
                        >
                          Decline
                        </button>
                      </div>
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
