/** API keys: anyone makes keys acting as themselves (the key shown once); owners and admins see and revoke all. */
import type { Schemas } from '@mini-crm/client'
import { useQuery, useQueryClient } from '@tanstack/react-query'
import { type FormEvent, useState } from 'react'
import { crm, org, unwrap } from '../../api.ts'
import { useMemberNames } from '../../queries.ts'
import { useOrganizationId, useSession } from '../../session.tsx'
import {
  ConfirmButton,
  ErrorMessage,
  formatTime,
  Loading,
  SelectField,
  TableWrap,
  TextField,
  todayUtc,
  useNotify,
} from '../../ui.tsx'
import { localError, SecretBox } from './shared.tsx'

type ApiKey = Schemas['ApiKey']

export default function ApiKeys() {
  const organizationId = useOrganizationId()
  const { me, can } = useSession()
  const queryClient = useQueryClient()
  const notify = useNotify()
  const memberName = useMemberNames()
  const manageAny = can('api_key.manage_any')
  const key = [organizationId, 'api-keys']
  const {
    data,
    error: loadError,
    isPending,
  } = useQuery({
    queryKey: key,
    queryFn: () => unwrap(crm.GET('/api/v1/api-keys', { params: { header: org() } })),
  })
  const [error, setError] = useState<unknown>()
  const [busy, setBusy] = useState(false)
  /** The key itself: only in this state while shown, never stored. */
  const [created, setCreated] = useState<{ name: string; key: string }>()

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    const formElement = event.currentTarget
    const form = new FormData(formElement)
    const expiresOn = String(form.get('expires_at') ?? '')
    // A day: the key works until the end of it, in this browser's time zone.
    const expiresAt = expiresOn ? new Date(`${expiresOn}T23:59:59`) : undefined
    if (expiresAt && expiresAt.getTime() <= Date.now()) {
      setError(localError('expires_at', 'Pick a day in the future'))
      return
    }
    setBusy(true)
    setError(undefined)
    try {
      const answer = await unwrap(
        crm.POST('/api/v1/api-keys', {
          params: { header: org() },
          body: {
            name: String(form.get('name') ?? '').trim(),
            scope: form.get('scope') === 'write' ? 'write' : 'read',
            ...(expiresAt ? { expires_at: expiresAt.toISOString() } : {}),
          },
        }),
      )
      setCreated({ name: answer.name, key: answer.key })
      formElement.reset()
      await queryClient.invalidateQueries({ queryKey: key })
    } catch (failure) {
      setError(failure)
    } finally {
      setBusy(false)
    }
  }

  async function revoke(apiKey: ApiKey) {
    await unwrap(crm.DELETE('/api/v1/api-keys/{id}', { params: { path: { id: apiKey.id }, header: org() } }))
    notify('info', `The key “${apiKey.name}” was revoked`)
    await queryClient.invalidateQueries({ queryKey: key })
  }

  return (
    <>
      <section className="card stack" aria-labelledby="new-key-heading">
        <h2 id="new-key-heading">New API key</h2>
        <p className="muted">
          A key acts as you, with your role, in this organization. Read keys may only read; write keys may
          also change records.
        </p>
        <form onSubmit={submit} className="stack">
          <ErrorMessage error={error} />
          <div className="form-grid">
            <TextField label="Name" name="name" required maxLength={100} autoComplete="off" error={error} />
            <SelectField
              label="Scope"
              name="scope"
              defaultValue="read"
              options={[
                { value: 'read', label: 'Read' },
                { value: 'write', label: 'Read and write' },
              ]}
              error={error}
            />
            <TextField
              label="Expires on (optional)"
              name="expires_at"
              type="date"
              min={todayUtc()}
              hint="Empty: never expires"
              error={error}
            />
          </div>
          <div>
            <button type="submit" disabled={busy}>
              {busy ? 'Creating…' : 'Create key'}
            </button>
          </div>
        </form>
        {created ? (
          <SecretBox
            title={`Your new key “${created.name}”`}
            secret={created.key}
            onDismiss={() => setCreated(undefined)}
          >
            Use it as <code>Authorization: Bearer &lt;key&gt;</code>.
          </SecretBox>
        ) : null}
      </section>
      <section className="card stack" aria-labelledby="keys-heading">
        <h2 id="keys-heading">{manageAny ? 'Keys of this organization' : 'Your keys'}</h2>
        {isPending ? <Loading /> : null}
        <ErrorMessage error={loadError} />
        {data && data.length === 0 ? <p className="muted">No API keys yet.</p> : null}
        {data && data.length > 0 ? (
          <TableWrap label="API keys table">
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Prefix</th>
                  <th scope="col">Scope</th>
                  {manageAny ? <th scope="col">User</th> : null}
                  <th scope="col">Created</th>
                  <th scope="col">Last used</th>
                  <th scope="col">Expires</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {data.map((apiKey) => (
                  <tr key={apiKey.id}>
                    <td className="cell-wrap">{apiKey.name}</td>
                    <td>
                      <code>{apiKey.prefix}…</code>
                    </td>
                    <td>{apiKey.scope === 'write' ? 'Read and write' : 'Read'}</td>
                    {manageAny ? <td>{memberName(apiKey.user_id)}</td> : null}
                    <td className="time">{formatTime(apiKey.created_at)}</td>
                    <td>{apiKey.last_used_at ? formatTime(apiKey.last_used_at) : 'Never'}</td>
                    <td>
                      {apiKey.expires_at ? formatTime(apiKey.expires_at) : 'Never'}
                      {apiKey.expires_at && new Date(apiKey.expires_at).getTime() < Date.now() ? (
                        <span className="badge off"> expired</span>
                      ) : null}
                    </td>
                    <td>
                      {manageAny || apiKey.user_id === me?.id ? (
                        <ConfirmButton
                          label="Revoke"
                          accessibleLabel={`Revoke the key ${apiKey.name}`}
                          title="Revoke API key"
                          question={`Revoke “${apiKey.name}” (${apiKey.prefix}…)? Integrations using it stop working at once.`}
                          confirm="Revoke key"
                          action={() => revoke(apiKey)}
                        />
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        ) : null}
      </section>
    </>
  )
}
