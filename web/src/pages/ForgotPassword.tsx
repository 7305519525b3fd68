/** /forgot-password: asks for a reset link; the service answers the same whether or not the email is known. */
import { type FormEvent, useState } from 'react'
import { Link } from 'react-router'
import { crm, unwrap } from '../api.ts'
import { ErrorMessage, TextField } from '../ui.tsx'

export default function ForgotPassword() {
  const [error, setError] = useState<unknown>()
  const [busy, setBusy] = useState(false)
  const [answer, setAnswer] = useState<string>()
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    const email = String(new FormData(event.currentTarget).get('email') ?? '').trim()
    setBusy(true)
    setError(undefined)
    try {
      const accepted = await unwrap(crm.POST('/api/v1/auth/password-reset', { body: { email } }))
      setAnswer(accepted.detail)
    } catch (failure) {
      setError(failure)
    } finally {
      setBusy(false)
    }
  }
  return (
    <main className="auth-page" id="main">
      <h1>Reset your password</h1>
      {answer ? (
        <div className="card stack">
          <p role="status">{answer}</p>
          <p className="muted">
            The link in the email works once, for 60 minutes. Check your spam folder too.
          </p>
          <p>
            <Link to="/login">Back to sign in</Link>
          </p>
        </div>
      ) : (
        <form onSubmit={submit} className="card stack">
          <p className="muted">
            Enter the email of your account and we will send you a link to choose a new password.
          </p>
          <ErrorMessage error={error} />
          <TextField label="Email" name="email" type="email" autoComplete="email" required error={error} />
          <button type="submit" disabled={busy}>
            {busy ? 'Sending…' : 'Send reset link'}
          </button>
          <p className="muted">
            Remembered it? <Link to="/login">Sign in</Link>
          </p>
        </form>
      )}
    </main>
  )
}
