/** Small accessible building blocks: labelled fields with their errors, alerts, dialogs, money and dates. */
import {
  createContext,
  type InputHTMLAttributes,
  type ReactNode,
  type SelectHTMLAttributes,
  type TextareaHTMLAttributes,
  useCallback,
  useContext,
  useEffect,
  useId,
  useRef,
  useState,
} from 'react'
import { ApiError, messageOf } from './api.ts'

/** The problem's detail, as an alert (field errors are shown next to their fields). */
export function ErrorMessage({ error }: { error: unknown }) {
  if (!error) return null
  return (
    <p className="error" role="alert">
      {messageOf(error)}
    </p>
  )
}

interface FieldProps {
  label: string
  name: string
  /** The failed request: its error for this field is shown under the input. */
  error?: unknown
  hint?: string
}

function fieldMessage(error: unknown, name: string): string | undefined {
  return error instanceof ApiError ? error.fieldError(name) : undefined
}

/** The label, the control's accessibility attributes and the note under it, for every kind of field. */
function useField(name: string, error: unknown, hint: string | undefined) {
  const id = useId()
  const message = fieldMessage(error, name)
  const noteId = message || hint ? `${id}-note` : undefined
  return {
    id,
    control: { id, name, 'aria-invalid': message ? true : undefined, 'aria-describedby': noteId },
    note: message ? (
      <span id={noteId} className="field-error">
        {message}
      </span>
    ) : hint ? (
      <span id={noteId} className="hint">
        {hint}
      </span>
    ) : null,
  }
}

export function TextField({
  label,
  name,
  error,
  hint,
  ...input
}: FieldProps & InputHTMLAttributes<HTMLInputElement>) {
  const field = useField(name, error, hint)
  return (
    <div className="field">
      <label htmlFor={field.id}>{label}</label>
      <input {...field.control} {...input} />
      {field.note}
    </div>
  )
}

export function TextArea({
  label,
  name,
  error,
  hint,
  ...input
}: FieldProps & TextareaHTMLAttributes<HTMLTextAreaElement>) {
  const field = useField(name, error, hint)
  return (
    <div className="field">
      <label htmlFor={field.id}>{label}</label>
      <textarea {...field.control} {...input} />
      {field.note}
    </div>
  )
}

export function SelectField({
  label,
  name,
  error,
  hint,
  options,
  ...select
}: FieldProps & SelectHTMLAttributes<HTMLSelectElement> & { options: { value: string; label: string }[] }) {
  const field = useField(name, error, hint)
  return (
    <div className="field">
      <label htmlFor={field.id}>{label}</label>
      <select {...field.control} {...select}>
        {options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
      {field.note}
    </div>
  )
}

/** A modal on the native <dialog>: focus moves in, Escape closes, the page behind is inert. */
export function Dialog({
  title,
  open,
  onClose,
  children,
}: {
  title: string
  open: boolean
  onClose: () => void
  children: ReactNode
}) {
  const ref = useRef<HTMLDialogElement>(null)
  const titleId = useId()
  useEffect(() => {
    const dialog = ref.current
    if (!dialog) return
    if (open && !dialog.open) dialog.showModal()
    if (!open && dialog.open) dialog.close()
  }, [open])
  return (
    <dialog ref={ref} aria-labelledby={titleId} onClose={onClose} className="dialog">
      <h2 id={titleId}>{title}</h2>
      {open ? children : null}
    </dialog>
  )
}

const moneyFormats = new Map<string, Intl.NumberFormat>()
export function formatMoney(amount: string | number, currency: string): string {
  let format = moneyFormats.get(currency)
  if (!format) {
    try {
      format = new Intl.NumberFormat(undefined, { style: 'currency', currency, maximumFractionDigits: 2 })
    } catch {
      format = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 })
    }
    moneyFormats.set(currency, format)
  }
  return format.format(Number(amount))
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' })
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' })
/** A YYYY-MM-DD date (a calendar day, shown as such whatever the time zone). */
export function formatDay(day: string | null | undefined): string {
  if (!day) return '—'
  return dateFormat.format(new Date(`${day}T12:00:00`))
}
export function formatTime(timestamp: string | null | undefined): string {
  return timestamp ? dateTimeFormat.format(new Date(timestamp)) : '—'
}
export function todayUtc(): string {
  return new Date().toISOString().slice(0, 10)
}

