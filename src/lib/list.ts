import { type AnyColumn, and, is, Placeholder, type SQL, sql } from 'drizzle-orm'
import type { PgTable } from 'drizzle-orm/pg-core'
import { Type } from 'typebox'
import { type Executor, queryRows } from '../db/client.js'
import { setBounded } from './bounded-map.js'
import { type CursorCodec, type CursorValue, cursorBinding, cursorCodec, InvalidCursor } from './cursor.js'
import { AppError } from './errors.js'

/**
 * Paginated lists at scale (spec §14): keyset paging by signed cursor, offset paging capped at MAX_OFFSET_ROWS,
 * `next_cursor` on every page, and totals that never count a whole organization per request:
 * - unfiltered: the per-organization counters of `list_counts` (kept exact by triggers in the write transaction);
 * - filtered: one count per filter set and list write generation (the sum of `list_counts.writes`), cached in
 *   process. The count and the generation it is cached under are read by one statement (one snapshot), so a
 *   cached count is exactly the count of that generation; any committed write moves the generation on.
 * The counter total or the generation is selected with the page itself (one statement, one snapshot: a page and
 * its total always agree), so a page is one round trip when its count is known. A page's statement is built once
 * per shape, its values bound as placeholders (`listValues`, `ListSource.shape`).
 */

/** Offset paging reaches this many rows at most; further pages are reached by cursor (which costs the same). */
export const MAX_OFFSET_ROWS = 10_000
const COUNT_CACHE_ENTRIES = 10_000

/** Query parameters every paginated list takes (spec §1 and §14). */
export const ListPageQuery = {
  page: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 1_000_000,
      description: `1-based; page × page_size may not pass ${MAX_OFFSET_ROWS} (use cursor beyond). Not with cursor.`,
    }),
  ),
  page_size: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 4096,
      description: 'next_cursor of the previous page; bound to the same filters and order',
    }),
  ),
  count: Type.Optional(Type.Boolean({ default: true, description: 'false: total and pages are null' })),
}

export interface ListParams {
  page?: number | undefined
  page_size?: number | undefined
  cursor?: string | undefined
  count?: boolean | undefined
}

/** Response of every paginated list. */
export function ListPage<T extends import('typebox').TSchema>(item: T) {
  return Type.Object({
    items: Type.Array(item),
    total: Type.Union([Type.Integer(), Type.Null()]),
    page: Type.Union([Type.Integer(), Type.Null()]),
    page_size: Type.Integer(),
    pages: Type.Union([Type.Integer(), Type.Null()]),
    next_cursor: Type.Union([Type.String(), Type.Null()]),
  })
}

export interface SortKey {
  column: AnyColumn | SQL
  /** SQL type the cursor value is cast to in the keyset comparison. */
  cast: 'timestamptz' | 'numeric' | 'text' | 'date' | 'uuid' | 'boolean'
  /** Only the first key may be nullable; its nulls sort last in both directions. */
  nullable?: boolean
}

export interface Ordering {
  /** The sort keys, the last one unique (the id). */
  keys: SortKey[]
  direction: 'asc' | 'desc'
}

/**
 * The feature's select with these clauses, not yet run: the engine prepares it once per statement shape and runs
 * it with the values of its placeholders. `limit` is a placeholder; `meta` is one more column for the feature to
 * select as `listMeta` (`listMetaColumn`): a scalar the engine reads with the page, in the same statement and
 * snapshot (the list's total or write generation), instead of a second round trip.
 */
export type RowQuery<Row> = (
  where: SQL | undefined,
  orderBy: SQL[],
  limit: Placeholder,
  meta?: SQL,
) => PreparableQuery<Row>

/**
 * A drizzle select with placeholders (`execute(values)` builds and runs it), or the same select prepared once
 * (`execute(values)` only runs it).
 */
export interface PreparableQuery<Row> {
  execute(values: Record<string, unknown>): Promise<Row[]>
}

/** The organization's id in every list statement (`listValues`). */
const ORGANIZATION = sql.placeholder('organization_id')

