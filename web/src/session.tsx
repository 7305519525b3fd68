/**
 * Who is signed in and in which organization, for every page. Starts by trying the session cookie (a reload
 * stays signed in); the chosen organization is remembered per browser (an id, not a secret).
 */
import type { Schemas } from '@mini-crm/client'
import { useQueryClient } from '@tanstack/react-query'
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react'
import { type Action, allows } from '../../src/auth/policy.ts'
import { crm, refreshAccess, session, unwrap } from './api.ts'

type Organization = Schemas['OrganizationWithRole']
type Me = Schemas['Me']

interface SessionState {
  status: 'loading' | 'signed-out' | 'signed-in'
  me?: Me
  organizations: Organization[]
  organization?: Organization
}

interface SessionApi extends SessionState {
  signIn(email: string, password: string): Promise<void>
  /** After register (or an accepted invitation) answered a token pair. */
  startWith(accessToken: string, organizationId?: string | null): Promise<void>
  signOut(): Promise<void>
  switchOrganization(id: string): void
  reloadOrganizations(preferred?: string): Promise<void>
  /** The permission table the service enforces (src/auth/policy.ts), for the current role. */
  can(action: Action, ownerId?: string): boolean
}

const SessionContext = createContext<SessionApi | undefined>(undefined)
const ORG_KEY = 'mini-crm.organization'

export function SessionProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient()
  const [state, setState] = useState<SessionState>({ status: 'loading', organizations: [] })

  const load = useCallback(async (preferred?: string | null) => {
    const [me, organizations] = await Promise.all([
      unwrap(crm.GET('/api/v1/auth/me')),
      unwrap(crm.GET('/api/v1/organizations/me')),
    ])
    const wanted = preferred ?? localStorage.getItem(ORG_KEY)
    const organization = organizations.find((o) => o.id === wanted) ?? organizations[0]
    session.setOrganization(organization?.id)
    if (organization) localStorage.setItem(ORG_KEY, organization.id)
    setState({ status: 'signed-in', me, organizations, organization })
  }, [])

  const signedOut = useCallback(() => {
    session.setAccessToken(undefined)
    session.setOrganization(undefined)
    queryClient.clear()
    setState({ status: 'signed-out', organizations: [] })
  }, [queryClient])

  useEffect(() => {
    session.onSignedOut(signedOut)
    refreshAccess().then(async (ok) => {
      if (!ok) return setState({ status: 'signed-out', organizations: [] })
      try {
        await load()
      } catch {
        signedOut()
      }
    })
  }, [load, signedOut])

  const api = useMemo<SessionApi>(
    () => ({
      ...state,
      async signIn(email, password) {
        const tokens = await unwrap(
          crm.POST('/api/v1/auth/login', { body: { email, password }, params: { header: session.headers } }),
        )
        session.setAccessToken(tokens.access_token)
        await load()
      },
      async startWith(accessToken, organizationId) {
        session.setAccessToken(accessToken)
        await load(organizationId)
      },
      async signOut() {
        await fetch('/api/v1/auth/session/logout', { method: 'POST', headers: session.headers }).catch(
          () => {},
        )
        signedOut()
      },
      switchOrganization(id) {
        const organization = state.organizations.find((o) => o.id === id)
        if (!organization) return
        session.setOrganization(id)
        localStorage.setItem(ORG_KEY, id)
        setState((current) => ({ ...current, organization }))
      },
      reloadOrganizations: (preferred) => load(preferred),
      can(action, ownerId) {
        const role = state.organization?.role
        if (!role || !state.me) return false
        return allows({ role, userId: state.me.id }, action, ownerId)
      },
    }),
    [state, load, signedOut],
  )
  return <SessionContext.Provider value={api}>{children}</SessionContext.Provider>
}

export function useSession(): SessionApi {
  const value = useContext(SessionContext)
  if (!value) throw new Error('useSession outside SessionProvider')
  return value
}

/** The current organization's id: part of every query key, so switching never shows another's data. */
export function useOrganizationId(): string {
  const { organization } = useSession()
  if (!organization) throw new Error('No organization')
  return organization.id
}
