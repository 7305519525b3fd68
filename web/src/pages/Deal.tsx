/** One deal: its fields (editable by whoever may edit), won / lost, the activity feed, tasks and stage history. */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { type FormEvent, useState } from 'react'
import { Link, useNavigate, useParams } from 'react-router'
import { crm, org, unwrap } from '../api.ts'
import { type Deal as DealRecord, useDealUpdate, useInvalidateDeals } from '../deals-kit.ts'
import { useMemberNames, useMembers } from '../queries.ts'
import { useOrganizationId, useSession } from '../session.tsx'
import {
  ConfirmButton,
  Dialog,
  ErrorMessage,
  formatDay,
  formatMoney,
  formatTime,
  Loading,
  SelectField,
  STAGES,
  STATUSES,
  stageLabel,
  statusLabel,
  TableWrap,
  TextArea,
  TextField,
  todayUtc,
  useNotify,
} from '../ui.tsx'

export default function Deal() {
  const { id = '' } = useParams()
  const organizationId = useOrganizationId()
  const deal = useQuery({
    queryKey: [organizationId, 'deal', id],
    queryFn: () =>
      unwrap(
        crm.GET('/api/v1/deals/{id}', {
          params: { path: { id }, header: org(), query: { expand: 'contact' } },
        }),
      ),
  })
  if (deal.isPending) return <Loading />
  if (deal.error || !deal.data) return <ErrorMessage error={deal.error} />
  return <DealPage deal={deal.data} />
}

function DealPage({ deal }: { deal: DealRecord }) {
  const { can } = useSession()
  const ownerName = useMemberNames()
  const editable = can('deal.update', deal.owner_id)
  const update = useDealUpdate(deal.id)
  const notify = useNotify()
  const [askingLostReason, setAskingLostReason] = useState(false)
  const closed = deal.status === 'won' || deal.status === 'lost'
  return (
    <>
      <p>
        <Link to="/">← Board</Link> · <Link to="/deals">All deals</Link>
      </p>
      <div className="spread">
        <h1>{deal.title}</h1>
        <div className="row">
          <span className={`badge ${deal.status}`}>{statusLabel(deal.status)}</span>
          <span className="badge">{stageLabel(deal.stage)}</span>
          {editable && !closed ? (
            <>
              <button
                type="button"
                className="success"
                disabled={update.isPending}
                onClick={() =>
                  update.mutate(
                    { status: 'won', stage: 'closed' },
                    { onSuccess: () => notify('info', 'Marked as won.') },
                  )
                }
              >
                Mark won
              </button>
              <button type="button" className="danger" onClick={() => setAskingLostReason(true)}>
                Mark lost
              </button>
            </>
          ) : null}
          {editable && closed ? (
            <button
              type="button"
              className="secondary"
              onClick={() => update.mutate({ status: 'in_progress', lost_reason: null })}
            >
              Reopen
            </button>
          ) : null}
        </div>
      </div>
      <ErrorMessage error={update.error} />
      <p className="muted">
        {formatMoney(deal.amount, deal.currency)} · weighted{' '}
        {formatMoney(deal.weighted_amount, deal.currency)} ({deal.probability} %) · owner{' '}
        {ownerName(deal.owner_id)}
        {deal.contact ? (
          <>
            {' '}
            · contact <Link to={`/contacts/${deal.contact.id}`}>{deal.contact.name}</Link>
          </>
        ) : null}
        {deal.lost_reason ? <> · lost: {deal.lost_reason}</> : null}
      </p>
      <div className="grid-2">
        <section className="card" aria-labelledby="deal-fields">
          <h2 id="deal-fields">Details</h2>
          <DealFields deal={deal} editable={editable} />
        </section>
        <section className="card" aria-labelledby="deal-tasks">
          <h2 id="deal-tasks">Tasks</h2>
          <DealTasks deal={deal} />
        </section>
        <section className="card" aria-labelledby="deal-feed">
          <h2 id="deal-feed">Activity</h2>
          <ActivityFeed dealId={deal.id} />
        </section>
        <section className="card" aria-labelledby="deal-history">
          <h2 id="deal-history">Stage history</h2>
          <StageHistory dealId={deal.id} />
        </section>
      </div>
      <Dialog
        title="Why was this deal lost?"
        open={askingLostReason}
        onClose={() => setAskingLostReason(false)}
      >
        <form
          className="stack"
          onSubmit={(event) => {
            event.preventDefault()
            const reason = String(new FormData(event.currentTarget).get('lost_reason')).trim()
            update.mutate(
              { status: 'lost', stage: 'closed', lost_reason: reason },
              {
                onSuccess: () => {
                  setAskingLostReason(false)
                  notify('info', 'Marked as lost.')
                },
              },
            )
          }}
        >
          <ErrorMessage error={update.error} />
          <TextField label="Lost reason" name="lost_reason" required maxLength={500} error={update.error} />
          <div className="row">
            <button type="submit" className="danger" disabled={update.isPending}>
              Mark lost
            </button>
            <button type="button" className="secondary" onClick={() => setAskingLostReason(false)}>
              Cancel
            </button>
          </div>
        </form>
      </Dialog>
      {can('deal.delete', deal.owner_id) ? <DeleteDeal deal={deal} /> : null}
    </>
  )
}