/**
 * The values of a list's statements, by placeholder name: every value a feature puts in its conditions goes
 * through `bind`, so the statement's text depends only on which filters are present (the names bound), never on
 * their values, and is built once per shape (see `ListSource.shape`). The organization's id is bound first:
 * `organization`, the placeholder `organization_id`, which the engine's total and generation columns read too.
 */
export function listValues(organizationId: string) {
  const values: Record<string, unknown> = { organization_id: organizationId }
  return {
    values,
    organization: ORGANIZATION,
    bind(name: string, value: unknown): Placeholder {
      values[name] = value
      return sql.placeholder(name)
    },
  }
}

/** The `listMeta` column of a page: the engine's scalar, or NULL where it asks for none (exports). */
export function listMetaColumn(meta: SQL | undefined): SQL.Aliased {
  return (meta ?? sql`NULL`).as('list_meta')
}

/** What a page read with `listMetaColumn` carries besides the feature's row. */
type WithListMeta = { listMeta?: unknown }

function orderClauses(keys: SortKey[], direction: 'asc' | 'desc', nullsLast: boolean): SQL[] {
  return keys.map((key, i) =>
    i === 0 && nullsLast
      ? sql`${key.column} ${sql.raw(direction)} NULLS LAST`
      : sql`${key.column} ${sql.raw(direction)}`,
  )
}

/**
 * `(k1, …, kn) > (:cursor_0, …, :cursor_n-1)` (or `<` descending): one row comparison, which a btree on the keys
 * serves. The position's values are placeholders, filled from `cursorValues`.
 */
function after(keys: SortKey[], direction: 'asc' | 'desc'): SQL {
  const columns = sql.join(
    keys.map((key) => sql`${key.column}`),
    sql`, `,
  )
  const bound = sql.join(
    keys.map((key, i) => sql`${sql.placeholder(`cursor_${i}`)}::${sql.raw(key.cast)}`),
    sql`, `,
  )
  return direction === 'asc' ? sql`(${columns}) > (${bound})` : sql`(${columns}) < (${bound})`
}

function cursorValues(position: CursorValue[]): Record<string, unknown> {
  const values: Record<string, unknown> = {}
  position.forEach((value, i) => {
    values[`cursor_${i}`] = value
  })
  return values
}

/** What the engine reads a list's rows from: a feature's list module (features/<x>/list.ts) describes it. */
export interface ListSource<Row> {
  /** Name of the list; a cursor of one list is refused by another. */
  list: string
  /**
   * With the names bound in `values`, what determines the text of the list's statements: whatever the feature's
   * select varies besides bound values (its order, an expansion). Pages are prepared once per list, shape, names
   * and range, and the test configuration checks on every reuse that the key did determine the text.
   */
  shape: string
  /** The conditions every row matches, with every value a placeholder bound in `values` (`listValues`). */
  base: SQL[]
  values: Record<string, unknown>
  ordering: Ordering
  run: RowQuery<Row>
}

/** A page's extra column (the total or the generation), its values, and its name in the statement's key. */
interface PageMeta {
  key: string
  column: SQL
  values: Record<string, unknown>
}

/** Pages prepared by key (see `ListSource.shape`); `check` rebuilds each reused one to compare its text. */
export interface StatementCache {
  statements: Map<string, { page: PreparableQuery<unknown>; text: string }>
  check: boolean
}

/** Statements kept per application: far more than the shapes clients use; the oldest goes first past it. */
const STATEMENT_CACHE_ENTRIES = 1_000

/** The statement's text and the names of its parameters; undefined when a parameter is a value, not a name. */
function statementText(query: PreparableQuery<unknown>): string | undefined {
  const { sql: text, params } = (query as unknown as { toSQL(): { sql: string; params: unknown[] } }).toSQL()
  const names: string[] = []
  for (const param of params) {
    if (!is(param, Placeholder)) return undefined
    names.push(param.name)
  }
  return `${text} -- ${names.join(',')}`
}

/**
 * The page statement of `key`, built and prepared on first use. A value not bound as a placeholder would be
 * kept in the statement and served to the next request: such a statement is never kept (and fails in tests).
 */
