import type { FastifyInstance } from 'fastify'

/**
 * Called after every committed write that changes a deal (create, update, delete), and awaited before the
 * write answers, so the next analytics response reflects it: the organization's cache generation moves on
 * (in Redis, for every instance). Never throws: the write has committed whatever happens to the cache.
 */
export async function dealsChanged(app: FastifyInstance, organizationId: string): Promise<void> {
  await app.analyticsCache.invalidate(organizationId)
}
