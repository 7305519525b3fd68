/**
 * The frame of the pages reached from an email link (reset, invitation): their own <main> when signed out or
 * outside an organization, or the shell's <main> when signed in (the shell already renders one).
 */
import type { ReactNode } from 'react'
import { useSession } from '../session.tsx'

export function AuthFrame({ children }: { children: ReactNode }) {
  const { status, organization } = useSession()
  if (status === 'signed-in' && organization) return <div className="auth-page">{children}</div>
  return (
    <main className="auth-page" id="main">
      {children}
    </main>
  )
}
