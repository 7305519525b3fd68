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
 * expression over the deal's columns, for the statements that read deals. Inlined, not the deal_probability()
 * function: a SQL function with a subquery is never inlined, so PostgreSQL planned it again in every statement
 * and started an executor per row; here the lookup is a subplan of the statement, planned with it (and kept
 * with the prepared statement). The subquery renames pipeline_stages' columns so that the deal's columns bind
 * to the deal even when the statement renders them unqualified (drizzle does in single-table statements).
 */
export function dealProbabilitySql(organizationId: SQLWrapper, status: SQLWrapper, stage: SQLWrapper): SQL {
  return sql`CASE ${status} WHEN 'won' THEN 100 WHEN 'lost' THEN 0 ELSE coalesce((SELECT sp.p FROM (SELECT organization_id AS org, stage AS st, probability::integer AS p FROM pipeline_stages) sp WHERE sp.org = ${organizationId} AND sp.st = ${stage}), CASE ${stage} ${sql.raw(DEFAULT_CASE_ARMS)}) END`
}

/**
 * The same probability for the deals of ONE organization (`organizationId`: a placeholder or a value, never the
 * row's column): the organization's stage probabilities are read once per statement (an InitPlan: its few
 * pipeline_stages rows into one JSON object) and each row looks its stage up in it, instead of running a subplan
 * (an index scan) for each open deal and each derived field. For every statement that reads deals of one
 * organization, by the page or by the million (a 20-row page: 0.25 -> 0.16 ms, docs/performance.md, session 15).
 */
export function organizationDealProbabilitySql(
  organizationId: SQLWrapper | string,
  status: SQLWrapper,
  stage: SQLWrapper,
): SQL {
  return sql`CASE ${status} WHEN 'won' THEN 100 WHEN 'lost' THEN 0 ELSE coalesce(((SELECT jsonb_object_agg(ps.stage, ps.probability) FROM pipeline_stages ps WHERE ps.organization_id = ${organizationId}) ->> ${stage})::integer, CASE ${stage} ${sql.raw(DEFAULT_CASE_ARMS)}) END`
}
