/** Pieces the settings pages share: copying a one-time secret or link, confirming a destructive action. */
import { type ReactNode, useId, useRef, useState } from 'react'
import { ApiError } from '../../api.ts'

/** Copies `text`; when the clipboard is not available, selects `select` so the person can copy by hand. */
async function copyText(text: string, select: () => void): Promise<'copied' | 'selected'> {
  try {
    if (!navigator.clipboard) throw new Error('No clipboard')
    // A browser that neither allows nor refuses (a pending permission) counts as refused after a moment.
    await Promise.race([
      navigator.clipboard.writeText(text),
      new Promise((_, reject) => setTimeout(() => reject(new Error('Clipboard timeout')), 1500)),
    ])
    return 'copied'
  } catch {
    select()
    return 'selected'
  }
}

function CopyStatus({ state }: { state: 'idle' | 'copied' | 'selected' }) {
  return (
    <span className="muted copy-status" role="status">
      {state === 'copied' ? 'Copied.' : state === 'selected' ? 'Selected: press Ctrl+C (⌘C) to copy.' : ''}
    </span>
  )
}

/** A readonly input with a copy button (an invitation link). */
export function CopyField({
  label,
  value,
  button = 'Copy',
}: {
  label: string
  value: string
  button?: string
}) {
  const id = useId()
  const input = useRef<HTMLInputElement>(null)
  const [state, setState] = useState<'idle' | 'copied' | 'selected'>('idle')
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <div className="copy-row">
        <input
          id={id}
          ref={input}
          readOnly
          value={value}
          onFocus={(event) => event.currentTarget.select()}
          className="copy-input"
        />
        <button
          type="button"
          className="secondary"
          onClick={async () =>
            setState(
              await copyText(value, () => {
                input.current?.focus()
                input.current?.select()
              }),
            )
          }
        >
          {button}
        </button>
      </div>
      <CopyStatus state={state} />
    </div>
  )
}

/**
 * A secret shown once (an API key, a webhook signing secret): it lives only in the state of the component that
 * shows it, and is gone once dismissed.
 */
export function SecretBox({
  title,
  secret,
  children,
  onDismiss,
}: {
  title: string
  secret: string
  children?: ReactNode
  onDismiss: () => void
}) {
  const box = useRef<HTMLElement>(null)
  const [state, setState] = useState<'idle' | 'copied' | 'selected'>('idle')
  const headingId = useId()
  return (
    <section className="card stack secret-card" aria-labelledby={headingId}>
      <h3 id={headingId}>{title}</h3>
      <p>
        <strong>Copy it now: it will not be shown again.</strong> {children}
      </p>
      <code className="secret" ref={box}>
        {secret}
      </code>
      <div className="row">
        <button
          type="button"
          onClick={async () =>
            setState(
              await copyText(secret, () => {
                const element = box.current
                const selection = window.getSelection()
                if (!element || !selection) return
                const range = document.createRange()
                range.selectNodeContents(element)
                selection.removeAllRanges()
                selection.addRange(range)
              }),
            )
          }
        >
          Copy
        </button>
        <button type="button" className="secondary" onClick={onDismiss}>
          Done, hide it
        </button>
        <CopyStatus state={state} />
      </div>
    </section>
  )
}

/**
 * Some refusals name no field (WEBHOOK_URL_NOT_ALLOWED): this copy of the error carries the message as a field
 * error too, so the field shows it next to the input.
 */
export function attachToField(error: unknown, code: string, field: string): unknown {
  if (!(error instanceof ApiError) || error.code !== code) return error
  return new ApiError(error.status, {
    ...error.problem,
    errors: [...(error.problem.errors ?? []), { field, message: error.message }],
  })
}

/** An error made here (before any request), shown like the service's: a message and a field error. */
export function localError(field: string, message: string): ApiError {
  return new ApiError(400, { detail: message, errors: [{ field, message }] })
}

export const ROLES = ['owner', 'admin', 'manager', 'member'] as const
export type Role = (typeof ROLES)[number]
export const roleLabel = (role: string) => role.charAt(0).toUpperCase() + role.slice(1)

/** The roles `actor` may grant (spec §4): owners any, admins manager or member (organizations/rules.ts). */
export function grantableRoles(actor: Role | undefined): Role[] {
  if (actor === 'owner') return [...ROLES]
  if (actor === 'admin') return ['manager', 'member']
  return []
}
