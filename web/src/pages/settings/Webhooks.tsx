/** Webhooks (owners, admins): create (the signing secret shown once), enable, edit, ping, rotate, delete. */
import type { Schemas } from '@mini-crm/client'
import { useQuery, useQueryClient } from '@tanstack/react-query'
import { type FormEvent, useId, useState } from 'react'
import { Link } from 'react-router'
import { ApiError, crm, org, unwrap } from '../../api.ts'
import { useOrganizationId } from '../../session.tsx'
import {
  ConfirmButton,
  Dialog,
  ErrorMessage,
  formatTime,
  Loading,
  TextArea,
  TextField,
  useNotify,
} from '../../ui.tsx'
import { attachToField, localError, SecretBox } from './shared.tsx'

type Webhook = Schemas['Webhook']

/** The event types of CreateWebhookBody (docs/openapi.json), by object; `<object>.*` and `*` also subscribe. */
const EVENT_GROUPS = [
  { object: 'contact', label: 'Contacts', actions: ['created', 'updated', 'deleted'] },
  { object: 'company', label: 'Companies', actions: ['created', 'updated', 'deleted'] },
  { object: 'deal', label: 'Deals', actions: ['created', 'updated', 'deleted'] },
  { object: 'task', label: 'Tasks', actions: ['created', 'updated', 'deleted'] },
  { object: 'comment', label: 'Comments', actions: ['created'] },
  { object: 'member', label: 'Members', actions: ['added', 'updated', 'removed'] },
] as const

function useWebhooksKey() {
  return [useOrganizationId(), 'webhooks']
}

export default function Webhooks() {
  const key = useWebhooksKey()
  const { data, error, isPending } = useQuery({
    queryKey: key,
    queryFn: () => unwrap(crm.GET('/api/v1/webhooks', { params: { header: org() } })),
  })
  return (
    <>
      <CreateWebhook />
      <section className="card stack" aria-labelledby="webhooks-heading">
        <h2 id="webhooks-heading">Webhooks</h2>
        {isPending ? <Loading /> : null}
        <ErrorMessage error={error} />
        {data && data.length === 0 ? <p className="muted">No webhooks yet.</p> : null}
        {data && data.length > 0 ? (
          <ul className="webhooks">
            {data.map((webhook) => (
              <WebhookItem key={webhook.id} webhook={webhook} />
            ))}
          </ul>
        ) : null}
      </section>
    </>
  )
}

/** Checkboxes for the events: `*`, each object's `<object>.*`, each type; a wider pattern covers the narrower. */
function EventsPicker({
  value,
  onChange,
  error,
}: {
  value: string[]
  onChange(next: string[]): void
  error?: unknown
}) {
  const noteId = useId()
  const all = value.includes('*')
  const toggle = (event: string, on: boolean) =>
    onChange(on ? [...value.filter((v) => v !== event), event] : value.filter((v) => v !== event))
  const message = error instanceof ApiError ? error.fieldError('events') : undefined
  return (
    <fieldset aria-describedby={message ? noteId : undefined}>
      <legend>Events</legend>
      <div className="stack">
        <label className="check">
          <input type="checkbox" checked={all} onChange={(event) => toggle('*', event.target.checked)} />
          All events, also future ones
        </label>
        <div className="event-groups">
          {EVENT_GROUPS.map((group) => {
            const pattern = `${group.object}.*`
            const whole = all || value.includes(pattern)
            return (
              <fieldset key={group.object} disabled={all}>
                <legend>{group.label}</legend>
                <label className="check">
                  <input
                    type="checkbox"
                    checked={whole}
                    onChange={(event) => toggle(pattern, event.target.checked)}
                  />
                  All {group.label.toLowerCase()} events
                </label>
                <div className="checks">
                  {group.actions.map((action) => {
                    const type = `${group.object}.${action}`
                    return (
                      <label key={type} className="check">
                        <input
                          type="checkbox"
                          checked={whole || value.includes(type)}
                          disabled={whole}
                          onChange={(event) => toggle(type, event.target.checked)}
                        />
                        <span>
                          {action} <span className="visually-hidden">({type})</span>
                        </span>
                      </label>
                    )
                  })}
                </div>
              </fieldset>
            )
          })}
        </div>
        {message ? (
          <span id={noteId} className="field-error">
            {message}
          </span>
        ) : null}
      </div>
    </fieldset>
  )
}

