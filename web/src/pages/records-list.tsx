/**
 * The list page of a record kind (contacts, companies): search, owner filter, sortable name and creation
 * columns, cursor paging, a "New …" form, CSV export and import. Each kind gives its columns, its form and its
 * two API calls (typed by the generated client in its own file).
 */
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { type ComponentType, type ReactNode, useId, useState } from 'react'
import { Link } from 'react-router'
import type { Action } from '../../../src/auth/policy.ts'
import { useOrganizationId, useSession } from '../session.tsx'
import { ErrorMessage, formatTime, Loading, TableWrap, TextField, useNotify } from '../ui.tsx'
import {
  ExportButton,
  OwnerFilter,
  OwnerName,
  Pager,
  queryString,
  type Sort,
  SortHeader,
  useCursorPager,
  useDebounced,
} from './records-kit.tsx'

export interface RecordListParams {
  search?: string
  owner_id?: string
  order_by: 'name' | 'created_at'
  order: 'asc' | 'desc'
  page_size: number
  cursor?: string
}

interface RecordRow {
  id: string
  name: string
  owner_id: string
  created_at: string
}

export interface RecordKind<Row extends RecordRow> {
  /** The API path segment and the query key: `contacts`, `companies`. */
  list: 'contacts' | 'companies'
  singular: string
  plural: string
  createAction: Action
  searchHint: string
  fetchPage: (params: RecordListParams) => Promise<{
    items: Row[]
    total: number | null
    pages: number | null
    next_cursor: string | null
  }>
  create: (form: FormData) => Promise<Row>
  Fields: ComponentType<{ error: unknown }>
  /** The columns between the name and the owner. */
  columns: { header: string; cell: (row: Row) => ReactNode; className?: string }[]
}

const capitalized = (word: string) => word.charAt(0).toUpperCase() + word.slice(1)