function pageStatement<Row>(
  cache: StatementCache | undefined,
  key: string,
  build: () => PreparableQuery<Row>,
): PreparableQuery<Row> {
  if (!cache) return build()
  const kept = cache.statements.get(key)
  if (kept !== undefined) {
    if (cache.check && statementText(build()) !== kept.text) {
      throw new Error(`List statement ${key}: its key does not determine its text`)
    }
    return kept.page as PreparableQuery<Row>
  }
  const query = build()
  const text = statementText(query)
  if (text === undefined) {
    if (cache.check) throw new Error(`List statement ${key}: a value is not bound as a placeholder`)
    return query
  }
  // The builder's own unnamed preparation (what its execute() does each time), kept: the connection's statement
  // cache (db/client.ts) names it by its text.
  const page = (query as unknown as { _prepare(): PreparableQuery<Row> })._prepare()
  setBounded(cache.statements, key, { page: page as PreparableQuery<unknown>, text }, STATEMENT_CACHE_ENTRIES)
  return page
}

/**
 * Up to `limit` rows after the position `cursor` (or from the start). A nullable first key is read in two index
 * ranges, its values and then its nulls, so both directions keep "nulls last" and each range is an index scan.
 */
export async function keysetRows<Row>(
  source: ListSource<Row>,
  cursor: CursorValue[] | undefined,
  limit: number,
  meta?: PageMeta,
  cache?: StatementCache,
): Promise<Row[]> {
  const { keys, direction } = source.ordering
  const names = Object.keys(source.values).join(',')
  const read = (
    range: string,
    where: () => SQL[],
    order: SortKey[],
    position: CursorValue[] | undefined,
    count: number,
    pageMeta: PageMeta | undefined,
  ) => {
    const key = `${source.list}|${source.shape}|${names}|${range}|${pageMeta?.key ?? ''}`
    const statement = pageStatement(cache, key, () =>
      source.run(
        and(...source.base, ...where()),
        orderClauses(order, direction, false),
        sql.placeholder('limit'),
        pageMeta?.column,
      ),
    )
    return statement.execute({
      ...source.values,
      ...pageMeta?.values,
      ...(position ? cursorValues(position) : undefined),
      limit: count,
    })
  }
  const [first] = keys
  if (!first?.nullable) {
    return cursor
      ? read('after', () => [after(keys, direction)], keys, cursor, limit, meta)
      : read('start', () => [], keys, undefined, limit, meta)
  }
  const rest = keys.slice(1)
  let rows: Row[] = []
  if (!cursor || cursor[0] !== null) {
    const range = () => [sql`${first.column} IS NOT NULL`, ...(cursor ? [after(keys, direction)] : [])]
    rows = await read(cursor ? 'values after' : 'values', range, keys, cursor, limit, meta)
    if (rows.length >= limit) return rows
  }
  const inNulls = cursor !== undefined && cursor[0] === null
  const nulls = await read(
    inNulls ? 'nulls after' : 'nulls',
    () => [sql`${first.column} IS NULL`, ...(inNulls ? [after(rest, direction)] : [])],
    rest,
    inNulls ? cursor.slice(1) : undefined,
    limit - rows.length,
    rows.length > 0 ? undefined : meta, // the first range's rows carry it already
  )
  return rows.concat(nulls)
}

export interface ListTools {
  codec: CursorCodec
  counts: Map<string, number>
  statements: StatementCache
}

const tools = new WeakMap<object, ListTools>()

/**
 * Per-application cursor codec, count cache and page statements (keyed by the app's config object, so tests stay
 * isolated; an application reads one database). The test configuration checks every reused statement.
 */
export function listTools(owner: { secretKey: string; nodeEnv?: string }): ListTools {
  let found = tools.get(owner)
  if (!found) {
    found = {
      codec: cursorCodec(owner.secretKey),
      counts: new Map(),
      statements: { statements: new Map(), check: owner.nodeEnv === 'test' },
    }
    tools.set(owner, found)
  }
  return found
}

