import './load-pg.js'
import { type SQL, sql } from 'drizzle-orm'
import { NodePgSession, NodePgTransaction } from 'drizzle-orm/node-postgres/session'
import type { PgTransactionConfig } from 'drizzle-orm/pg-core'
import pg from 'pg'

/**
 * drizzle-orm 0.45's `NodePgSession.transaction` runs BEGIN before its try/finally: when the server ends the
 * connection just then (pg_terminate_backend, failover), the client is never released and the pool loses it
 * for good; a few such losses leave every request waiting for a connection. This replacement releases the
 * client on every path, and destroys it (release with an error) when BEGIN, COMMIT or ROLLBACK failed, so a
 * broken connection is never handed out again. It keeps drizzle's behaviour otherwise; the original error
 * wins over a failed ROLLBACK. Covered by test/pg-faults.test.ts ("repeated terminations").
 */
interface SessionInternals {
  client: pg.Pool | pg.PoolClient | pg.Client
  dialect: ConstructorParameters<typeof NodePgTransaction>[0]
  schema: ConstructorParameters<typeof NodePgTransaction>[2]
  options: ConstructorParameters<typeof NodePgSession>[3]
}

type Transaction = NodePgTransaction<Record<string, unknown>, never>

async function transaction<T>(
  this: SessionInternals,
  run: (tx: Transaction) => Promise<T>,
  config?: PgTransactionConfig,
): Promise<T> {
  if (!(this.client instanceof pg.Pool)) return runIn(this as never, this, run, config)
  const client = await this.client.connect()
  const session = new NodePgSession(client, this.dialect, this.schema, this.options)
  let broken: Error | undefined
  try {
    return await runIn(session as never, this, run, config, (error) => {
      broken = error
    })
  } finally {
    client.release(broken)
  }
}

async function runIn<T>(
  session: ConstructorParameters<typeof NodePgTransaction>[1],
  internals: SessionInternals,
  run: (tx: Transaction) => Promise<T>,
  config: PgTransactionConfig | undefined,
  onBroken: (error: Error) => void = () => {},
): Promise<T> {
  const tx = new NodePgTransaction(internals.dialect, session, internals.schema) as unknown as Transaction
  const control = async (statement: SQL) => {
    try {
      await tx.execute(statement)
    } catch (error) {
      onBroken(error instanceof Error ? error : new Error(String(error)))
      throw error
    }
  }
  // Not in drizzle's typings, but what its own transaction() calls to render isolation level and access mode.
  const settings = (tx as unknown as { getTransactionConfigSQL(config: PgTransactionConfig): SQL })
    .getTransactionConfigSQL
  await control(sql`begin${config ? sql` ${settings.call(tx, config)}` : undefined}`)
  let result: T
  try {
    result = await run(tx)
  } catch (error) {
    await control(sql`rollback`).catch(() => {})
    throw error
  }
  try {
    await control(sql`commit`)
  } catch (error) {
    await control(sql`rollback`).catch(() => {})
    throw error
  }
  return result
}

;(NodePgSession.prototype as unknown as { transaction: typeof transaction }).transaction = transaction
