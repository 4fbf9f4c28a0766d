// Forward-only SQL migrations: read from ./migrations, applied in name order, each recorded once in schema_migrations.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { advisoryLockKey } from './advisory-lock-key.js';
import type { LedgerLogger } from './ledger-logger.js';
import { silentLogger } from './ledger-logger.js';
import type { SqlClient } from './sql-client.js';

export interface Migration {
  /** File name, e.g. `001-idempotency-records.sql`; its order is the apply order. */
  name: string;
  sql: string;
  /** sha-256 of the file: an applied migration that was edited afterwards stops the start instead of drifting. */
  checksum: string;
}

const MIGRATION_FILE = /^\d{3}-[a-z0-9-]+\.sql$/;

/** Next to this module in src/ (tsx runs the sources); a compiled build must ship the .sql files beside it too. */
export const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);

export async function loadMigrations(dir: URL = MIGRATIONS_DIR): Promise<Migration[]> {
  const names = (await readdir(dir)).filter((name) => MIGRATION_FILE.test(name)).sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(new URL(name, dir), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    }),
  );
}

/**
 * Applies what is missing, all in one transaction under an advisory lock: two replicas starting together queue on
 * the lock, and the second finds everything applied. DDL is transactional in PostgreSQL, so a failing migration
 * leaves nothing half-done. Returns the names applied now.
 */
export async function runMigrations(
  client: SqlClient,
  migrations: readonly Migration[],
  logger: LedgerLogger = silentLogger,
): Promise<string[]> {
  return client.transaction(async (tx) => {
    // Before anything else, even the CREATE TABLE IF NOT EXISTS, which itself races between two replicas.
    await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [advisoryLockKey('migrations', 'ledger')]);
    await tx.exec(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         name text PRIMARY KEY,
         checksum text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const rows = await tx.query<{ name: string; checksum: string }>('SELECT name, checksum FROM schema_migrations');
    const applied = new Map(rows.map((row) => [row.name, row.checksum]));
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
      await tx.query('INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)', [migration.name, migration.checksum]);
      logger.info({ migration: migration.name }, 'ledger migration applied');
      appliedNow.push(migration.name);
    }
    return appliedNow;
  });
}
