// Opens the ledger the configuration asks for (PostgreSQL with a URL, embedded PGlite without) and migrates it.
import type { Ledger } from '../refunds/ledger.js';
import type { LedgerLogger } from './ledger-logger.js';
import { silentLogger } from './ledger-logger.js';
import { loadMigrations, runMigrations } from './migrations.js';
import { createPgliteClient, openPglite } from './pglite-client.js';
import { createPostgresClient } from './postgres-client.js';
import type { SqlClient } from './sql-client.js';
import { createSqlLedger } from './sql-ledger.js';

export interface LedgerOptions {
  /** PostgreSQL; when absent, embedded PGlite. */
  databaseUrl?: string;
  /** PGlite's data directory; in memory when absent. Ignored with `databaseUrl`. */
  pgliteDir?: string;
  logger?: LedgerLogger;
  /** PostgreSQL only: query connections (default 10) and lock connections, i.e. payments in flight (default 20). */
  poolSize?: number;
  lockPoolSize?: number;
}

export async function createLedger(options: LedgerOptions = {}): Promise<Ledger> {
  const logger = options.logger ?? silentLogger;
  const client: SqlClient =
    options.databaseUrl === undefined
      ? createPgliteClient(await openPglite(options.pgliteDir === undefined ? {} : { dataDir: options.pgliteDir }))
      : createPostgresClient({
          databaseUrl: options.databaseUrl,
          ...(options.poolSize === undefined ? {} : { poolSize: options.poolSize }),
          ...(options.lockPoolSize === undefined ? {} : { lockPoolSize: options.lockPoolSize }),
          onIdleError: (err) => logger.warn({ err }, 'ledger connection dropped while idle'),
        });
  try {
    await runMigrations(client, await loadMigrations(), logger);
  } catch (error) {
    await client.close().catch(() => undefined);
    throw error;
  }
  logger.info({ backend: client.backend }, 'ledger ready');
  return createSqlLedger(client, logger);
}
