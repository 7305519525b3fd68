/** /settings/*: the organization, its members and invitations, API keys and webhooks, each a nested route. */
import { Navigate, NavLink, Route, Routes } from 'react-router'
import { useSession } from '../session.tsx'
import ApiKeys from './settings/ApiKeys.tsx'
import Invitations from './settings/Invitations.tsx'
import Members from './settings/Members.tsx'
import OrganizationSettings from './settings/Organization.tsx'
import WebhookDeliveries from './settings/WebhookDeliveries.tsx'
import Webhooks from './settings/Webhooks.tsx'
import './settings/settings.css'

export default function Settings() {
  const { can } = useSession()
  const sections = [
    { to: '/settings', label: 'Organization', end: true, show: true },
    { to: '/settings/members', label: 'Members', show: true },
    { to: '/settings/invitations', label: 'Invitations', show: can('invitation.create') },
    { to: '/settings/api-keys', label: 'API keys', show: can('api_key.create') },
    { to: '/settings/webhooks', label: 'Webhooks', show: can('webhook.manage') },
  ]
  const home = <Navigate to="/settings" replace />
  return (
    <div className="settings">
      <h1>Settings</h1>
      <nav aria-label="Settings" className="settings-nav">
        <ul>
          {sections
            .filter((section) => section.show)
            .map((section) => (
              <li key={section.to}>
                <NavLink to={section.to} end={section.end ?? false}>
                  {section.label}
                </NavLink>
              </li>
            ))}
        </ul>
      </nav>
      <div className="settings-body">
        <Routes>
          <Route index element={<OrganizationSettings />} />
          <Route path="members" element={<Members />} />
          <Route path="invitations" element={can('invitation.create') ? <Invitations /> : home} />
          <Route path="api-keys" element={can('api_key.create') ? <ApiKeys /> : home} />
          <Route path="webhooks" element={can('webhook.manage') ? <Webhooks /> : home} />
          <Route path="webhooks/:id" element={can('webhook.manage') ? <WebhookDeliveries /> : home} />
          <Route path="*" element={home} />
        </Routes>
      </div>
    </div>
  )
}
