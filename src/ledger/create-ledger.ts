// Opens the ledger the configuration asks for — PostgreSQL with a URL, the embedded SQLite file (or memory) without — and migrates it.
import type { Ledger } from '../refunds/ledger.js';
import { isLedgerUnavailable } from './ledger-errors.js';
import type { LedgerLogger } from './ledger-logger.js';
import { silentLogger } from './ledger-logger.js';
import { loadMigrations, runMigrations } from './migrations.js';

export type LedgerOptions =
  | {
      kind: 'postgres';
      databaseUrl: string;
      /** Query connections (default 10). */
      poolSize?: number;
      /** Connections that hold payment locks, i.e. payments in flight at once (default 2 × poolSize). */
      lockPoolSize?: number;
      statementTimeoutMs?: number;
      logger?: LedgerLogger;
    }
  | {
      kind: 'sqlite';
      /** The file, held by this process alone; undefined: in memory (the sandbox, tests). */
      path: string | undefined;
      logger?: LedgerLogger;
    };

/** Each backend's driver is loaded only when it is the one configured: a process never pays for both at start. */
export async function createLedger(options: LedgerOptions): Promise<Ledger> {
  const logger = options.logger ?? silentLogger;
  if (options.kind === 'sqlite') {
    const [{ openSqliteFile }, { createSqliteLedger }, { sqliteMigrationTarget }] = await Promise.all([
      import('./sqlite/sqlite-file.js'),
      import('./sqlite/sqlite-ledger.js'),
      import('./sqlite/sqlite-migrations.js'),
    ]);
    const db = openSqliteFile(options.path);
    try {
      await runMigrations(sqliteMigrationTarget(db), await loadMigrations('sqlite'), logger);
    } catch (error) {
      db.close();
      throw error;
    }
    logger.info({ backend: 'sqlite', path: options.path ?? ':memory:' }, 'ledger ready');
    return createSqliteLedger(db);
  }
  const [{ createPgLedger }, { pgMigrationTarget }, { createPgPools }] = await Promise.all([
    import('./postgres/pg-ledger.js'),
    import('./postgres/pg-migrations.js'),
    import('./postgres/pg-pools.js'),
  ]);
  const poolSize = options.poolSize ?? 10;
  const pools = createPgPools({
    databaseUrl: options.databaseUrl,
    poolSize,
    lockPoolSize: options.lockPoolSize ?? poolSize * 2,
    statementTimeoutMs: options.statementTimeoutMs ?? 5_000,
    logger,
  });
  try {
    await runMigrations(pgMigrationTarget(pools.query), await loadMigrations('postgres'), logger);
  } catch (error) {
    await pools.close().catch(() => undefined);
    if (!isLedgerUnavailable(error)) throw error;
    throw new Error(`the ledger database could not be reached: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  logger.info({ backend: 'postgres' }, 'ledger ready');
  return createPgLedger(pools, logger);
}
