/**
 * /tasks, "My tasks": the open tasks on the deals the caller owns (GET /tasks?deal_owner_id=me&only_open=true),
 * in the API's order (due date ascending, undated last), so overdue tasks come first. Completing one is
 * optimistic: it leaves the list at once and comes back if the service refuses.
 */
import type { Schemas } from '@mini-crm/client'
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { crm, messageOf, org, unwrap } from '../api.ts'
import { useOrganizationId, useSession } from '../session.tsx'
import { ErrorMessage, formatDay, Loading, todayUtc, useNotify } from '../ui.tsx'
import { DealLink, Pager, useCursorPager } from './records-kit.tsx'

type Task = Schemas['Task']

export default function Tasks() {
  const { me, can } = useSession()
  const organizationId = useOrganizationId()
  const queryClient = useQueryClient()
  const notify = useNotify()
  const myId = me?.id ?? ''
  const pager = useCursorPager(myId)
  const params = {
    deal_owner_id: myId,
    only_open: true,
    page_size: 20,
    ...(pager.cursor ? { cursor: pager.cursor } : {}),
  }
  const queryKey = [organizationId, 'tasks', params]
  const { data, error, isPending } = useQuery({
    queryKey,
    queryFn: () => unwrap(crm.GET('/api/v1/tasks', { params: { header: org(), query: params } })),
    enabled: Boolean(myId),
    placeholderData: keepPreviousData,
  })
  type TaskPage = NonNullable<typeof data>

  const complete = useMutation({
    mutationFn: (task: Task) =>
      unwrap(
        crm.PATCH('/api/v1/tasks/{id}', {
          params: { header: org(), path: { id: task.id } },
          body: { is_done: true },
        }),
      ),
    onMutate: async (task) => {
      await queryClient.cancelQueries({ queryKey })
      const previous = queryClient.getQueryData<TaskPage>(queryKey)
      queryClient.setQueryData<TaskPage>(queryKey, (page) =>
        page
          ? {
              ...page,
              items: page.items.filter((item) => item.id !== task.id),
              total: page.total === null ? null : page.total - 1,
            }
          : page,
      )
      return { previous }
    },
    onError: (failure, task, context) => {
      if (context?.previous) queryClient.setQueryData(queryKey, context.previous)
      notify('error', `“${task.title}” was not completed: ${messageOf(failure)}`)
    },
    onSuccess: (_task, task) => notify('info', `Completed “${task.title}”`),
    onSettled: async () => {
      // The deal's feed (task_completed) and its task list are stale too.
      await queryClient.invalidateQueries({ queryKey: [organizationId, 'deals'], refetchType: 'none' })
      await queryClient.invalidateQueries({ queryKey: [organizationId, 'tasks'] })
    },
  })

  const today = todayUtc()
  return (
    <div className="stack">
      <h1>My tasks</h1>
      <p className="muted">Open tasks on the deals you own, overdue first.</p>
      {isPending ? (
        <Loading label="Loading tasks…" />
      ) : error ? (
        <ErrorMessage error={error} />
      ) : (
        <>
          <p className="muted" role="status">
            {data.total === null ? '' : `${data.total} open ${data.total === 1 ? 'task' : 'tasks'}`}
          </p>
          {data.items.length === 0 ? (
            <p>Nothing to do: no open tasks on your deals.</p>
          ) : (
            <ul className="task-list card">
              {data.items.map((task) => {
                const overdue = task.due_date !== null && task.due_date < today
                return (
                  <li key={task.id}>
                    <div className="task-main">
                      <span className="task-title">{task.title}</span>
                      <span className="task-meta">
                        {overdue ? <span className="badge overdue">Overdue</span> : null}
                        <span>
                          {task.due_date === null
                            ? 'No due date'
                            : task.due_date === today
                              ? 'Due today'
                              : `Due ${formatDay(task.due_date)}`}
                        </span>
                        <span>
                          Deal: <DealLink id={task.deal_id} />
                        </span>
                      </span>
                    </div>
                    {can('task.update', myId) ? (
                      <button
                        type="button"
                        className="small"
                        onClick={(event) => {
                          // The row leaves the list: keep keyboard focus on the next (or previous) task.
                          const row = event.currentTarget.closest('li')
                          const neighbour = row?.nextElementSibling ?? row?.previousElementSibling
                          neighbour?.querySelector('button')?.focus()
                          complete.mutate(task)
                        }}
                      >
                        Complete<span className="visually-hidden"> “{task.title}”</span>
                      </button>
                    ) : null}
                  </li>
                )
              })}
            </ul>
          )}
          <Pager pager={pager} nextCursor={data.next_cursor} pages={data.pages} label="Task pages" />
        </>
      )}
    </div>
  )
}