export const STAGES = ['qualification', 'proposal', 'negotiation', 'closed'] as const
export const STATUSES = ['new', 'in_progress', 'won', 'lost'] as const
export type Stage = (typeof STAGES)[number]
export type Status = (typeof STATUSES)[number]
export const stageLabel = (stage: string) => stage.charAt(0).toUpperCase() + stage.slice(1)
export const statusLabel = (status: string) =>
  ({ new: 'New', in_progress: 'In progress', won: 'Won', lost: 'Lost' })[status] ?? status

/** Page-level notices (a refused drag, a saved form), announced to screen readers. */
interface Notice {
  id: number
  kind: 'error' | 'info'
  text: string
}
const NoticeContext = createContext<(kind: Notice['kind'], text: string) => void>(() => {})

export function NoticeProvider({ children }: { children: ReactNode }) {
  const [notices, setNotices] = useState<Notice[]>([])
  const counter = useRef(0)
  const notify = useCallback((kind: Notice['kind'], text: string) => {
    counter.current += 1
    const id = counter.current
    setNotices((current) => [...current.slice(-2), { id, kind, text }])
    setTimeout(() => setNotices((current) => current.filter((n) => n.id !== id)), 8000)
  }, [])
  return (
    <NoticeContext.Provider value={notify}>
      {children}
      <div className="notices" aria-live="polite">
        {notices.map((notice) => (
          <div
            key={notice.id}
            className={`notice notice-${notice.kind}`}
            role={notice.kind === 'error' ? 'alert' : 'status'}
          >
            <span>{notice.text}</span>
            <button
              type="button"
              className="link"
              aria-label="Dismiss"
              onClick={() => setNotices((current) => current.filter((n) => n.id !== notice.id))}
            >
              ×
            </button>
          </div>
        ))}
      </div>
    </NoticeContext.Provider>
  )
}

export function useNotify() {
  return useContext(NoticeContext)
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p className="muted" role="status">
      {label}
    </p>
  )
}

/**
 * A table's horizontal scroller (narrow screens): focusable and named, so keyboard users can scroll it
 * (axe: scrollable-region-focusable).
 */
export function TableWrap({ label, children }: { label: string; children: ReactNode }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard
    <section className="table-wrap" tabIndex={0} aria-label={label}>
      {children}
    </section>
  )
}

/** A button that asks first (a modal dialog), then runs `action`; its error is shown in the dialog. */
export function ConfirmButton({
  label,
  accessibleLabel,
  title,
  question,
  confirm,
  action,
  className = 'danger small',
}: {
  label: string
  accessibleLabel?: string
  title: string
  question: ReactNode
  confirm: string
  action: () => Promise<unknown>
  className?: string
}) {
  const [open, setOpen] = useState(false)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>()
  const close = () => {
    setOpen(false)
    setError(undefined)
  }
  return (
    <>
      <button type="button" className={className} aria-label={accessibleLabel} onClick={() => setOpen(true)}>
        {label}
      </button>
      <Dialog title={title} open={open} onClose={close}>
        <div className="stack">
          {typeof question === 'string' ? <p>{question}</p> : question}
          <ErrorMessage error={error} />
          <div className="row">
            <button
              type="button"
              className="danger"
              disabled={busy}
              onClick={async () => {
                setBusy(true)
                setError(undefined)
                try {
                  await action()
                  setBusy(false)
                  close()
                } catch (failure) {
                  setBusy(false)
                  setError(failure)
                }
              }}
            >
              {busy ? 'Working…' : confirm}
            </button>
            <button type="button" className="secondary" onClick={close}>
              Cancel
            </button>
          </div>
        </div>
      </Dialog>
    </>
  )
}