export interface ListRequest<Row> extends ListSource<Row> {
  tools: ListTools
  db: Executor
  organizationId: string
  /** The filters and order as the client gave them (defaults applied): what a cursor is bound to. */
  binding: Record<string, unknown>
  params: ListParams
  valuesOf: (row: Row) => CursorValue[]
  /** The table listed: counted, and walked by its sort keys to find where an offset page starts. */
  table: PgTable
  /** How the total is known: from the counters (unfiltered), a generation-cached count, or a direct count. */
  count: { kind: 'counter'; list: string } | { kind: 'cached'; lists: string[] } | { kind: 'direct' }
}

export interface ListResult<Row> {
  items: Row[]
  total: number | null
  page: number | null
  page_size: number
  pages: number | null
  next_cursor: string | null
}

function invalid(field: string, message: string): AppError {
  return new AppError('VALIDATION_ERROR', message, { errors: [{ field, message }] })
}

export async function listPage<Row>(request: ListRequest<Row>): Promise<ListResult<Row>> {
  const { params, tools: listing } = request
  const pageSize = params.page_size ?? 20
  const binding = cursorBinding(request.list, request.binding)
  if (params.cursor !== undefined && params.page !== undefined) {
    throw invalid('querystring.page', 'Send either page or cursor, not both')
  }
  let position: CursorValue[] | undefined
  if (params.cursor !== undefined) {
    try {
      position = listing.codec.decode(params.cursor, binding, request.ordering.keys.length)
    } catch (error) {
      if (error instanceof InvalidCursor) throw invalid('querystring.cursor', error.message)
      throw error
    }
  }
  const page = params.cursor === undefined ? (params.page ?? 1) : null
  if (page !== null && page * pageSize > MAX_OFFSET_ROWS) {
    throw invalid(
      'querystring.page',
      `Offset paging reaches the first ${MAX_OFFSET_ROWS} rows; follow next_cursor to read further`,
    )
  }
  // The counter total or the write generation rides with the page (one statement); a direct count runs beside it.
  const meta = params.count === false ? undefined : metaOf(request)
  const rowsPromise =
    page === null || page === 1
      ? keysetRows(request, position, pageSize + 1, meta, listing.statements)
      : offsetRows(request, (page - 1) * pageSize, pageSize + 1, meta)
  const [rows, counted] = await Promise.all([
    rowsPromise,
    params.count === false || meta !== undefined ? Promise.resolve(null) : directCount(request),
  ])
  const total = meta === undefined ? counted : await totalWithPage(request, rows, page === 1)
  const more = rows.length > pageSize
  const items = more ? rows.slice(0, pageSize) : rows
  const last = items[items.length - 1]
  return {
    items,
    total,
    page,
    page_size: pageSize,
    pages: total === null ? null : Math.ceil(total / pageSize),
    next_cursor: more && last !== undefined ? listing.codec.encode(binding, request.valuesOf(last)) : null,
  }
}

/**
 * An offset page as a keyset page: the sort keys of the row before it are found by walking only the keys (an
 * index-only scan of the list's index, not `offset` whole rows fetched and dropped), then the page is read from
 * there like a cursor page. At the 10,000-row cap this is a few milliseconds instead of tens.
 */
async function offsetRows<Row>(
  request: ListRequest<Row>,
  offset: number,
  limit: number,
  meta: PageMeta | undefined,
): Promise<Row[]> {
  const { keys, direction } = request.ordering
  const columns = sql.join(
    keys.map((key, i) => sql`${key.column}::text AS ${sql.identifier(`k${i}`)}`),
    sql`, `,
  )
  const [before] = await queryRows<Record<string, string | null>>(
    request.db,
    sql`SELECT ${columns} FROM ${request.table} WHERE ${and(...request.base)}
        ORDER BY ${sql.join(orderClauses(keys, direction, keys[0]?.nullable ?? false), sql`, `)}
        OFFSET ${offset - 1} LIMIT 1`,
    request.values,
  )
  if (!before) return []
  const position = keys.map((_, i) => before[`k${i}`] ?? null)
  return keysetRows(request, position, limit, meta, request.tools.statements)
}

/**
 * The write generation of the lists (names joined by commas, the placeholder `meta_lists`) in the organization:
 * the sum of their write counts. One expression for the cache lookup and for the count stored under it, so both
 * read the same number.
 */
