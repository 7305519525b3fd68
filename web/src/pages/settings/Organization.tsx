/** Settings home: the organization (name, default currency), the pipeline probabilities and one's own profile. */
import { useQueryClient } from '@tanstack/react-query'
import { type FormEvent, useState } from 'react'
import { crm, org, unwrap } from '../../api.ts'
import { useOrganization, usePipeline } from '../../queries.ts'
import { useOrganizationId, useSession } from '../../session.tsx'
import { ErrorMessage, Loading, SelectField, stageLabel, TableWrap, TextField, useNotify } from '../../ui.tsx'
import { attachToField, localError, roleLabel } from './shared.tsx'

export default function OrganizationSettings() {
  return (
    <>
      <OrganizationForm />
      <PipelineForm />
      <Profile />
    </>
  )
}

/** Every ISO 4217 code the runtime knows (the service accepts the same list); a text field where unsupported. */
const CURRENCIES: string[] | undefined = (() => {
  try {
    return Intl.supportedValuesOf('currency')
  } catch {
    return undefined
  }
})()

function OrganizationForm() {
  const organizationId = useOrganizationId()
  const { can, reloadOrganizations } = useSession()
  const queryClient = useQueryClient()
  const notify = useNotify()
  const { data, error: loadError, isPending } = useOrganization()
  const [error, setError] = useState<unknown>()
  const [busy, setBusy] = useState(false)
  const editable = can('organization.update')

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    if (!data) return
    const form = new FormData(event.currentTarget)
    const name = String(form.get('name') ?? '').trim()
    const currency = String(form.get('default_currency') ?? '')
      .trim()
      .toUpperCase()
    setBusy(true)
    setError(undefined)
    try {
      const saved = await unwrap(
        crm.PATCH('/api/v1/organizations/{id}', {
          params: { path: { id: organizationId } },
          body: { name, default_currency: currency },
        }),
      )
      queryClient.setQueryData([organizationId, 'organization'], saved)
      // The currency is the default of amounts and summaries everywhere: every page of this organization refetches.
      await queryClient.invalidateQueries({ queryKey: [organizationId] })
      if (saved.name !== data.name) await reloadOrganizations(organizationId)
      notify('info', 'Organization saved')
    } catch (failure) {
      setError(failure)
    } finally {
      setBusy(false)
    }
  }

  return (
    <section className="card stack" aria-labelledby="organization-heading">
      <h2 id="organization-heading">Organization</h2>
      {isPending ? <Loading /> : null}
      <ErrorMessage error={loadError} />
      {data && editable ? (
        <form onSubmit={submit} className="stack" key={`${data.name}|${data.default_currency}`}>
          <ErrorMessage error={error} />
          <div className="form-grid">
            <TextField
              label="Organization name"
              name="name"
              required
              maxLength={255}
              defaultValue={data.name}
              error={error}
            />
            {CURRENCIES ? (
              <SelectField
                label="Default currency"
                name="default_currency"
                defaultValue={data.default_currency}
                options={(CURRENCIES.includes(data.default_currency)
                  ? CURRENCIES
                  : [data.default_currency, ...CURRENCIES]
                ).map((code) => ({ value: code, label: code }))}
                error={error}
              />
            ) : (
              <TextField
                label="Default currency"
                name="default_currency"
                required
                minLength={3}
                maxLength={3}
                defaultValue={data.default_currency}
                hint="ISO 4217 code, like USD or EUR"
                error={error}
              />
            )}
          </div>
          <div>
            <button type="submit" disabled={busy}>
              {busy ? 'Saving…' : 'Save organization'}
            </button>
          </div>
        </form>
      ) : null}
      {data && !editable ? (
        <>
          <dl className="details">
            <dt>Name</dt>
            <dd>{data.name}</dd>
            <dt>Default currency</dt>
            <dd>{data.default_currency}</dd>
            <dt>Your role</dt>
            <dd>{roleLabel(data.role)}</dd>
          </dl>
          <p className="muted">Only owners and admins change the organization.</p>
        </>
      ) : null}
    </section>
  )
}

