import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { and, eq, inArray, sql } from 'drizzle-orm'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { assertAllowed } from '../../auth/policy.js'
import { type Executor, queryRows } from '../../db/client.js'
import { DEAL_STAGES, type DealStage, dealTotals, pipelineStages } from '../../db/schema.js'
import { problems, StringEnum, TenantHeaders } from '../../lib/schemas.js'
import { bumpGeneration } from '../analytics/generation.js'

const security = [{ bearerAuth: [] }]
const tags = ['pipeline']

const Probability = Type.Integer({ minimum: 0, maximum: 100 })

export const Pipeline = Type.Object(
  {
    stages: Type.Array(
      Type.Object({
        stage: StringEnum(DEAL_STAGES),
        position: Type.Integer({ minimum: 1, maximum: DEAL_STAGES.length }),
        probability: Probability,
      }),
    ),
  },
  {
    description: 'The stages in pipeline order with the organization’s probability of each',
    // After the update example below: proposal and negotiation changed, the others at their defaults.
    examples: [
      {
        stages: [
          { stage: 'qualification', position: 1, probability: 10 },
          { stage: 'proposal', position: 2, probability: 35 },
          { stage: 'negotiation', position: 3, probability: 65 },
          { stage: 'closed', position: 4, probability: 90 },
        ],
      },
    ],
  },
)

const UpdatePipelineBody = Type.Object(
  {
    probabilities: Type.Object(
      Object.fromEntries(DEAL_STAGES.map((stage) => [stage, Type.Optional(Probability)])),
      { additionalProperties: false, description: 'Stage → integer 0..100; stages left out keep theirs' },
    ),
  },
  { additionalProperties: false, examples: [{ probabilities: { proposal: 35, negotiation: 65 } }] },
)

/** Every stage's probability: the organization's own, else the default (stage_probability, migration 0002). */
export async function readPipeline(db: Executor, organizationId: string) {
  const rows = await queryRows<{ stage: DealStage; probability: number }>(
    db,
    sql`SELECT s.stage, stage_probability(${organizationId}::uuid, s.stage) AS probability
        FROM unnest(${sql.raw(`ARRAY[${DEAL_STAGES.map((s) => `'${s}'`).join(', ')}]`)}::text[]) AS s(stage)`,
  )
  const byStage = new Map(rows.map((row) => [row.stage, Number(row.probability)]))
  return {
    stages: DEAL_STAGES.map((stage, index) => ({
      stage,
      position: index + 1,
      probability: byStage.get(stage) as number,
    })),
  }
}

/** `GET|PATCH /pipeline` (spec §12): any member reads; owners and admins set the stage probabilities. */
export default async function pipelineRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.get(
    '/',
    {
      schema: {
        tags,
        operationId: 'getPipeline',
        summary: 'The pipeline stages with their probabilities',
        description:
          'The stages in pipeline order with the probability of each, as the organization set them.',
        security,
        headers: TenantHeaders,
        response: { 200: Pipeline, ...problems(400, 401, 403) },
      },
    },
    async (request) => readPipeline(app.db.db, request.actor.organizationId),
  )

  app.patch(
    '/',
    {
      schema: {
        tags,
        operationId: 'updatePipeline',
        summary: 'Set stage probabilities (owner, admin); every deal and the analytics follow at once',
        description:
          'Owners and admins set the probability (0..100) of any stage; stages left out keep theirs. Weighted analytics follow at once.',
        security,
        headers: TenantHeaders,
        body: UpdatePipelineBody,
        response: { 200: Pipeline, ...problems(400, 401, 403) },
      },
    },
    async (request) => {
      const { organizationId } = request.actor
      assertAllowed(request.actor, 'pipeline.update')
      const changed = Object.entries(request.body.probabilities).filter(
        (entry): entry is [DealStage, number] => entry[1] !== undefined,
      )
      const result = await app.db.db.transaction(async (tx) => {
        for (const [stage, probability] of changed) {
          await tx
            .insert(pipelineStages)
            .values({ organizationId, stage, probability })
            .onConflictDoUpdate({
              target: [pipelineStages.organizationId, pipelineStages.stage],
              set: { probability, updatedAt: sql`now()` },
            })
          // Deal probabilities are computed on read, so deals follow by themselves. The aggregate rows keep a
          // weighted sum at their own probability: bring them to the new one (exact, from their histogram).
          // A row a concurrent write adds with the old one is recomputed on read (analytics/queries.ts).
          // Rows are locked in key order first, the order deal writes lock them in, so the two never deadlock.
          await tx.execute(sql`
            SELECT 1 FROM ${dealTotals}
            WHERE ${dealTotals.organizationId} = ${organizationId} AND ${dealTotals.stage} = ${stage}
              AND ${dealTotals.status} IN ('new', 'in_progress')
            ORDER BY ${dealTotals.currency}, ${dealTotals.status}, ${dealTotals.stage}, ${dealTotals.month},
                     ${dealTotals.shard}
            FOR UPDATE`)
          await tx
            .update(dealTotals)
            .set({
              probability,
              weighted: sql`deal_totals_weighted(${dealTotals.centsHist}, ${dealTotals.amount}, ${probability}::integer)`,
            })
            .where(
              and(
                eq(dealTotals.organizationId, organizationId),
                eq(dealTotals.stage, stage),
                inArray(dealTotals.status, ['new', 'in_progress']),
              ),
            )
        }
        // Weighted amounts in the analytics change: cached results must not be served again.
        if (changed.length > 0) await bumpGeneration(tx, organizationId)
        return readPipeline(tx, organizationId)
      })
      return result
    },
  )
}
