import { type FormEvent, useState } from 'react'
import { Link } from 'react-router'
import { crm, unwrap } from '../api.ts'
import { useSession } from '../session.tsx'
import { ErrorMessage, TextField } from '../ui.tsx'

/** Signed in but in no organization yet: start one (invitations arrive by email link). */
export default function NoOrganization() {
  const { reloadOrganizations, signOut, me } = useSession()
  const [error, setError] = useState<unknown>()
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    const name = String(new FormData(event.currentTarget).get('name'))
    try {
      const created = await unwrap(crm.POST('/api/v1/organizations', { body: { name } }))
      await reloadOrganizations(created.id)
    } catch (failure) {
      setError(failure)
    }
  }
  return (
    <main className="auth-page" id="main">
      <h1>Welcome, {me?.name}</h1>
      <p>You are not in an organization yet. Start one, or open the invitation link a colleague sent you.</p>
      <form onSubmit={submit} className="card stack">
        <ErrorMessage error={error} />
        <TextField label="Organization name" name="name" required maxLength={255} error={error} />
        <button type="submit">Create organization</button>
      </form>
      <p>
        <Link to="/invite">Have an invitation?</Link> ·{' '}
        <button type="button" className="link" onClick={() => void signOut()}>
          Sign out
        </button>
      </p>
    </main>
  )
}