export function RecordListPage<Row extends RecordRow>({ kind }: { kind: RecordKind<Row> }) {
  const { can } = useSession()
  const organizationId = useOrganizationId()
  const [search, setSearch] = useState('')
  const [ownerId, setOwnerId] = useState('')
  const [sort, setSort] = useState<Sort<'name' | 'created_at'>>({ orderBy: 'created_at', order: 'desc' })
  const [creating, setCreating] = useState(false)
  const term = useDebounced(search.trim())
  const Title = capitalized(kind.plural)
  const mayCreate = can(kind.createAction)

  const filters = {
    ...(term ? { search: term } : {}),
    ...(ownerId ? { owner_id: ownerId } : {}),
    order_by: sort.orderBy,
    order: sort.order,
  }
  const pager = useCursorPager(JSON.stringify(filters))
  const params = { ...filters, page_size: 20, ...(pager.cursor ? { cursor: pager.cursor } : {}) }
  const { data, error, isPending, isFetching } = useQuery({
    queryKey: [organizationId, kind.list, params],
    queryFn: () => kind.fetchPage(params),
    placeholderData: keepPreviousData,
  })
  const exportPath = `/api/v1/${kind.list}/export${queryString({
    search: term,
    owner_id: ownerId,
    order_by: sort.orderBy,
    order: sort.order,
  })}`

  return (
    <div className="stack">
      <div className="spread">
        <h1>{Title}</h1>
        <div className="record-actions">
          {mayCreate ? (
            <button type="button" aria-expanded={creating} onClick={() => setCreating((open) => !open)}>
              New {kind.singular}
            </button>
          ) : null}
          <ExportButton path={exportPath} filename={`${kind.list}.csv`} />
          {mayCreate ? (
            <Link className="button secondary" to={`/import/${kind.list}`}>
              Import CSV
            </Link>
          ) : null}
        </div>
      </div>

      {creating && mayCreate ? <NewRecord kind={kind} onDone={() => setCreating(false)} /> : null}

      <search className="filters">
        <TextField
          label={`Search ${kind.plural}`}
          name="search"
          type="search"
          value={search}
          maxLength={255}
          onChange={(event) => setSearch(event.target.value)}
          hint={kind.searchHint}
        />
        <OwnerFilter value={ownerId} onChange={setOwnerId} />
      </search>

      {isPending ? (
        <Loading label={`Loading ${kind.plural}…`} />
      ) : error ? (
        <ErrorMessage error={error} />
      ) : (
        <section aria-labelledby={`${kind.list}-heading`} aria-busy={isFetching}>
          <h2 id={`${kind.list}-heading`} className="visually-hidden">
            {capitalized(kind.singular)} list
          </h2>
          <p className="muted" role="status">
            {data.total === null ? '' : `${data.total} ${data.total === 1 ? kind.singular : kind.plural}`}
          </p>
          {data.items.length === 0 ? (
            <p>{term || ownerId ? `No ${kind.plural} match these filters.` : `No ${kind.plural} yet.`}</p>
          ) : (
            <TableWrap label={`${Title} table`}>
              <table className="records-table">
                <caption className="visually-hidden">{Title}</caption>
                <thead>
                  <tr>
                    <SortHeader label="Name" field="name" sort={sort} onSort={setSort} />
                    {kind.columns.map((column) => (
                      <th key={column.header} scope="col">
                        {column.header}
                      </th>
                    ))}
                    <th scope="col">Owner</th>
                    <SortHeader
                      label="Created"
                      field="created_at"
                      sort={sort}
                      onSort={setSort}
                      firstOrder="desc"
                    />
                  </tr>
                </thead>
                <tbody>
                  {data.items.map((row) => (
                    <tr key={row.id}>
                      <td className="wrap">
                        <Link to={`/${kind.list}/${row.id}`}>{row.name}</Link>
                      </td>
                      {kind.columns.map((column) => (
                        <td key={column.header} className={column.className}>
                          {column.cell(row)}
                        </td>
                      ))}
                      <td>
                        <OwnerName id={row.owner_id} />
                      </td>
                      <td>{formatTime(row.created_at)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
          )}
          <Pager
            pager={pager}
            nextCursor={data.next_cursor}
            pages={data.pages}
            label={`${capitalized(kind.singular)} pages`}
          />
        </section>
      )}
    </div>
  )
}

function NewRecord<Row extends RecordRow>({ kind, onDone }: { kind: RecordKind<Row>; onDone: () => void }) {
  const organizationId = useOrganizationId()
  const queryClient = useQueryClient()
  const notify = useNotify()
  const headingId = useId()
  const create = useMutation({
    mutationFn: kind.create,
    onSuccess: async (row) => {
      notify('info', `${capitalized(kind.singular)} “${row.name}” created`)
      await queryClient.invalidateQueries({ queryKey: [organizationId, kind.list] })
      onDone()
    },
  })
  return (
    <section className="card" aria-labelledby={headingId}>
      <h2 id={headingId}>New {kind.singular}</h2>
      <form
        className="stack"
        onSubmit={(event) => {
          event.preventDefault()
          create.mutate(new FormData(event.currentTarget))
        }}
      >
        <kind.Fields error={create.error} />
        <ErrorMessage error={create.error} />
        <div className="row">
          <button type="submit" disabled={create.isPending}>
            {create.isPending ? 'Creating…' : `Create ${kind.singular}`}
          </button>
          <button type="button" className="secondary" onClick={onDone}>
            Cancel
          </button>
        </div>
      </form>
    </section>
  )
}

/** The edit form of a record's page: its fields, saved by `save`, then every list of the kind refreshed. */
export function RecordEditForm<Row extends RecordRow>(props: {
  list: RecordKind<Row>['list']
  singular: string
  save: (form: FormData) => Promise<Row>
  fields: (error: unknown) => ReactNode
}) {
  const { list, singular, save, fields } = props
  const organizationId = useOrganizationId()
  const queryClient = useQueryClient()
  const notify = useNotify()
  const mutation = useMutation({
    mutationFn: save,
    onSuccess: async (saved) => {
      queryClient.setQueryData([organizationId, list, saved.id], saved)
      notify('info', `${capitalized(singular)} saved`)
      await queryClient.invalidateQueries({ queryKey: [organizationId, list] })
    },
  })
  return (
    <form
      className="stack"
      aria-label={`Edit ${singular}`}
      onSubmit={(event) => {
        event.preventDefault()
        mutation.mutate(new FormData(event.currentTarget))
      }}
    >
      {fields(mutation.error)}
      <ErrorMessage error={mutation.error} />
      <div className="row">
        <button type="submit" disabled={mutation.isPending}>
          {mutation.isPending ? 'Saving…' : `Save ${singular}`}
        </button>
      </div>
    </form>
  )
}
