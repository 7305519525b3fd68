/** The frame of every signed-in page: navigation, organization switcher, the signed-in user. */
import { Link, Navigate, NavLink, Outlet, useNavigate, useSearchParams } from 'react-router'
import { useSession } from './session.tsx'

const PAGES = [
  { to: '/', label: 'Board', end: true },
  { to: '/deals', label: 'Deals' },
  { to: '/contacts', label: 'Contacts' },
  { to: '/companies', label: 'Companies' },
  { to: '/tasks', label: 'My tasks' },
  { to: '/dashboard', label: 'Dashboard' },
  { to: '/settings', label: 'Settings' },
]

export function Shell() {
  const { me, organization, organizations, switchOrganization, signOut } = useSession()
  const navigate = useNavigate()
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand" aria-hidden="true">
          Mini-CRM
        </span>
        <nav aria-label="Main">
          <ul>
            {PAGES.map((page) => (
              <li key={page.to}>
                <NavLink to={page.to} end={page.end ?? false}>
                  {page.label}
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <div className="account">
          <label className="visually-hidden" htmlFor="organization-switcher">
            Organization
          </label>
          <select
            id="organization-switcher"
            value={organization?.id}
            onChange={(event) => {
              switchOrganization(event.target.value)
              navigate('/')
            }}
          >
            {organizations.map((o) => (
              <option key={o.id} value={o.id}>
                {o.name} ({o.role})
              </option>
            ))}
          </select>
          <Link to="/organizations/new" className="button secondary small" aria-label="New organization">
            +
          </Link>
          <span className="muted user-name">{me?.name}</span>
          <button type="button" className="secondary" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  )
}

/** /login while signed in (just signed in, or a bookmark): go where the sign-in was asked for. */
export function AfterSignIn() {
  const [params] = useSearchParams()
  const next = params.get('next')
  // Only a path of this site: never an absolute URL someone put in a link.
  const target = next?.startsWith('/') && !next.startsWith('//') ? next : '/'
  return <Navigate to={target} replace />
}
