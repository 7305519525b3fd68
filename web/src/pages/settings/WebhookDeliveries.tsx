/** /settings/webhooks/:id: one webhook's delivery log, newest first, by status, in cursor pages; retry. */
import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query'
import { useState } from 'react'
import { Link, useParams } from 'react-router'
import { crm, org, unwrap } from '../../api.ts'
import { useOrganizationId } from '../../session.tsx'
import { ErrorMessage, formatTime, Loading, SelectField, TableWrap, useNotify } from '../../ui.tsx'

type Status = 'pending' | 'succeeded' | 'failed'
const PAGE_SIZE = 20

export default function WebhookDeliveries() {
  const { id = '' } = useParams()
  const organizationId = useOrganizationId()
  const queryClient = useQueryClient()
  const notify = useNotify()
  const [status, setStatus] = useState<Status | ''>('')
  /** The cursors of the pages before this one (the first page has none): Back pops one. */
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined])
  const cursor = cursors[cursors.length - 1]
  const [error, setError] = useState<unknown>()
  const [retrying, setRetrying] = useState<string>()

  const webhook = useQuery({
    queryKey: [organizationId, 'webhooks', id],
    queryFn: () => unwrap(crm.GET('/api/v1/webhooks/{id}', { params: { path: { id }, header: org() } })),
  })
  const deliveriesKey = [organizationId, 'webhook-deliveries', id]
  const deliveries = useQuery({
    queryKey: [...deliveriesKey, status, cursor ?? ''],
    queryFn: () =>
      unwrap(
        crm.GET('/api/v1/webhooks/{id}/deliveries', {
          params: {
            path: { id },
            header: org(),
            query: {
              page_size: PAGE_SIZE,
              ...(status ? { status } : {}),
              ...(cursor ? { cursor } : {}),
            },
          },
        }),
      ),
    placeholderData: keepPreviousData,
    // Pending deliveries change on their own: look again while there are some.
    refetchInterval: (query) =>
      query.state.data?.items.some((delivery) => delivery.status === 'pending') ? 5000 : false,
  })
  const page = deliveries.data

  async function retry(deliveryId: string) {
    setRetrying(deliveryId)
    setError(undefined)
    try {
      await unwrap(
        crm.POST('/api/v1/webhooks/{id}/deliveries/{delivery_id}/retry', {
          params: { path: { id, delivery_id: deliveryId }, header: org() },
        }),
      )
      notify('info', 'Retry queued')
      await queryClient.invalidateQueries({ queryKey: deliveriesKey })
    } catch (failure) {
      setError(failure)
    } finally {
      setRetrying(undefined)
    }
  }

  return (
    <section className="card stack" aria-labelledby="deliveries-heading">
      <p>
        <Link to="/settings/webhooks">← All webhooks</Link>
      </p>
      <h2 id="deliveries-heading">Deliveries</h2>
      <ErrorMessage error={webhook.error} />
      {webhook.data ? (
        <p className="webhook-url">
          To <strong>{webhook.data.url}</strong>
          {webhook.data.enabled ? null : <span className="badge off"> disabled</span>}
        </p>
      ) : null}
      <div className="row">
        <SelectField
          label="Status"
          name="status"
          value={status}
          onChange={(event) => {
            setStatus(event.target.value as Status | '')
            setCursors([undefined])
          }}
          options={[
            { value: '', label: 'All' },
            { value: 'pending', label: 'Pending' },
            { value: 'succeeded', label: 'Succeeded' },
            { value: 'failed', label: 'Failed' },
          ]}
        />
        <button
          type="button"
          className="secondary"
          onClick={() => void queryClient.invalidateQueries({ queryKey: deliveriesKey })}
        >
          Refresh
        </button>
      </div>
      <ErrorMessage error={deliveries.error} />
      <ErrorMessage error={error} />
      {deliveries.isPending ? <Loading /> : null}
      {page && page.items.length === 0 ? (
        <p className="muted">
          {status ? `No ${status} deliveries.` : 'No deliveries yet. Ping the webhook to send one.'}
        </p>
      ) : null}
      {page && page.items.length > 0 ? (
        <TableWrap label="Deliveries table">
          <table>
            <caption className="visually-hidden">Deliveries, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col" className="number">
                  Attempt
                </th>
                <th scope="col">Status</th>
                <th scope="col" className="number">
                  Response
                </th>
                <th scope="col">Error</th>
                <th scope="col" className="number">
                  Duration
                </th>
                <th scope="col">Time</th>
                <th scope="col">Next attempt</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {page.items.map((delivery) => (
                <tr key={delivery.id}>
                  <td>
                    <code>{delivery.event_type}</code>
                  </td>
                  <td className="number">{delivery.attempt}</td>
                  <td>
                    <span className={`badge ${delivery.status}`}>{delivery.status}</span>
                  </td>
                  <td className="number">{delivery.response_status ?? '—'}</td>
                  <td className="cell-wrap">{delivery.error ?? '—'}</td>
                  <td className="number">
                    {delivery.duration_ms === null ? '—' : `${delivery.duration_ms} ms`}
                  </td>
                  <td className="time">{formatTime(delivery.created_at)}</td>
                  <td className="time">{formatTime(delivery.next_attempt_at)}</td>
                  <td>
                    {delivery.status === 'failed' ? (
                      <button
                        type="button"
                        className="small"
                        aria-label={`Retry ${delivery.event_type} of ${formatTime(delivery.created_at)}`}
                        disabled={retrying === delivery.id}
                        onClick={() => void retry(delivery.id)}
                      >
                        {retrying === delivery.id ? 'Retrying…' : 'Retry'}
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      ) : null}
      {page ? (
        <nav className="pager" aria-label="Pages of deliveries">
          <button
            type="button"
            className="secondary"
            disabled={cursors.length <= 1}
            onClick={() => setCursors((current) => current.slice(0, -1))}
          >
            Newer
          </button>
          <span className="muted">
            Page {cursors.length}
            {page.pages ? ` of ${page.pages}` : ''}
            {page.total !== null ? ` · ${page.total} in all` : ''}
          </span>
          <button
            type="button"
            className="secondary"
            disabled={!page.next_cursor || deliveries.isPlaceholderData}
            onClick={() => {
              const next = page.next_cursor
              if (next) setCursors((current) => [...current, next])
            }}
          >
            Older
          </button>
        </nav>
      ) : null}
    </section>
  )
}
