import { type FormEvent, useState } from 'react'
import { Link, useSearchParams } from 'react-router'
import { session as apiSession, crm, unwrap } from '../api.ts'
import { useSession } from '../session.tsx'
import { ErrorMessage, TextField } from '../ui.tsx'

/** Creates the account and its organization (or joins an invitation's, with ?invitation=<token>). */
export default function Register() {
  const { startWith } = useSession()
  const [params] = useSearchParams()
  const invitationToken = params.get('invitation') ?? undefined
  const [error, setError] = useState<unknown>()
  const [busy, setBusy] = useState(false)
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    const form = new FormData(event.currentTarget)
    const organizationName = String(form.get('organization_name') ?? '').trim()
    setBusy(true)
    setError(undefined)
    try {
      const registered = await unwrap(
        crm.POST('/api/v1/auth/register', {
          params: { header: apiSession.headers },
          body: {
            name: String(form.get('name')),
            email: String(form.get('email')),
            password: String(form.get('password')),
            ...(organizationName ? { organization_name: organizationName } : {}),
            ...(invitationToken ? { invitation_token: invitationToken } : {}),
          },
        }),
      )
      await startWith(registered.access_token, registered.organization_id)
    } catch (failure) {
      setError(failure)
      setBusy(false)
    }
  }
  return (
    <main className="auth-page" id="main">
      <h1>{invitationToken ? 'Create your account to join' : 'Create your Mini-CRM account'}</h1>
      <form onSubmit={submit} className="card stack">
        <ErrorMessage error={error} />
        <TextField label="Your name" name="name" autoComplete="name" required maxLength={255} error={error} />
        <TextField label="Email" name="email" type="email" autoComplete="email" required error={error} />
        <TextField
          label="Password"
          name="password"
          type="password"
          autoComplete="new-password"
          required
          minLength={8}
          hint="At least 8 characters"
          error={error}
        />
        {invitationToken ? null : (
          <TextField
            label="Organization name"
            name="organization_name"
            required
            maxLength={255}
            autoComplete="organization"
            error={error}
          />
        )}
        <button type="submit" disabled={busy}>
          {busy ? 'Creating…' : 'Create account'}
        </button>
        <p className="muted">
          Already have an account? <Link to="/login">Sign in</Link>
        </p>
      </form>
    </main>
  )
}
