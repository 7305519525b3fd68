/**
 * /import/contacts and /import/companies: pick a CSV file, check it (a dry run: the service's per-row report,
 * nothing saved), then import it and show the final report.
 */
import type { Schemas } from '@mini-crm/client'
import { useMutation, useQueryClient } from '@tanstack/react-query'
import { useEffect, useId, useRef, useState } from 'react'
import { Link, useParams } from 'react-router'
import { ApiError, crm, org, unwrap } from '../api.ts'
import { useOrganizationId, useSession } from '../session.tsx'
import { ErrorMessage, SelectField, TableWrap } from '../ui.tsx'
import './records.css'

type Report = Schemas['ImportContactsResponse']
type Kind = 'contacts' | 'companies'

/** The import API's body limit. */
const MAX_BYTES = 10 * 1024 * 1024

const KINDS = {
  contacts: {
    title: 'Import contacts',
    list: '/contacts',
    listName: 'contacts',
    action: 'contact.create',
    columns: 'name (required), email, phone, company_domain, owner_email',
    matchLabel: 'Match existing contacts on',
    matchOptions: [
      { value: 'email', label: 'Email: a row with a known email updates that contact' },
      { value: 'none', label: 'Nothing: every row creates a contact' },
    ],
  },
  companies: {
    title: 'Import companies',
    list: '/companies',
    listName: 'companies',
    action: 'company.create',
    columns: 'name (required), domain, owner_email',
    matchLabel: 'Match existing companies on',
    matchOptions: [
      { value: 'domain', label: 'Domain: a row with a known domain updates that company' },
      { value: 'none', label: 'Nothing: every row creates a company' },
    ],
  },
} as const

function isKind(value: string | undefined): value is Kind {
  return value === 'contacts' || value === 'companies'
}

interface ImportRequest {
  kind: Kind
  csv: string
  matchOn: string
  dryRun: boolean
  /** The same key on a retry of the same import: the service answers the first result again. */
  idempotencyKey?: string
}

async function postImport({ kind, csv, matchOn, dryRun, idempotencyKey }: ImportRequest): Promise<Report> {
  const header = { ...org(), ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}) }
  const asText = { bodySerializer: (body: string) => body, headers: { 'content-type': 'text/csv' } }
  if (kind === 'contacts') {
    const match_on = matchOn === 'none' ? 'none' : 'email'
    return unwrap(
      crm.POST('/api/v1/contacts/import', {
        params: { header, query: { dry_run: dryRun, match_on } },
        body: csv,
        ...asText,
      }),
    )
  }
  const match_on = matchOn === 'none' ? 'none' : 'domain'
  return unwrap(
    crm.POST('/api/v1/companies/import', {
      params: { header, query: { dry_run: dryRun, match_on } },
      body: csv,
      ...asText,
    }),
  )
}

export default function Import() {
  const { kind } = useParams()
  const { can } = useSession()
  if (!isKind(kind)) {
    return (
      <div className="stack">
        <h1>Import</h1>
        <p>
          Nothing can be imported here. Import <Link to="/import/contacts">contacts</Link> or{' '}
          <Link to="/import/companies">companies</Link>.
        </p>
      </div>
    )
  }
  const page = KINDS[kind]
  if (!can(page.action)) {
    return (
      <div className="stack">
        <h1>{page.title}</h1>
        <p>Your role in this organization may not create {page.listName}, so it may not import them.</p>
        <p>
          <Link to={page.list}>Back to {page.listName}</Link>
        </p>
      </div>
    )
  }
  // A new kind starts a new form (no report of the other kind left over).
  return <ImportForm key={kind} kind={kind} />
}