/** Only what is not already covered by a wider pattern is sent. */
function normalizeEvents(events: string[]): string[] {
  if (events.includes('*')) return ['*']
  return events.filter((event) => {
    const [object] = event.split('.')
    return event.endsWith('.*') || !events.includes(`${object}.*`)
  })
}

function CreateWebhook() {
  const key = useWebhooksKey()
  const queryClient = useQueryClient()
  const [events, setEvents] = useState<string[]>(['deal.*'])
  const [error, setError] = useState<unknown>()
  const [busy, setBusy] = useState(false)
  /** The signing secret: only in this state while shown. */
  const [created, setCreated] = useState<{ url: string; secret: string }>()
  const shown = attachToField(error, 'WEBHOOK_URL_NOT_ALLOWED', 'url')

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    const formElement = event.currentTarget
    const form = new FormData(formElement)
    const chosen = normalizeEvents(events)
    if (chosen.length === 0) {
      setError(localError('events', 'Choose at least one event'))
      return
    }
    const description = String(form.get('description') ?? '').trim()
    setBusy(true)
    setError(undefined)
    try {
      const answer = await unwrap(
        crm.POST('/api/v1/webhooks', {
          params: { header: org() },
          body: {
            url: String(form.get('url') ?? '').trim(),
            events: chosen,
            description: description || null,
            enabled: form.get('enabled') === 'on',
          },
        }),
      )
      setCreated({ url: answer.url, secret: answer.secret })
      formElement.reset()
      setEvents(['deal.*'])
      await queryClient.invalidateQueries({ queryKey: key })
    } catch (failure) {
      setError(failure)
    } finally {
      setBusy(false)
    }
  }

  return (
    <section className="card stack" aria-labelledby="new-webhook-heading">
      <h2 id="new-webhook-heading">New webhook</h2>
      <p className="muted">
        Mini-CRM sends a signed POST to your URL for each event you choose. Addresses on private networks are
        refused.
      </p>
      <form onSubmit={submit} className="stack">
        <ErrorMessage error={error} />
        <TextField
          label="URL"
          name="url"
          type="url"
          required
          maxLength={2048}
          placeholder="https://hooks.example.com/mini-crm"
          autoComplete="off"
          error={shown}
        />
        <EventsPicker value={events} onChange={setEvents} error={error} />
        <TextArea label="Description (optional)" name="description" maxLength={500} error={error} />
        <label className="check">
          <input type="checkbox" name="enabled" defaultChecked />
          Enabled: deliver events now
        </label>
        <div>
          <button type="submit" disabled={busy}>
            {busy ? 'Creating…' : 'Create webhook'}
          </button>
        </div>
      </form>
      {created ? (
        <SecretBox title="Signing secret" secret={created.secret} onDismiss={() => setCreated(undefined)}>
          Use it to check the <code>webhook-signature</code> header of deliveries to {created.url}.
        </SecretBox>
      ) : null}
    </section>
  )
}

