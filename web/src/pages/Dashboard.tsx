/** Sales analytics: summary, funnel, forecast and velocity as charts, in a chosen currency. */
import { useQuery } from '@tanstack/react-query'
import { useState } from 'react'
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts'
import { crm, org, unwrap } from '../api.ts'
import { useOrganization } from '../queries.ts'
import { useOrganizationId } from '../session.tsx'
import { ErrorMessage, formatMoney, Loading, STAGES, stageLabel } from '../ui.tsx'

const COLORS = { primary: '#2456c7', secondary: '#7aa0ea', won: '#1d6b38', lost: '#b3261e' }

export default function Dashboard() {
  const organizationId = useOrganizationId()
  const organization = useOrganization()
  const [chosen, setChosen] = useState<string>()
  const currency = chosen ?? organization.data?.default_currency
  const query = { header: org(), query: { currency } }
  const key = (name: string) => [organizationId, 'analytics', name, currency]
  const enabled = currency !== undefined
  const summary = useQuery({
    queryKey: key('summary'),
    queryFn: () => unwrap(crm.GET('/api/v1/analytics/deals/summary', { params: query })),
    enabled,
  })
  const funnel = useQuery({
    queryKey: key('funnel'),
    queryFn: () => unwrap(crm.GET('/api/v1/analytics/deals/funnel', { params: { header: org() } })),
    enabled,
  })
  const forecast = useQuery({
    queryKey: key('forecast'),
    queryFn: () => unwrap(crm.GET('/api/v1/analytics/deals/forecast', { params: query })),
    enabled,
  })
  const velocity = useQuery({
    queryKey: key('velocity'),
    queryFn: () => unwrap(crm.GET('/api/v1/analytics/deals/velocity', { params: { header: org() } })),
    enabled,
  })
  if (!currency || summary.isPending) return <Loading />
  const s = summary.data
  const money = (amount: string | number) => formatMoney(amount, currency)
  const currencies = s?.currencies.map((c) => c.currency) ?? []
  if (!currencies.includes(currency)) currencies.unshift(currency)
  return (
    <>
      <div className="spread">
        <h1>Dashboard</h1>
        <div className="field">
          <label htmlFor="dashboard-currency">Currency</label>
          <select
            id="dashboard-currency"
            value={currency}
            onChange={(event) => setChosen(event.target.value)}
          >
            {currencies.map((code) => (
              <option key={code} value={code}>
                {code}
              </option>
            ))}
          </select>
        </div>
      </div>
      <ErrorMessage error={summary.error ?? funnel.error ?? forecast.error ?? velocity.error} />
      {s ? (
        <section aria-labelledby="summary-heading">
          <h2 id="summary-heading">Summary</h2>
          <div className="kpis">
            <Kpi
              label="Open pipeline"
              value={money(s.pipeline.open_amount)}
              note={`${s.pipeline.open_count} open deals`}
            />
            <Kpi label="Weighted pipeline" value={money(s.pipeline.weighted_amount)} />
            <Kpi
              label="Won"
              value={money(s.by_status.won.total_amount)}
              note={`${s.by_status.won.count} deals`}
            />
            <Kpi
              label="Lost"
              value={money(s.by_status.lost.total_amount)}
              note={`${s.by_status.lost.count} deals`}
            />
            <Kpi label="Win rate" value={s.win_rate === null ? '—' : `${(s.win_rate * 100).toFixed(1)} %`} />
            <Kpi label="Average won deal" value={money(s.average_won_amount)} />
            <Kpi
              label={`New deals, last ${s.new_deals_last_n_days.days} days`}
              value={String(s.new_deals_last_n_days.count)}
            />
          </div>
        </section>
      ) : null}
      <div className="grid-2 dashboard-grid">
        <section className="card" aria-labelledby="funnel-heading">
          <h2 id="funnel-heading">Funnel</h2>
          {funnel.data ? (
            <ChartWithTable
              caption="Deals per stage and status"
              rows={STAGES.map((stage) => ({ name: stageLabel(stage), ...funnel.data.stages[stage] }))}
              series={[
                { key: 'new', label: 'New', color: COLORS.secondary },
                { key: 'in_progress', label: 'In progress', color: COLORS.primary },
                { key: 'won', label: 'Won', color: COLORS.won },
                { key: 'lost', label: 'Lost', color: COLORS.lost },
              ]}
              stacked
            />
          ) : (
            <Loading />
          )}
          {funnel.data ? (
            <ul className="muted">
              {funnel.data.conversions.map((c) => (
                <li key={c.to_stage}>
                  {stageLabel(c.from_stage)} → {stageLabel(c.to_stage)}: {c.conversion_rate} %
                </li>
              ))}
            </ul>
          ) : null}
        </section>
        <section className="card" aria-labelledby="forecast-heading">
          <h2 id="forecast-heading">Forecast ({currency})</h2>
          {forecast.data ? (
            <>
              <ChartWithTable
                caption={`Weighted open and won amounts per month, ${currency}`}
                rows={forecast.data.months.map((m) => ({
                  name: m.month,
                  weighted: Number(m.weighted_amount),
                  won: Number(m.won_amount),
                }))}
                series={[
                  { key: 'weighted', label: 'Weighted open', color: COLORS.primary },
                  { key: 'won', label: 'Won', color: COLORS.won },
                ]}
                format={money}
              />
              <p className="muted">
                Overdue: {forecast.data.overdue.count} deals, {money(forecast.data.overdue.weighted_amount)}{' '}
                weighted · unscheduled: {forecast.data.unscheduled.count} deals
              </p>
            </>
          ) : (
            <Loading />
          )}
        </section>
        <section className="card" aria-labelledby="velocity-heading">
          <h2 id="velocity-heading">Velocity</h2>
          {velocity.data ? (
            <>
              <ChartWithTable
                caption={`Average and median days in each stage, last ${velocity.data.days} days`}
                rows={velocity.data.stages.map((v) => ({
                  name: stageLabel(v.stage),
                  average: v.avg_days ?? 0,
                  median: v.median_days ?? 0,
                }))}
                series={[
                  { key: 'average', label: 'Average days', color: COLORS.primary },
                  { key: 'median', label: 'Median days', color: COLORS.secondary },
                ]}
              />
              <p className="muted">
                Won in the period: {velocity.data.won.count}; average{' '}
                {velocity.data.won.avg_days_to_close?.toFixed(1) ?? '—'} days to close.
              </p>
            </>
          ) : (
            <Loading />
          )}
        </section>
      </div>
    </>
  )
}

