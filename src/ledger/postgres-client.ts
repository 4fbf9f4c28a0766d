// The SqlClient over node-postgres: one pool for queries, another for connections that hold payment locks.
import pg from 'pg';
import type { Pool, PoolClient } from 'pg';
import { ConnectionWaitTimeout, type SqlClient, type SqlExecutor } from './sql-client.js';

export interface PostgresClientOptions {
  databaseUrl: string;
  /** Connections for ordinary queries. */
  poolSize?: number;
  /** Connections that may sit in a lock transaction at once, i.e. payments in flight per process. */
  lockPoolSize?: number;
  onIdleError?: (error: Error) => void;
}

const executor = (client: PoolClient): SqlExecutor => ({
  query: async <Row>(sql: string, params: readonly unknown[] = []) =>
    (await client.query(sql, params as unknown[])).rows as Row[],
  exec: async (sql) => {
    // No parameters means the simple query protocol, which accepts several statements.
    await client.query(sql);
  },
});

async function inTransaction<T>(client: PoolClient, fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    try {
      const result = await fn(executor(client));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: Error) => {
        // A connection that cannot roll back must not go back to the pool mid-transaction.
        broken = rollbackError;
      });
      throw error;
    }
  } finally {
    client.release(broken);
  }
}

const LOCK_CONNECT_FLOOR_MS = 1_000;

/** pg's pool has no per-call connect timeout; a connection that arrives after we gave up goes straight back. */
async function connectWithin(pool: Pool, waitMs: number): Promise<PoolClient> {
  const pending = pool.connect();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ConnectionWaitTimeout(waitMs)), Math.max(0, waitMs));
  });
  try {
    return await Promise.race([pending, timeout]);
  } catch (error) {
    if (error instanceof ConnectionWaitTimeout) pending.then((client) => client.release(), () => undefined);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

export function createPostgresClient(options: PostgresClientOptions): SqlClient {
  // A bounded wait for a connection, so an unreachable database fails a query (and /readyz) instead of hanging it.
  const pool = new pg.Pool({
    connectionString: options.databaseUrl,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: 5_000,
  });
  // Lock holders keep their connection for the whole Stripe call; a pool of their own means they can never take
  // every connection and starve the queries that their own work needs (which would deadlock).
  const lockPool = new pg.Pool({ connectionString: options.databaseUrl, max: options.lockPoolSize ?? 20 });
  // An idle connection dropped by the server emits 'error' on the pool; unhandled, it would kill the process.
  const onIdleError = options.onIdleError ?? (() => undefined);
  pool.on('error', onIdleError);
  lockPool.on('error', onIdleError);

  return {
    backend: 'postgres',
    query: async <Row>(sql: string, params: readonly unknown[] = []) =>
      (await pool.query(sql, params as unknown[])).rows as Row[],
    exec: async (sql) => {
      await pool.query(sql);
    },
    transaction: async (fn) => inTransaction(await pool.connect(), fn),
    // Opening a connection takes a few ms even when the pool has room: a wait used up on the payment's own turn must
    // not make a free pool look exhausted (that answers `overloaded`), so connecting always gets a short floor.
    lockingTransaction: async (waitMs, fn) => inTransaction(await connectWithin(lockPool, Math.max(waitMs, LOCK_CONNECT_FLOOR_MS)), fn),
    close: async () => {
      await Promise.all([pool.end(), lockPool.end()]);
    },
  };
}
