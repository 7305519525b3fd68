import { type FormEvent, useState } from 'react'
import { Link } from 'react-router'
import { useSession } from '../session.tsx'
import { ErrorMessage, TextField } from '../ui.tsx'

export default function Login() {
  const { signIn } = useSession()
  const [error, setError] = useState<unknown>()
  const [busy, setBusy] = useState(false)
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    const form = new FormData(event.currentTarget)
    setBusy(true)
    setError(undefined)
    try {
      await signIn(String(form.get('email')), String(form.get('password')))
    } catch (failure) {
      setError(failure)
      setBusy(false)
    }
  }
  return (
    <main className="auth-page" id="main">
      <h1>Sign in to Mini-CRM</h1>
      <form onSubmit={submit} className="card stack">
        <ErrorMessage error={error} />
        <TextField label="Email" name="email" type="email" autoComplete="email" required error={error} />
        <TextField
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          error={error}
        />
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <p className="muted">
          <Link to="/forgot-password">Forgot your password?</Link> · New here?{' '}
          <Link to="/register">Create an account</Link>
        </p>
      </form>
    </main>
  )
}