function PipelineForm() {
  const organizationId = useOrganizationId()
  const { can } = useSession()
  const queryClient = useQueryClient()
  const notify = useNotify()
  const { data, error: loadError, isPending } = usePipeline()
  const [error, setError] = useState<unknown>()
  const [busy, setBusy] = useState(false)
  const editable = can('pipeline.update')

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    if (!data) return
    const form = new FormData(event.currentTarget)
    const probabilities = Object.fromEntries(
      data.stages.map((stage) => [stage.stage, Number(form.get(stage.stage))]),
    )
    setBusy(true)
    setError(undefined)
    try {
      const saved = await unwrap(
        crm.PATCH('/api/v1/pipeline', { params: { header: org() }, body: { probabilities } }),
      )
      queryClient.setQueryData([organizationId, 'pipeline'], saved)
      // Deals' probabilities and weighted amounts follow the pipeline: every page of this organization refetches.
      await queryClient.invalidateQueries({ queryKey: [organizationId] })
      notify('info', 'Pipeline probabilities saved')
    } catch (failure) {
      setError(failure)
    } finally {
      setBusy(false)
    }
  }

  return (
    <section className="card stack" aria-labelledby="pipeline-heading">
      <h2 id="pipeline-heading">Pipeline probabilities</h2>
      <p className="muted">
        The chance, in percent, that a deal in each stage is won; weighted amounts use it.
      </p>
      {isPending ? <Loading /> : null}
      <ErrorMessage error={loadError} />
      {data && editable ? (
        <form
          onSubmit={submit}
          className="stack"
          key={data.stages.map((stage) => stage.probability).join('|')}
        >
          <ErrorMessage error={error} />
          <div className="form-grid probabilities">
            {data.stages.map((stage) => (
              <TextField
                key={stage.stage}
                label={`${stageLabel(stage.stage)} (%)`}
                name={stage.stage}
                type="number"
                inputMode="numeric"
                min={0}
                max={100}
                step={1}
                required
                defaultValue={stage.probability}
                error={error}
              />
            ))}
          </div>
          <div>
            <button type="submit" disabled={busy}>
              {busy ? 'Saving…' : 'Save probabilities'}
            </button>
          </div>
        </form>
      ) : null}
      {data && !editable ? (
        <>
          <TableWrap label="Pipeline probabilities">
            <table>
              <thead>
                <tr>
                  <th scope="col">Stage</th>
                  <th scope="col" className="number">
                    Probability
                  </th>
                </tr>
              </thead>
              <tbody>
                {data.stages.map((stage) => (
                  <tr key={stage.stage}>
                    <td>{stageLabel(stage.stage)}</td>
                    <td className="number">{stage.probability}%</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
          <p className="muted">Only owners and admins change the pipeline.</p>
        </>
      ) : null}
    </section>
  )
}

function Profile() {
  return (
    <section className="card stack" aria-labelledby="profile-heading">
      <h2 id="profile-heading">Your profile</h2>
      <NameForm />
      <PasswordForm />
    </section>
  )
}

function NameForm() {
  const { me, reloadOrganizations } = useSession()
  const organizationId = useOrganizationId()
  const queryClient = useQueryClient()
  const notify = useNotify()
  const [error, setError] = useState<unknown>()
  const [busy, setBusy] = useState(false)
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    const name = String(new FormData(event.currentTarget).get('name') ?? '').trim()
    setBusy(true)
    setError(undefined)
    try {
      await unwrap(crm.PATCH('/api/v1/auth/me', { body: { name } }))
      // The session's `me` and the member lists show the name.
      await reloadOrganizations(organizationId)
      await queryClient.invalidateQueries({ queryKey: [organizationId, 'members'] })
      notify('info', 'Your name was saved')
    } catch (failure) {
      setError(failure)
    } finally {
      setBusy(false)
    }
  }
  return (
    <form onSubmit={submit} className="stack" aria-labelledby="name-heading" key={me?.name}>
      <h3 id="name-heading">Name</h3>
      <ErrorMessage error={error} />
      <p className="muted">Signed in as {me?.email}</p>
      <div className="row">
        <TextField
          label="Your name"
          name="name"
          autoComplete="name"
          required
          maxLength={255}
          defaultValue={me?.name}
          error={error}
        />
        <button type="submit" disabled={busy}>
          {busy ? 'Saving…' : 'Save name'}
        </button>
      </div>
    </form>
  )
}

function PasswordForm() {
  const { me, signIn, startWith } = useSession()
  const organizationId = useOrganizationId()
  const notify = useNotify()
  const [error, setError] = useState<unknown>()
  const [busy, setBusy] = useState(false)
  const fieldError = attachToField(error, 'INVALID_CURRENT_PASSWORD', 'current_password')
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    const formElement = event.currentTarget
    const form = new FormData(formElement)
    const current = String(form.get('current_password') ?? '')
    const next = String(form.get('new_password') ?? '')
    if (next !== String(form.get('repeat_password') ?? '')) {
      setError(localError('repeat_password', 'The two new passwords are not the same'))
      return
    }
    setBusy(true)
    setError(undefined)
    try {
      const tokens = await unwrap(
        crm.POST('/api/v1/auth/password', { body: { current_password: current, new_password: next } }),
      )
      // The change ended every session, the console's cookie session too, and its answer cannot set the
      // httpOnly cookie: signing in again with the new password starts a cookie session for this browser
      // (failing that, the answer's access token keeps this tab working until it expires).
      try {
        if (!me) throw new Error('Not signed in')
        await signIn(me.email, next)
      } catch {
        await startWith(tokens.access_token, organizationId)
      }
      formElement.reset()
      notify('info', 'Password changed. Your other sessions were signed out.')
    } catch (failure) {
      setError(failure)
    } finally {
      setBusy(false)
    }
  }
  return (
    <form onSubmit={submit} className="stack" aria-labelledby="password-heading">
      <h3 id="password-heading">Password</h3>
      <p className="muted">Changing it signs you out everywhere else.</p>
      <ErrorMessage error={error} />
      <div className="form-grid">
        <TextField
          label="Current password"
          name="current_password"
          type="password"
          autoComplete="current-password"
          required
          error={fieldError}
        />
        <TextField
          label="New password"
          name="new_password"
          type="password"
          autoComplete="new-password"
          required
          minLength={8}
          maxLength={128}
          hint="At least 8 characters"
          error={fieldError}
        />
        <TextField
          label="Repeat new password"
          name="repeat_password"
          type="password"
          autoComplete="new-password"
          required
          minLength={8}
          maxLength={128}
          error={fieldError}
        />
      </div>
      <div>
        <button type="submit" disabled={busy}>
          {busy ? 'Changing…' : 'Change password'}
        </button>
      </div>
    </form>
  )
}
