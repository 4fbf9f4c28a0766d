// Runs the SQLite migrations in one immediate transaction; the file is this process's alone, so no lock is needed.
import type Database from 'better-sqlite3';
import type { MigrationTarget } from '../migrations.js';

export function sqliteMigrationTarget(db: Database.Database): MigrationTarget {
  return {
    exclusively: async (fn) => {
      db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
        name TEXT PRIMARY KEY, checksum TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))`);
      db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn({
          exec: async (sql) => void db.exec(sql),
          applied: async () =>
            new Map((db.prepare('SELECT name, checksum FROM schema_migrations').all() as { name: string; checksum: string }[]).map((r) => [r.name, r.checksum])),
          record: async (m) => void db.prepare('INSERT INTO schema_migrations (name, checksum) VALUES (?, ?)').run(m.name, m.checksum),
        });
        db.exec('COMMIT');
        return result;
      } catch (error) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw error;
      }
    },
  };
}