function DealFields({ deal, editable }: { deal: DealRecord; editable: boolean }) {
  const update = useDealUpdate(deal.id)
  const members = useMembers()
  const { can } = useSession()
  const notify = useNotify()
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    const form = new FormData(event.currentTarget)
    const text = (name: string) => String(form.get(name) ?? '')
    update.mutate(
      {
        title: text('title'),
        amount: text('amount'),
        currency: text('currency'),
        stage: text('stage') as DealRecord['stage'],
        status: text('status') as DealRecord['status'],
        owner_id: text('owner_id'),
        expected_close_date: text('expected_close_date') || null,
        ...(text('status') === 'lost' ? { lost_reason: text('lost_reason') || null } : {}),
      },
      { onSuccess: () => notify('info', 'Deal saved.') },
    )
  }
  const owners = (members.data ?? []).filter(
    (m) => m.user_id === deal.owner_id || can('record.assign_owner', m.user_id),
  )
  return (
    <form className="form-grid" onSubmit={submit} key={deal.updated_at}>
      <fieldset disabled={!editable} className="contents">
        <TextField
          label="Title"
          name="title"
          defaultValue={deal.title}
          required
          maxLength={255}
          error={update.error}
        />
        <TextField
          label="Amount"
          name="amount"
          defaultValue={deal.amount}
          inputMode="decimal"
          error={update.error}
        />
        <TextField
          label="Currency"
          name="currency"
          defaultValue={deal.currency}
          maxLength={3}
          error={update.error}
        />
        <SelectField
          label="Stage"
          name="stage"
          defaultValue={deal.stage}
          error={update.error}
          options={STAGES.map((s) => ({ value: s, label: stageLabel(s) }))}
        />
        <SelectField
          label="Status"
          name="status"
          defaultValue={deal.status}
          error={update.error}
          options={STATUSES.map((s) => ({ value: s, label: statusLabel(s) }))}
        />
        <SelectField
          label="Owner"
          name="owner_id"
          defaultValue={deal.owner_id}
          error={update.error}
          options={owners.map((m) => ({ value: m.user_id, label: m.name }))}
        />
        <TextField
          label="Expected close date"
          name="expected_close_date"
          type="date"
          defaultValue={deal.expected_close_date ?? ''}
          error={update.error}
        />
        {deal.status === 'lost' ? (
          <TextField
            label="Lost reason"
            name="lost_reason"
            defaultValue={deal.lost_reason ?? ''}
            maxLength={500}
            error={update.error}
          />
        ) : null}
        {editable ? (
          <div className="field">
            <button type="submit" disabled={update.isPending}>
              Save deal
            </button>
          </div>
        ) : null}
      </fieldset>
      {!editable ? <p className="muted">Only the deal’s owner or a manager can edit it.</p> : null}
    </form>
  )
}

function DeleteDeal({ deal }: { deal: DealRecord }) {
  const navigate = useNavigate()
  const invalidate = useInvalidateDeals()
  return (
    <div>
      <ConfirmButton
        label="Delete deal"
        title="Delete this deal?"
        question={`“${deal.title}”, its tasks and its activity are deleted. This cannot be undone.`}
        confirm="Delete"
        className="secondary small"
        action={async () => {
          await unwrap(crm.DELETE('/api/v1/deals/{id}', { params: { path: { id: deal.id }, header: org() } }))
          await invalidate()
          navigate('/deals')
        }}
      />
    </div>
  )
}

function DealTasks({ deal }: { deal: DealRecord }) {
  const organizationId = useOrganizationId()
  const queryClient = useQueryClient()
  const { can } = useSession()
  const key = [organizationId, 'tasks', 'deal', deal.id]
  const tasks = useQuery({
    queryKey: key,
    queryFn: () =>
      unwrap(
        crm.GET('/api/v1/tasks', { params: { header: org(), query: { deal_id: deal.id, page_size: 100 } } }),
      ),
  })
  const refresh = () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: [organizationId, 'tasks'] }),
      queryClient.invalidateQueries({ queryKey: [organizationId, 'activities', deal.id] }),
    ])
  const create = useMutation({
    mutationFn: (body: { title: string; due_date: string | null }) =>
      unwrap(crm.POST('/api/v1/tasks', { params: { header: org() }, body: { deal_id: deal.id, ...body } })),
    onSuccess: refresh,
  })
  const complete = useMutation({
    mutationFn: (id: string) =>
      unwrap(
        crm.PATCH('/api/v1/tasks/{id}', { params: { path: { id }, header: org() }, body: { is_done: true } }),
      ),
    onSuccess: refresh,
  })
  const mayWrite = can('task.create', deal.owner_id)
  return (
    <>
      <ErrorMessage error={tasks.error ?? complete.error} />
      <ul className="feed">
        {tasks.data?.items.map((task) => (
          <li key={task.id} className="spread">
            <span>
              {task.is_done ? <s>{task.title}</s> : task.title}
              <span className="muted"> · due {formatDay(task.due_date)}</span>
              {task.is_done ? <span className="muted"> · done</span> : null}
            </span>
            {!task.is_done && can('task.update', deal.owner_id) ? (
              <button
                type="button"
                className="secondary small"
                onClick={() => complete.mutate(task.id)}
                disabled={complete.isPending}
                aria-label={`Complete ${task.title}`}
              >
                Complete
              </button>
            ) : null}
          </li>
        ))}
        {tasks.data?.items.length === 0 ? <li className="muted">No tasks yet.</li> : null}
      </ul>
      {mayWrite ? (
        <form
          className="stack"
          onSubmit={(event) => {
            event.preventDefault()
            const element = event.currentTarget
            const form = new FormData(element)
            create.mutate(
              { title: String(form.get('title')), due_date: String(form.get('due_date') || '') || null },
              { onSuccess: () => element.reset() },
            )
          }}
        >
          <h3>Add a task</h3>
          <ErrorMessage error={create.error} />
          <TextField label="Task" name="title" required maxLength={255} error={create.error} />
          <TextField label="Due date" name="due_date" type="date" min={todayUtc()} error={create.error} />
          <div>
            <button type="submit" disabled={create.isPending}>
              Add task
            </button>
          </div>
        </form>
      ) : null}
    </>
  )
}

