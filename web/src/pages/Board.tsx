/**
 * The pipeline board: one column per stage with its count, amount and weighted amount; dragging a card to
 * another column changes its stage. The move shows at once (optimistic) and rolls back with the service's
 * reason when refused (a manager moving a deal back: STAGE_ROLLBACK_FORBIDDEN). Cards move by keyboard too:
 * Space picks a card up, arrows go to the next or previous column, Space drops, Escape cancels.
 */
import {
  type Announcements,
  DndContext,
  type DragEndEvent,
  type KeyboardCoordinateGetter,
  KeyboardSensor,
  PointerSensor,
  useDraggable,
  useDroppable,
  useSensor,
  useSensors,
} from '@dnd-kit/core'
import {
  type InfiniteData,
  useInfiniteQuery,
  useMutation,
  useQuery,
  useQueryClient,
} from '@tanstack/react-query'
import { useDeferredValue, useState } from 'react'
import { Link } from 'react-router'
import { crm, messageOf, org, unwrap } from '../api.ts'
import { type Deal, patchDeal, useInvalidateDeals } from '../deals-kit.ts'
import { useMemberNames, useMembers, useOrganization } from '../queries.ts'
import { useOrganizationId, useSession } from '../session.tsx'
import { ErrorMessage, formatDay, formatMoney, STAGES, type Stage, stageLabel, useNotify } from '../ui.tsx'

type DealList = Awaited<ReturnType<typeof fetchColumn>>
const PAGE_SIZE = 50

interface Filters {
  ownerId: string
  search: string
}

function fetchColumn(stage: Stage, filters: Filters, cursor: string | undefined) {
  return unwrap(
    crm.GET('/api/v1/deals', {
      params: {
        header: org(),
        query: {
          stage: [stage],
          status: ['new', 'in_progress'],
          expand: 'contact',
          order_by: 'updated_at',
          order: 'desc',
          page_size: PAGE_SIZE,
          // Without filters the column totals come from the summary; with them, from the list's own total.
          count: filters.ownerId !== '' || filters.search !== '',
          ...(filters.ownerId ? { owner_id: filters.ownerId } : {}),
          ...(filters.search ? { search: filters.search } : {}),
          ...(cursor ? { cursor } : {}),
        },
      },
    }),
  )
}

const columnKey = (organizationId: string, stage: Stage, filters: Filters) =>
  [organizationId, 'board', stage, filters] as const

