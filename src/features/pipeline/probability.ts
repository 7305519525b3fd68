import { type SQL, type SQLWrapper, sql } from 'drizzle-orm'
import { DEAL_STAGES, type DealStage } from '../../db/schema.js'

/** A stage's probability when the organization set none (spec §12; also in migration 0007's stage_probability). */
export const DEFAULT_STAGE_PROBABILITY: Record<DealStage, number> = {
  qualification: 10,
  proposal: 30,
  negotiation: 60,
  closed: 90,
}

/** The arms of `CASE <stage> WHEN 'qualification' THEN 10 … ELSE 90 END`, the default for a stage. */
const DEFAULT_CASE_ARMS = `${DEAL_STAGES.slice(0, -1)
  .map((stage) => `WHEN '${stage}' THEN ${DEFAULT_STAGE_PROBABILITY[stage]}`)
  .join(' ')} ELSE ${DEFAULT_STAGE_PROBABILITY[DEAL_STAGES[DEAL_STAGES.length - 1] as DealStage]} END`

/** The default probability of the stage named by the SQL expression `stage` (raw SQL text). */
export function defaultStageProbabilitySql(stage: string): string {
  return `CASE ${stage} ${DEFAULT_CASE_ARMS}`
}

/**
 * A deal's probability now (100 won, 0 lost, else its stage's: the organization's own, else the default) as an
 * expression over the deal's status and stage, for the statements that read deals. The organization's stage
 * probabilities are one JSON object that the row looks its stage up in. Given the organization as a parameter
 * (a placeholder or a value: every list, export and single-deal read), that object is an InitPlan, read once per
 * statement; a subplan (an index scan) per open row and derived field before (a 20-row page: 28 -> 8 buffers,
 * 0.25 -> 0.16 ms; docs/performance.md, session 15). Given a row's column (the one-row CTE of the PATCH and its
 * event), it is read for that row. Inlined, not the deal_probability() function: a SQL function with a subquery is
 * never inlined, so PostgreSQL planned it again in every statement. The subquery renames pipeline_stages' columns
 * so that a deal column passed in binds to the deal even when the statement renders it unqualified (drizzle does
 * in single-table statements).
 */
export function dealProbabilitySql(
  organizationId: SQLWrapper | string,
  status: SQLWrapper,
  stage: SQLWrapper,
): SQL {
  return sql`CASE ${status} WHEN 'won' THEN 100 WHEN 'lost' THEN 0 ELSE coalesce(((SELECT jsonb_object_agg(sp.st, sp.p) FROM (SELECT organization_id AS org, stage AS st, probability AS p FROM pipeline_stages) sp WHERE sp.org = ${organizationId}) ->> ${stage})::integer, CASE ${stage} ${sql.raw(DEFAULT_CASE_ARMS)}) END`
}