function describeActivity(type: string, payload: Record<string, unknown>): string {
  const text = (name: string) => String(payload[name] ?? '')
  switch (type) {
    case 'comment':
      return text('text')
    case 'status_changed':
      return `Status: ${statusLabel(text('old_status'))} → ${statusLabel(text('new_status'))}`
    case 'stage_changed':
      return `Stage: ${stageLabel(text('old_stage'))} → ${stageLabel(text('new_stage'))}`
    case 'task_created':
      return `Task added: ${text('task_title')}`
    case 'task_completed':
      return `Task completed: ${text('task_title')}`
    default:
      return type
  }
}

function ActivityFeed({ dealId }: { dealId: string }) {
  const organizationId = useOrganizationId()
  const queryClient = useQueryClient()
  const key = [organizationId, 'activities', dealId]
  const feed = useQuery({
    queryKey: key,
    queryFn: () =>
      unwrap(
        crm.GET('/api/v1/deals/{deal_id}/activities', {
          params: { path: { deal_id: dealId }, header: org(), query: { page_size: 50 } },
        }),
      ),
  })
  const comment = useMutation({
    mutationFn: (text: string) =>
      unwrap(
        crm.POST('/api/v1/deals/{deal_id}/activities', {
          params: { path: { deal_id: dealId }, header: org() },
          body: { type: 'comment', payload: { text } },
        }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: key }),
  })
  return (
    <>
      <form
        className="stack"
        onSubmit={(event) => {
          event.preventDefault()
          const element = event.currentTarget
          const text = String(new FormData(element).get('text')).trim()
          if (text) comment.mutate(text, { onSuccess: () => element.reset() })
        }}
      >
        <ErrorMessage error={comment.error} />
        <TextArea label="Comment" name="text" required maxLength={10000} error={comment.error} />
        <div>
          <button type="submit" disabled={comment.isPending}>
            Add comment
          </button>
        </div>
      </form>
      <ErrorMessage error={feed.error} />
      <ul className="feed" aria-label="Activity feed">
        {feed.data?.items.map((activity) => (
          <li key={activity.id}>
            <div className={activity.type === 'comment' ? 'comment' : undefined}>
              {describeActivity(activity.type, activity.payload as Record<string, unknown>)}
            </div>
            <div className="muted">
              {activity.author?.name ?? 'Someone'} · {formatTime(activity.created_at)}
            </div>
          </li>
        ))}
      </ul>
    </>
  )
}

function StageHistory({ dealId }: { dealId: string }) {
  const organizationId = useOrganizationId()
  const ownerName = useMemberNames()
  const history = useQuery({
    queryKey: [organizationId, 'deal', dealId, 'history'],
    queryFn: () =>
      unwrap(
        crm.GET('/api/v1/deals/{deal_id}/stage-history', {
          params: { path: { deal_id: dealId }, header: org() },
        }),
      ),
  })
  const days = (seconds: number | null) => (seconds === null ? 'now' : `${(seconds / 86400).toFixed(1)} days`)
  return (
    <>
      <ErrorMessage error={history.error} />
      <TableWrap label="Stage history table">
        <table>
          <thead>
            <tr>
              <th>Stage</th>
              <th>Entered</th>
              <th>Time in stage</th>
              <th>By</th>
            </tr>
          </thead>
          <tbody>
            {history.data?.items.map((entry) => (
              <tr key={`${entry.stage}-${entry.entered_at}`}>
                <td>{stageLabel(entry.stage)}</td>
                <td>{formatTime(entry.entered_at)}</td>
                <td>{days(entry.duration_seconds)}</td>
                <td>{ownerName(entry.changed_by)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableWrap>
    </>
  )
}