export default function Board() {
  const organizationId = useOrganizationId()
  const { me } = useSession()
  const members = useMembers()
  const [ownerId, setOwnerId] = useState('')
  const [searchInput, setSearchInput] = useState('')
  const search = useDeferredValue(searchInput.trim())
  const filters: Filters = { ownerId, search }
  const organization = useOrganization()
  const currency = organization.data?.default_currency
  const summary = useQuery({
    queryKey: [organizationId, 'analytics', 'summary', currency],
    queryFn: () =>
      unwrap(crm.GET('/api/v1/analytics/deals/summary', { params: { header: org(), query: { currency } } })),
    enabled: currency !== undefined,
  })
  const moves = useStageMoves(organizationId, filters)
  const sensors = useSensors(
    useSensor(PointerSensor, { activationConstraint: { distance: 6 } }),
    useSensor(KeyboardSensor, { coordinateGetter: columnByColumn }),
  )
  const titles = new Map<string, string>()
  const announcements: Announcements = {
    onDragStart: ({ active }) => `Picked up ${titles.get(String(active.id)) ?? 'deal'}.`,
    onDragOver: ({ over }) => (over ? `Over ${stageLabel(String(over.id))}.` : 'Not over a stage.'),
    onDragEnd: ({ active, over }) =>
      over
        ? `${titles.get(String(active.id)) ?? 'Deal'} dropped on ${stageLabel(String(over.id))}.`
        : 'Dropped outside the board.',
    onDragCancel: ({ active }) => `Moving ${titles.get(String(active.id)) ?? 'deal'} was cancelled.`,
  }

  function onDragEnd(event: DragEndEvent) {
    const deal = event.active.data.current?.deal as Deal | undefined
    const to = event.over?.id as Stage | undefined
    if (!deal || !to || to === deal.stage) return
    moves.mutate({ deal, to })
  }

  return (
    <>
      <div className="spread">
        <h1>Pipeline</h1>
        <div className="row board-filters">
          <div className="field">
            <label htmlFor="board-owner">Owner</label>
            <select id="board-owner" value={ownerId} onChange={(event) => setOwnerId(event.target.value)}>
              <option value="">Everyone</option>
              {me ? <option value={me.id}>Me</option> : null}
              {members.data
                ?.filter((member) => member.user_id !== me?.id)
                .map((member) => (
                  <option key={member.user_id} value={member.user_id}>
                    {member.name}
                  </option>
                ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="board-search">Search deals</label>
            <input
              id="board-search"
              type="search"
              value={searchInput}
              onChange={(event) => setSearchInput(event.target.value)}
              placeholder="Title contains…"
            />
          </div>
          <Link className="button secondary" to="/deals?new=1">
            New deal
          </Link>
        </div>
      </div>
      <p className="visually-hidden" id="board-instructions">
        To move a deal with the keyboard, focus its card, press Space, use the arrow keys to choose a stage
        and press Space again. Escape cancels.
      </p>
      <DndContext
        sensors={sensors}
        onDragEnd={onDragEnd}
        accessibility={{ announcements, screenReaderInstructions: { draggable: '' } }}
      >
        {/* biome-ignore lint/a11y/noNoninteractiveTabindex: the board scrolls sideways on a phone; keyboard users must reach it */}
        <section className="board" aria-label="Pipeline board" tabIndex={0}>
          {STAGES.map((stage) => (
            <Column
              key={stage}
              stage={stage}
              filters={filters}
              totals={summary.data?.pipeline.by_stage.find((column) => column.stage === stage)}
              currency={currency ?? 'USD'}
              titles={titles}
            />
          ))}
        </section>
      </DndContext>
    </>
  )
}

interface ColumnTotals {
  count: number
  currency_count: number
  amount: string
  weighted_amount: string
}

function Column(props: {
  stage: Stage
  filters: Filters
  totals: ColumnTotals | undefined
  currency: string
  titles: Map<string, string>
}) {
  const { stage, filters, currency, titles } = props
  const organizationId = useOrganizationId()
  const ownerName = useMemberNames()
  const { can } = useSession()
  const { setNodeRef, isOver } = useDroppable({ id: stage })
  const list = useInfiniteQuery({
    queryKey: columnKey(organizationId, stage, filters),
    queryFn: ({ pageParam }) => fetchColumn(stage, filters, pageParam),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  })
  const deals = list.data?.pages.flatMap((page) => page.items) ?? []
  for (const deal of deals) titles.set(deal.id, deal.title)
  const filtered = filters.ownerId !== '' || filters.search !== ''
  const totals = filtered
    ? loadedTotals(deals, list.data?.pages[0]?.total ?? deals.length, currency)
    : props.totals
  const headingId = `column-${stage}`
  return (
    <section
      ref={setNodeRef}
      className={`column${isOver ? ' over' : ''}`}
      aria-labelledby={headingId}
      data-stage={stage}
    >
      <h2 id={headingId}>{stageLabel(stage)}</h2>
      <p className="column-totals" data-testid={`totals-${stage}`}>
        {totals ? (
          <>
            <span>{totals.count} deals</span> · <span>{formatMoney(totals.amount, currency)}</span> ·{' '}
            <span>weighted {formatMoney(totals.weighted_amount, currency)}</span>
            {totals.currency_count < totals.count ? (
              <span> ({totals.count - totals.currency_count} in other currencies)</span>
            ) : null}
          </>
        ) : (
          '…'
        )}
      </p>
      <ErrorMessage error={list.error} />
      <ul className="cards" aria-labelledby={headingId}>
        {deals.map((deal) => (
          <DealCard
            key={deal.id}
            deal={deal}
            ownerName={ownerName(deal.owner_id)}
            movable={can('deal.update', deal.owner_id)}
          />
        ))}
      </ul>
      {list.hasNextPage ? (
        <button
          type="button"
          className="secondary small load-more"
          onClick={() => void list.fetchNextPage()}
          disabled={list.isFetchingNextPage}
        >
          {list.isFetchingNextPage ? 'Loading…' : `More in ${stageLabel(stage)}`}
        </button>
      ) : null}
    </section>
  )
}

/** With a filter on, the column's own list total; amounts over the cards loaded so far. */
function loadedTotals(deals: Deal[], total: number, currency: string): ColumnTotals {
  const inCurrency = deals.filter((deal) => deal.currency === currency)
  const cents = (values: string[]) => values.reduce((sum, value) => sum + Math.round(Number(value) * 100), 0)
  return {
    count: total,
    currency_count: total - (deals.length - inCurrency.length),
    amount: (cents(inCurrency.map((d) => d.amount)) / 100).toFixed(2),
    weighted_amount: (cents(inCurrency.map((d) => d.weighted_amount)) / 100).toFixed(2),
  }
}

function DealCard({ deal, ownerName, movable }: { deal: Deal; ownerName: string; movable: boolean }) {
  const { attributes, listeners, setNodeRef, setActivatorNodeRef, transform, isDragging } = useDraggable({
    id: deal.id,
    data: { deal },
    disabled: !movable,
  })
  const style = transform ? { transform: `translate3d(${transform.x}px, ${transform.y}px, 0)` } : undefined
  // The whole card drags with a pointer; by keyboard the "Move" handle does (a link inside a button would be
  // a nested control, so the card itself is no button).
  return (
    <li
      ref={setNodeRef}
      style={style}
      className={`deal-card${isDragging ? ' dragging' : ''}${movable ? ' movable' : ''}`}
      data-deal-id={deal.id}
      {...(movable ? listeners : {})}
    >
      <div className="spread">
        <Link className="title" to={`/deals/${deal.id}`}>
          {deal.title}
        </Link>
        {movable ? (
          <button
            type="button"
            ref={setActivatorNodeRef}
            className="secondary small drag-handle"
            {...attributes}
            aria-describedby="board-instructions"
          >
            Move<span className="visually-hidden"> {deal.title}</span>
          </button>
        ) : null}
      </div>
      <div className="meta">
        <span>{formatMoney(deal.amount, deal.currency)}</span>
        <span>{deal.contact?.name ?? ''}</span>
        <span>Owner: {ownerName}</span>
        {deal.expected_close_date ? <span>Closes {formatDay(deal.expected_close_date)}</span> : null}
      </div>
    </li>
  )
}

/** The stage move with its optimistic card move and rollback. */
function useStageMoves(organizationId: string, filters: Filters) {
  const queryClient = useQueryClient()
  const notify = useNotify()
  const invalidate = useInvalidateDeals()
  return useMutation({
    mutationFn: ({ deal, to }: { deal: Deal; to: Stage }) => patchDeal(deal.id, { stage: to }),
    onMutate: async ({ deal, to }) => {
      const from = columnKey(organizationId, deal.stage, filters)
      const into = columnKey(organizationId, to, filters)
      await queryClient.cancelQueries({ queryKey: [organizationId, 'board'] })
      const before = [queryClient.getQueryData(from), queryClient.getQueryData(into)] as const
      queryClient.setQueryData<InfiniteData<DealList>>(from, (data) =>
        data
          ? {
              ...data,
              pages: data.pages.map((page) => ({
                ...page,
                items: page.items.filter((d) => d.id !== deal.id),
              })),
            }
          : data,
      )
      queryClient.setQueryData<InfiniteData<DealList>>(into, (data) =>
        data
          ? {
              ...data,
              pages: data.pages.map((page, index) =>
                index === 0 ? { ...page, items: [{ ...deal, stage: to }, ...page.items] } : page,
              ),
            }
          : data,
      )
      return { from, into, before }
    },
    onError: (error, { deal }, context) => {
      if (context) {
        queryClient.setQueryData(context.from, context.before[0])
        queryClient.setQueryData(context.into, context.before[1])
      }
      notify('error', `“${deal.title}” stays in ${stageLabel(deal.stage)}: ${messageOf(error)}`)
    },
    onSuccess: (updated) => notify('info', `“${updated.title}” moved to ${stageLabel(updated.stage)}.`),
    onSettled: (_data, _error, { deal }) => invalidate(deal.id),
  })
}

/** Arrow keys jump from column to column (the default moves 25 px per press). */
const columnByColumn: KeyboardCoordinateGetter = (event, { currentCoordinates }) => {
  const columns = [...document.querySelectorAll<HTMLElement>('.board [data-stage]')].map((element) =>
    element.getBoundingClientRect(),
  )
  const index = columns.findIndex(
    (rect) => currentCoordinates.x >= rect.left && currentCoordinates.x <= rect.right,
  )
  const step = event.code === 'ArrowRight' ? 1 : event.code === 'ArrowLeft' ? -1 : 0
  if (step === 0) return undefined
  const target = columns[Math.min(Math.max((index === -1 ? 0 : index) + step, 0), columns.length - 1)]
  if (!target) return undefined
  event.preventDefault()
  return { x: target.left + 12, y: Math.min(currentCoordinates.y, target.top + 60) }
}
