// PostgreSQL connections for the ledger: a query pool and a lock pool, each bounded in wait, time and errors.
import pg from 'pg';
import type { LedgerLogger } from '../ledger-logger.js';

export interface PgPoolOptions {
  databaseUrl: string;
  /** Query connections per process (DATABASE_POOL_SIZE). */
  poolSize: number;
  /** Connections that hold payment locks; each is one payment in flight in this process. */
  lockPoolSize: number;
  /** The longest any statement may run (DATABASE_STATEMENT_TIMEOUT_MS); also the longest wait for a connection. */
  statementTimeoutMs: number;
  logger: LedgerLogger;
}

export interface PgPools {
  readonly query: pg.Pool;
  readonly locks: pg.Pool;
  close(): Promise<void>;
}

/** pg's int8 is a string by default; every int8 the ledger stores (amounts, unix seconds, sequences) fits in 2^53. */
const int8 = (value: string): number => Number(value);

export function createPgPools(options: PgPoolOptions): PgPools {
  const common: pg.PoolConfig = {
    connectionString: options.databaseUrl,
    // A database that never answers must not hang a request: the server cancels long statements, and the client
    // gives up on a connection that stays silent a second longer (a stopped or partitioned server never answers).
    connectionTimeoutMillis: options.statementTimeoutMs,
    statement_timeout: options.statementTimeoutMs,
    query_timeout: options.statementTimeoutMs + 1_000,
    // Notices a half-open connection (a failover, a NAT that forgot us) instead of writing into the void for ever.
    keepAlive: true,
    idleTimeoutMillis: 30_000,
    types: { getTypeParser: (oid, format) => (oid === 20 ? int8 : pg.types.getTypeParser(oid, format)) } as pg.CustomTypesConfig,
  };
  const query = new pg.Pool({ ...common, max: options.poolSize });
  // Lock holders keep their connection for the whole Stripe call: a pool of their own can never starve the queries
  // their own work needs. Its connections sit idle (not in a transaction) while they hold a session-level lock.
  const locks = new pg.Pool({ ...common, max: options.lockPoolSize, statement_timeout: undefined });
  // An idle connection the server drops emits 'error' on its pool; unhandled, it would end the process.
  const onIdleError = (err: Error) => options.logger.warn({ err }, 'a ledger connection dropped while idle; the pool opens a new one');
  query.on('error', onIdleError);
  locks.on('error', onIdleError);
  return {
    query,
    locks,
    close: async () => {
      await Promise.all([query.end(), locks.end()]);
    },
  };
}
