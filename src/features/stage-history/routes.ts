import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { and, asc, eq } from 'drizzle-orm'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import type { Executor } from '../../db/client.js'
import { DEAL_STAGES, dealStageHistory, deals } from '../../db/schema.js'
import { isoTimestamp } from '../../lib/dates.js'
import { recordNotFound } from '../../lib/errors.js'
import { EXAMPLE_IDS } from '../../lib/examples.js'
import { problems, StringEnum, TenantHeaders, Timestamp, Uuid } from '../../lib/schemas.js'

const StageStay = Type.Object({
  stage: StringEnum(DEAL_STAGES),
  entered_at: Timestamp,
  exited_at: Type.Union([Timestamp, Type.Null()]),
  duration_seconds: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], {
    description: 'Whole seconds, rounded down; null while the deal is still in the stage',
  }),
  changed_by: Type.Union([Uuid, Type.Null()], {
    description:
      'Who moved the deal into the stage (its creator for the first stay); null once that user is deleted',
  }),
})

export const StageHistory = Type.Object(
  { items: Type.Array(StageStay) },
  {
    // The history of the first Deal example: created in qualification, now in negotiation.
    examples: [
      {
        items: [
          {
            stage: 'qualification',
            entered_at: '2026-09-14T09:30:00.000Z',
            exited_at: '2026-10-01T14:12:00.000Z',
            duration_seconds: 1485720,
            changed_by: EXAMPLE_IDS.owner,
          },
          {
            stage: 'proposal',
            entered_at: '2026-10-01T14:12:00.000Z',
            exited_at: '2026-11-02T16:05:00.000Z',
            duration_seconds: 2771580,
            changed_by: EXAMPLE_IDS.owner,
          },
          {
            stage: 'negotiation',
            entered_at: '2026-11-02T16:05:00.000Z',
            exited_at: null,
            duration_seconds: null,
            changed_by: EXAMPLE_IDS.member,
          },
        ],
      },
    ],
  },
)

const DealParams = Type.Object({ deal_id: Uuid }, { additionalProperties: false })

/**
 * The deal's stays, oldest first, or undefined when the deal is not in the organization. One statement: the
 * deal's existence and its history rows (written by the deals_after_write trigger with every stage change).
 */
export async function stageHistoryOf(db: Executor, organizationId: string, dealId: string) {
  const rows = await db
    .select({
      dealId: deals.id,
      stage: dealStageHistory.stage,
      enteredAt: dealStageHistory.enteredAt,
      exitedAt: dealStageHistory.exitedAt,
      changedBy: dealStageHistory.changedBy,
    })
    .from(deals)
    .leftJoin(
      dealStageHistory,
      and(eq(dealStageHistory.organizationId, deals.organizationId), eq(dealStageHistory.dealId, deals.id)),
    )
    .where(and(eq(deals.organizationId, organizationId), eq(deals.id, dealId)))
    .orderBy(asc(dealStageHistory.seq))
  if (rows.length === 0) return undefined
  return rows.flatMap((row) =>
    row.stage === null || row.enteredAt === null
      ? []
      : [
          {
            stage: row.stage,
            entered_at: isoTimestamp(row.enteredAt),
            exited_at: row.exitedAt ? isoTimestamp(row.exitedAt) : null,
            duration_seconds:
              row.exitedAt === null
                ? null
                : Math.floor((row.exitedAt.getTime() - row.enteredAt.getTime()) / 1000),
            changed_by: row.changedBy,
          },
        ],
  )
}

/** `GET /deals/{deal_id}/stage-history` (spec §12): any member. */
export default async function stageHistoryRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.get(
    '/',
    {
      schema: {
        tags: ['deals'],
        operationId: 'listDealStageHistory',
        summary: 'The deal’s stays in each stage, oldest first; the last one is open',
        description:
          'Every stay of the deal in a stage, oldest first, with its duration; the last stay is still open.',
        security: [{ bearerAuth: [] }],
        headers: TenantHeaders,
        params: DealParams,
        querystring: Type.Object({}, { additionalProperties: false }),
        response: { 200: StageHistory, ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const items = await stageHistoryOf(app.db.db, request.actor.organizationId, request.params.deal_id)
      if (!items) throw recordNotFound('DEAL_NOT_FOUND')
      return { items }
    },
  )
}
