import type { FastifyInstance } from 'fastify'

/**
 * Called after every committed write that changes a deal (create, update, delete), so the next analytics
 * response reflects it. The analytics feature implements it (cache generation per organization).
 */
export async function dealsChanged(_app: FastifyInstance, _organizationId: string): Promise<void> {}
