/** /reset-password?token=…: sets a new password with the emailed token; every session ends. */
import { type FormEvent, useState } from 'react'
import { Link, useNavigate, useSearchParams } from 'react-router'
import { ApiError, crm, unwrap } from '../api.ts'
import { useSession } from '../session.tsx'
import { ErrorMessage, TextField } from '../ui.tsx'
import { AuthFrame } from './auth-frame.tsx'
import { localError } from './settings/shared.tsx'

export default function ResetPassword() {
  const { status, signOut } = useSession()
  const navigate = useNavigate()
  const [params] = useSearchParams()
  const token = params.get('token')
  const done = params.get('done') === '1'
  const [error, setError] = useState<unknown>()
  const [busy, setBusy] = useState(false)

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    if (!token) return
    const form = new FormData(event.currentTarget)
    const password = String(form.get('new_password') ?? '')
    if (password !== String(form.get('repeat_password') ?? '')) {
      setError(localError('repeat_password', 'The two passwords are not the same'))
      return
    }
    setBusy(true)
    setError(undefined)
    try {
      await unwrap(
        crm.POST('/api/v1/auth/password-reset/confirm', { body: { token, new_password: password } }),
      )
      // The token is spent: drop it from the address. The reset ended every session, this browser's too.
      navigate('/reset-password?done=1', { replace: true })
      if (status === 'signed-in') await signOut()
    } catch (failure) {
      setError(failure)
      setBusy(false)
    }
  }

  const badToken = error instanceof ApiError && error.code === 'INVALID_RESET_TOKEN'
  return (
    <AuthFrame>
      <h1>Choose a new password</h1>
      {done ? (
        <div className="card stack">
          <p role="status" className="success">
            Your password has been changed. You were signed out everywhere.
          </p>
          <p>
            <Link to="/login">Sign in with your new password</Link>
          </p>
        </div>
      ) : !token ? (
        <div className="card stack">
          <p role="alert">
            This link has no reset token. Open the link from the email again, or ask for a new one.
          </p>
          <p>
            <Link to="/forgot-password">Send me a new link</Link>
          </p>
        </div>
      ) : (
        <form onSubmit={submit} className="card stack">
          {badToken ? (
            <div className="stack">
              <p className="error" role="alert">
                This reset link is invalid, already used or expired (links work once, for 60 minutes).
              </p>
              <p>
                <Link to="/forgot-password">Send me a new link</Link>
              </p>
            </div>
          ) : (
            <ErrorMessage error={error} />
          )}
          <TextField
            label="New password"
            name="new_password"
            type="password"
            autoComplete="new-password"
            required
            minLength={8}
            maxLength={128}
            hint="At least 8 characters"
            error={error}
          />
          <TextField
            label="Repeat new password"
            name="repeat_password"
            type="password"
            autoComplete="new-password"
            required
            minLength={8}
            maxLength={128}
            error={error}
          />
          <button type="submit" disabled={busy}>
            {busy ? 'Saving…' : 'Set new password'}
          </button>
        </form>
      )}
    </AuthFrame>
  )
}
