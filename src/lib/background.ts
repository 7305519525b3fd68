import type { FastifyBaseLogger } from 'fastify'

/**
 * Work that runs after the answer has left (e.g. the password-reset lookup, so its time cannot tell whether an
 * email has an account). Failures are logged, never thrown; shutdown waits for what is running.
 */
export interface Background {
  run(what: string, task: () => Promise<unknown>): void
  /** Resolves when nothing is running (tests; shutdown). */
  idle(): Promise<void>
}

export function background(log: FastifyBaseLogger): Background {
  const running = new Set<Promise<unknown>>()
  return {
    run(what, task) {
      const work = new Promise((resolve) => setImmediate(resolve))
        .then(task)
        .catch((error: unknown) => log.error({ err: error }, `background task failed: ${what}`))
      running.add(work)
      void work.finally(() => running.delete(work))
    },
    async idle() {
      while (running.size > 0) await Promise.allSettled([...running])
    },
  }
}