function ImportForm({ kind }: { kind: Kind }) {
  const page = KINDS[kind]
  const organizationId = useOrganizationId()
  const queryClient = useQueryClient()
  const [file, setFile] = useState<File>()
  const [fileError, setFileError] = useState<string>()
  const [matchOn, setMatchOn] = useState<string>(page.matchOptions[0].value)
  /** The checked file's text and the dry run's report. */
  const [checked, setChecked] = useState<{ csv: string; report: Report }>()
  const [done, setDone] = useState<Report>()
  const [idempotencyKey, setIdempotencyKey] = useState(() => crypto.randomUUID())
  const fileHint = useId()
  const doneHeading = useRef<HTMLHeadingElement>(null)
  // The final report replaces the check: move focus to it so keyboard and screen reader users land there.
  useEffect(() => {
    if (done) doneHeading.current?.focus()
  }, [done])

  const check = useMutation({
    mutationFn: async (selected: File) => {
      const csv = await selected.text()
      const report = await postImport({ kind, csv, matchOn, dryRun: true })
      return { csv, report }
    },
    onSuccess: (result) => setChecked(result),
  })
  const run = useMutation({
    mutationFn: (csv: string) => postImport({ kind, csv, matchOn, dryRun: false, idempotencyKey }),
    onSuccess: async (report) => {
      setDone(report)
      await queryClient.invalidateQueries({ queryKey: [organizationId, kind] })
    },
  })

  function startOver() {
    setChecked(undefined)
    setDone(undefined)
    check.reset()
    run.reset()
    setIdempotencyKey(crypto.randomUUID())
  }

  const importable = checked ? checked.report.created + checked.report.updated : 0
  return (
    <div className="stack">
      <p>
        <Link to={page.list}>← {page.listName.charAt(0).toUpperCase() + page.listName.slice(1)}</Link>
      </p>
      <h1>{page.title}</h1>

      <form
        className="card stack"
        aria-label={`${page.title}: choose a file`}
        onSubmit={(event) => {
          event.preventDefault()
          if (!file) return setFileError('Choose a CSV file first.')
          if (file.size > MAX_BYTES) return setFileError('The file is larger than 10 MiB, the import limit.')
          startOver()
          check.mutate(file)
        }}
      >
        <div className="field">
          <label htmlFor="import-file">CSV file</label>
          <input
            id="import-file"
            name="file"
            type="file"
            accept=".csv,text/csv"
            aria-describedby={fileHint}
            aria-invalid={fileError ? true : undefined}
            onChange={(event) => {
              setFile(event.target.files?.[0])
              setFileError(undefined)
              startOver()
            }}
          />
          {fileError ? (
            <span id={fileHint} className="field-error">
              {fileError}
            </span>
          ) : (
            <span id={fileHint} className="hint">
              A header row with the columns {page.columns}; up to 10 MiB.
            </span>
          )}
        </div>
        <SelectField
          label={page.matchLabel}
          name="match_on"
          value={matchOn}
          options={[...page.matchOptions]}
          error={check.error}
          onChange={(event) => {
            setMatchOn(event.target.value)
            startOver()
          }}
        />
        <ProblemDetails error={check.error} />
        <div className="row">
          <button type="submit" disabled={check.isPending || run.isPending}>
            {check.isPending ? 'Checking…' : 'Check file'}
          </button>
        </div>
      </form>

      {checked && !done ? (
        <section className="card stack" aria-labelledby="check-heading">
          <h2 id="check-heading">Check result: nothing saved yet</h2>
          <ReportView report={checked.report} />
          {importable === 0 ? (
            <p>Nothing in this file would be created or updated.</p>
          ) : (
            <p>
              {checked.report.failed.length > 0
                ? 'Importing saves the rows that passed and skips the failed ones. '
                : ''}
              The rows are saved together, in one transaction.
            </p>
          )}
          <ProblemDetails error={run.error} />
          {importable > 0 ? (
            <div className="row">
              <button type="button" disabled={run.isPending} onClick={() => run.mutate(checked.csv)}>
                {run.isPending ? 'Importing…' : 'Import'}
              </button>
            </div>
          ) : null}
        </section>
      ) : null}

      {done ? (
        <section className="card stack" aria-labelledby="done-heading">
          <h2 id="done-heading" tabIndex={-1} ref={doneHeading}>
            Import finished
          </h2>
          <ReportView report={done} />
          <p>
            <Link to={page.list}>Back to {page.listName}</Link>
          </p>
        </section>
      ) : null}
    </div>
  )
}

/** A refused request: its detail, and its field errors when it has any (e.g. an unknown column). */
function ProblemDetails({ error }: { error: unknown }) {
  if (!error) return null
  const errors = error instanceof ApiError ? (error.problem.errors ?? []) : []
  return (
    <div className="stack">
      <ErrorMessage error={error} />
      {errors.length > 0 ? (
        <ul className="field-errors">
          {errors.map((item) => (
            <li key={`${item.field}:${item.message}`}>
              {fieldName(item.field)}: {item.message}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  )
}

/** `header.nom` → Column “nom”; `querystring.match_on` → match_on; the body itself → File. */
function fieldName(field: string): string {
  if (field.startsWith('header.')) return `Column “${field.slice('header.'.length)}”`
  return field.replace(/^(body|querystring)\.?/, '') || 'File'
}

function ReportView({ report }: { report: Report }) {
  return (
    <>
      <ul className="counts" aria-label="Rows">
        <li>
          <strong>{report.created}</strong> created
        </li>
        <li>
          <strong>{report.updated}</strong> updated
        </li>
        <li>
          <strong>{report.unchanged}</strong> unchanged
        </li>
        <li>
          <strong>{report.failed.length}</strong> failed
        </li>
      </ul>
      {report.failed.length > 0 ? (
        <TableWrap label="Failed rows">
          <table>
            <caption className="visually-hidden">Rows that failed</caption>
            <thead>
              <tr>
                <th scope="col">Row</th>
                <th scope="col">Code</th>
                <th scope="col">Errors</th>
              </tr>
            </thead>
            <tbody>
              {report.failed.map((row) => (
                <tr key={row.row}>
                  <th scope="row">Row {row.row}</th>
                  <td>
                    <code>{row.code}</code>
                  </td>
                  <td className="wrap">
                    {row.errors.length === 0 ? (
                      '—'
                    ) : (
                      <ul className="field-errors">
                        {row.errors.map((item) => (
                          <li key={`${item.field}:${item.message}`}>
                            <strong>{item.field}</strong>: {item.message}
                          </li>
                        ))}
                      </ul>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      ) : null}
    </>
  )
}
