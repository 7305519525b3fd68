import { type FormEvent, useState } from 'react'
import { Link, useNavigate } from 'react-router'
import { crm, unwrap } from '../api.ts'
import { useSession } from '../session.tsx'
import { ErrorMessage, TextField } from '../ui.tsx'

/** Starts an organization the caller owns, then opens its board. */
export function NewOrganizationForm() {
  const { reloadOrganizations } = useSession()
  const navigate = useNavigate()
  const [error, setError] = useState<unknown>()
  const [busy, setBusy] = useState(false)
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    const name = String(new FormData(event.currentTarget).get('name'))
    setBusy(true)
    try {
      const created = await unwrap(crm.POST('/api/v1/organizations', { body: { name } }))
      await reloadOrganizations(created.id)
      navigate('/')
    } catch (failure) {
      setError(failure)
      setBusy(false)
    }
  }
  return (
    <form onSubmit={submit} className="card stack">
      <ErrorMessage error={error} />
      <TextField label="Organization name" name="name" required maxLength={255} error={error} />
      <div>
        <button type="submit" disabled={busy}>
          Create organization
        </button>
      </div>
    </form>
  )
}

/** Signed in but in no organization yet: start one (invitations arrive by email link). */
export default function NoOrganization() {
  const { signOut, me } = useSession()
  return (
    <main className="auth-page" id="main">
      <h1>Welcome, {me?.name}</h1>
      <p>You are not in an organization yet. Start one, or open the invitation link a colleague sent you.</p>
      <NewOrganizationForm />
      <p>
        <Link to="/invite">Have an invitation?</Link> ·{' '}
        <button type="button" className="link" onClick={() => void signOut()}>
          Sign out
        </button>
      </p>
    </main>
  )
}
