// Forward-only SQL migrations, one set per backend: read from its folder, applied in name order, each recorded once.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import type { LedgerLogger } from './ledger-logger.js';
import { silentLogger } from './ledger-logger.js';

export type LedgerBackendName = 'postgres' | 'sqlite';

export interface Migration {
  /** File name, e.g. `001-idempotency-records.sql`; its order is the apply order. */
  name: string;
  sql: string;
  /** sha-256 of the file: an applied migration that was edited afterwards stops the start instead of drifting. */
  checksum: string;
}

/** What the runner needs of a backend: a transaction in which to read and write the migration table and run files. */
export interface MigrationTarget {
  /** Runs `fn` in one transaction that no other process can run at the same time (a lock, or the file's exclusivity). */
  exclusively<T>(fn: (tx: MigrationTx) => Promise<T>): Promise<T>;
}

export interface MigrationTx {
  exec(sql: string): Promise<void>;
  applied(): Promise<Map<string, string>>;
  record(migration: Migration): Promise<void>;
}

const MIGRATION_FILE = /^\d{3}-[a-z0-9-]+\.sql$/;

/** Next to the backend's module in src/ (tsx runs the sources); the build copies the .sql files into dist/ too. */
export const migrationsDir = (backend: LedgerBackendName): URL => new URL(`./${backend}/migrations/`, import.meta.url);

export async function loadMigrations(backend: LedgerBackendName, dir: URL = migrationsDir(backend)): Promise<Migration[]> {
  const names = (await readdir(dir)).filter((name) => MIGRATION_FILE.test(name)).sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(new URL(name, dir), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    }),
  );
}

/**
 * Applies what is missing, all in one transaction: two replicas starting together queue, and the second finds
 * everything applied. A failing migration leaves nothing half-done. Returns the names applied now.
 */
export async function runMigrations(
  target: MigrationTarget,
  migrations: readonly Migration[],
  logger: LedgerLogger = silentLogger,
): Promise<string[]> {
  return target.exclusively(async (tx) => {
    const applied = await tx.applied();
    const appliedNow: string[] = [];
    for (const migration of migrations) {
      const checksum = applied.get(migration.name);
      if (checksum !== undefined) {
        if (checksum !== migration.checksum) {
          throw new Error(`Migration ${migration.name} was changed after it was applied; add a new migration instead.`);
        }
        continue;
      }
      await tx.exec(migration.sql);
      await tx.record(migration);
      logger.info({ migration: migration.name }, 'ledger migration applied');
      appliedNow.push(migration.name);
    }
    return appliedNow;
  });
}