function WebhookItem({ webhook }: { webhook: Webhook }) {
  const key = useWebhooksKey()
  const organizationId = useOrganizationId()
  const queryClient = useQueryClient()
  const notify = useNotify()
  const headingId = useId()
  const [error, setError] = useState<unknown>()
  const [busy, setBusy] = useState<string>()
  const [editing, setEditing] = useState(false)
  const [secret, setSecret] = useState<string>()
  const path = { params: { path: { id: webhook.id }, header: org() } }

  async function run(label: string, action: () => Promise<void>) {
    setBusy(label)
    setError(undefined)
    try {
      await action()
    } catch (failure) {
      setError(failure)
    } finally {
      setBusy(undefined)
    }
  }
  const refresh = () => queryClient.invalidateQueries({ queryKey: key })

  return (
    <li className="card stack" aria-labelledby={headingId}>
      <div className="spread">
        <h3 id={headingId} className="webhook-url">
          {webhook.url}
        </h3>
        <span className={webhook.enabled ? 'badge succeeded' : 'badge off'}>
          {webhook.enabled ? 'Enabled' : 'Disabled'}
        </span>
      </div>
      {webhook.description ? <p className="cell-wrap">{webhook.description}</p> : null}
      <p className="badges">
        <span className="visually-hidden">Events:</span>
        {webhook.events.map((event) => (
          <span key={event} className="badge">
            {event === '*' ? 'all events' : event}
          </span>
        ))}
      </p>
      <p className="muted">Created {formatTime(webhook.created_at)}</p>
      <ErrorMessage error={error} />
      <div className="actions">
        <button
          type="button"
          className="secondary small"
          disabled={busy !== undefined}
          onClick={() =>
            run('toggle', async () => {
              await unwrap(
                crm.PATCH('/api/v1/webhooks/{id}', { ...path, body: { enabled: !webhook.enabled } }),
              )
              await refresh()
            })
          }
        >
          {webhook.enabled ? 'Disable' : 'Enable'}
        </button>
        <button type="button" className="secondary small" onClick={() => setEditing(true)}>
          Edit
        </button>
        <button
          type="button"
          className="secondary small"
          disabled={busy !== undefined}
          onClick={() =>
            run('ping', async () => {
              await unwrap(crm.POST('/api/v1/webhooks/{id}/ping', path))
              await queryClient.invalidateQueries({
                queryKey: [organizationId, 'webhook-deliveries', webhook.id],
              })
              notify('info', 'Ping queued: see the deliveries for its result')
            })
          }
        >
          {busy === 'ping' ? 'Pinging…' : 'Ping'}
        </button>
        <button
          type="button"
          className="secondary small"
          disabled={busy !== undefined}
          onClick={() =>
            run('rotate', async () => {
              const answer = await unwrap(crm.POST('/api/v1/webhooks/{id}/rotate-secret', path))
              setSecret(answer.secret)
            })
          }
        >
          {busy === 'rotate' ? 'Rotating…' : 'Rotate secret'}
        </button>
        <Link className="button secondary small" to={`/settings/webhooks/${webhook.id}`}>
          Deliveries
        </Link>
        <ConfirmButton
          label="Delete"
          accessibleLabel={`Delete the webhook ${webhook.url}`}
          title="Delete webhook"
          question={`Delete the webhook for ${webhook.url}? Its pending deliveries are dropped.`}
          confirm="Delete webhook"
          action={async () => {
            await unwrap(crm.DELETE('/api/v1/webhooks/{id}', path))
            notify('info', 'Webhook deleted')
            await refresh()
          }}
        />
      </div>
      {secret ? (
        <SecretBox title="New signing secret" secret={secret} onDismiss={() => setSecret(undefined)}>
          The old secret also signs for 24 hours, so receivers can switch over.
        </SecretBox>
      ) : null}
      <Dialog title="Edit webhook" open={editing} onClose={() => setEditing(false)}>
        <EditWebhook
          webhook={webhook}
          onDone={async () => {
            setEditing(false)
            notify('info', 'Webhook saved')
            await refresh()
          }}
          onCancel={() => setEditing(false)}
        />
      </Dialog>
    </li>
  )
}

function EditWebhook({
  webhook,
  onDone,
  onCancel,
}: {
  webhook: Webhook
  onDone(): Promise<void>
  onCancel(): void
}) {
  const [events, setEvents] = useState<string[]>(webhook.events)
  const [error, setError] = useState<unknown>()
  const [busy, setBusy] = useState(false)
  const shown = attachToField(error, 'WEBHOOK_URL_NOT_ALLOWED', 'url')
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    const form = new FormData(event.currentTarget)
    const chosen = normalizeEvents(events)
    if (chosen.length === 0) {
      setError(localError('events', 'Choose at least one event'))
      return
    }
    const url = String(form.get('url') ?? '').trim()
    const description = String(form.get('description') ?? '').trim()
    setBusy(true)
    setError(undefined)
    try {
      await unwrap(
        crm.PATCH('/api/v1/webhooks/{id}', {
          params: { path: { id: webhook.id }, header: org() },
          body: {
            ...(url !== webhook.url ? { url } : {}),
            events: chosen,
            description: description || null,
          },
        }),
      )
      await onDone()
    } catch (failure) {
      setError(failure)
      setBusy(false)
    }
  }
  return (
    <form onSubmit={submit} className="stack">
      <ErrorMessage error={error} />
      <TextField
        label="URL"
        name="url"
        type="url"
        required
        maxLength={2048}
        defaultValue={webhook.url}
        error={shown}
      />
      <EventsPicker value={events} onChange={setEvents} error={error} />
      <TextArea
        label="Description (optional)"
        name="description"
        maxLength={500}
        defaultValue={webhook.description ?? ''}
        error={error}
      />
      <div className="row">
        <button type="submit" disabled={busy}>
          {busy ? 'Saving…' : 'Save webhook'}
        </button>
        <button type="button" className="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  )
}