function Kpi({ label, value, note }: { label: string; value: string; note?: string }) {
  return (
    <div className="card kpi">
      <div className="muted">{label}</div>
      <div className="value">{value}</div>
      {note ? <div className="muted">{note}</div> : null}
    </div>
  )
}

type Row = { name: string } & Record<string, number | string>

/** A bar chart for the eye and the same numbers as a table for screen readers (charts are images to them). */
function ChartWithTable(props: {
  caption: string
  rows: Row[]
  series: { key: string; label: string; color: string }[]
  stacked?: boolean
  format?: (value: number) => string
}) {
  const { caption, rows, series, stacked, format = (value: number) => String(value) } = props
  return (
    <figure className="chart-figure">
      <div className="chart" aria-hidden="true">
        <ResponsiveContainer width="100%" height="100%">
          <BarChart data={rows} margin={{ left: 8, right: 8 }} accessibilityLayer={false}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="name" interval={0} tick={{ fontSize: 12 }} />
            <YAxis />
            <Tooltip formatter={(value) => format(Number(value))} />
            <Legend />
            {series.map((s) => (
              <Bar
                key={s.key}
                dataKey={s.key}
                name={s.label}
                fill={s.color}
                isAnimationActive={false}
                {...(stacked ? { stackId: 'all' } : {})}
              />
            ))}
          </BarChart>
        </ResponsiveContainer>
      </div>
      <table className="visually-hidden">
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Row</th>
            {series.map((s) => (
              <th key={s.key} scope="col">
                {s.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.name}>
              <th scope="row">{row.name}</th>
              {series.map((s) => (
                <td key={s.key}>{format(Number(row[s.key] ?? 0))}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      <figcaption className="muted">{caption}</figcaption>
    </figure>
  )
}
