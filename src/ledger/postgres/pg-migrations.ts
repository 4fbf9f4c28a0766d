// Runs the PostgreSQL migrations in one transaction under an advisory lock, so replicas starting together take turns.
import type pg from 'pg';
import type { MigrationTarget } from '../migrations.js';
import { advisoryLockKey } from './advisory-lock-key.js';
import { inTransaction } from './pg-transaction.js';

export function pgMigrationTarget(pool: pg.Pool): MigrationTarget {
  return {
    exclusively: (fn) =>
      inTransaction(pool, async (client) => {
        // Before anything else, even the CREATE TABLE IF NOT EXISTS, which itself races between two replicas.
        await client.query(`SELECT pg_advisory_xact_lock(${advisoryLockKey('migrations', 'ledger')})`);
        await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
          name text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
        return fn({
          exec: async (sql) => void (await client.query(sql)),
          applied: async () =>
            new Map((await client.query<{ name: string; checksum: string }>('SELECT name, checksum FROM schema_migrations')).rows.map((r) => [r.name, r.checksum])),
          record: async (m) => void (await client.query('INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)', [m.name, m.checksum])),
        });
      }),
  };
}