const GENERATION = sql`(SELECT coalesce(sum(writes), 0)::text FROM list_counts
    WHERE organization_id = ${ORGANIZATION}::uuid AND list = ANY(string_to_array(${sql.placeholder('meta_lists')}, ',')))`

/** The total of an unfiltered list (the placeholder `meta_list`) in the organization: its counters' shards. */
const COUNTER_TOTAL = sql`(SELECT coalesce(sum(total), 0)::text FROM list_counts
    WHERE organization_id = ${ORGANIZATION}::uuid AND list = ${sql.placeholder('meta_list')})`

/**
 * The total of an unfiltered list (its counters) or the write generation of a filtered one: selected with every
 * page as its `listMeta`, and read alone only when the page is empty.
 */
function metaOf<Row>(request: ListRequest<Row>): PageMeta | undefined {
  const { count } = request
  if (count.kind === 'counter') {
    return { key: 'total', column: COUNTER_TOTAL, values: { meta_list: count.list } }
  }
  if (count.kind === 'cached') {
    return { key: 'generation', column: GENERATION, values: { meta_lists: count.lists.join(',') } }
  }
  return undefined
}

/**
 * The total of a counted or cached list from the `listMeta` its page carried. An empty first page is an empty
 * list (total 0, from the same snapshot); an empty page further on reads the total or generation alone.
 */
async function totalWithPage<Row>(
  request: ListRequest<Row>,
  rows: Row[],
  firstPage: boolean,
): Promise<number> {
  const first = rows[0] as WithListMeta | undefined
  if (first === undefined && firstPage) return 0
  let value = first?.listMeta
  if (value === undefined || value === null) {
    const meta = metaOf(request)
    const [row] = meta
      ? await queryRows<{ v: string }>(request.db, sql`SELECT ${meta.column} AS v`, {
          ...request.values,
          ...meta.values,
        })
      : []
    value = row?.v
  }
  const { count } = request
  if (count.kind !== 'cached') return Number(value ?? 0)
  return cachedCount(request, count.lists, String(value))
}

async function directCount<Row>(request: ListRequest<Row>): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    request.db,
    sql`SELECT count(*)::int AS n FROM ${request.table} WHERE ${and(...request.base)}`,
    request.values,
  )
  return row?.n ?? 0
}

/** A filtered list's count, kept per filter set and write generation; counted (with its generation) on a miss. */
async function cachedCount<Row>(
  request: ListRequest<Row>,
  lists: string[],
  generation: string,
): Promise<number> {
  const { organizationId } = request
  const filters = cursorBinding(`${request.list}:count`, filtersOnly(request.binding))
  const cache = request.tools.counts
  const hit = cache.get(`${organizationId}|${filters}|${generation}`)
  if (hit !== undefined) return hit
  // The count and the generation it belongs to, from one snapshot.
  const [row] = await queryRows<{ n: number; g: string }>(
    request.db,
    sql`SELECT count(*)::int AS n, ${GENERATION} AS g
        FROM ${request.table} WHERE ${and(...request.base)}`,
    { ...request.values, meta_lists: lists.join(',') },
  )
  const n = row?.n ?? 0
  setBounded(cache, `${organizationId}|${filters}|${row?.g}`, n, COUNT_CACHE_ENTRIES)
  return n
}

function filtersOnly(binding: Record<string, unknown>): Record<string, unknown> {
  const { order_by: _orderBy, order: _order, ...filters } = binding
  return filters
}

/** What a feature's list module describes (features/<x>/list.ts); the request adds the rest. */
export type ListSpec<Row> = Omit<ListRequest<Row>, 'tools' | 'db' | 'organizationId' | 'params'>

/** One page of a list as the API answers it: the engine's page with each row mapped to its JSON. */
export async function servePage<Row, Out>(
  app: { db: { db: Executor }; config: { secretKey: string; nodeEnv: string } },
  organizationId: string,
  params: ListParams,
  spec: ListSpec<Row>,
  toJson: (row: Row) => Out,
): Promise<ListResult<Out>> {
  const result = await listPage({
    ...spec,
    tools: listTools(app.config),
    db: app.db.db,
    organizationId,
    params,
  })
  return { ...result, items: result.items.map(toJson) }
}
