// The SqlClient over embedded PGlite: one in-process connection, so no separate lock connection either.
import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import type { Transaction } from '@electric-sql/pglite';
import type { SqlClient, SqlExecutor } from './sql-client.js';

export interface PgliteOpenOptions {
  /** Where PGlite keeps its files; in memory when absent. */
  dataDir?: string;
  /** A data directory tarball (from `dumpDataDir`) to start from instead of running initdb. */
  loadDataDir?: Blob;
}

export async function openPglite(options: PgliteOpenOptions = {}): Promise<PGlite> {
  // PGlite makes only the last directory of PGLITE_DIR; a fresh volume path should just work.
  if (options.dataDir !== undefined) await mkdir(options.dataDir, { recursive: true });
  return PGlite.create({
    ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
    ...(options.loadDataDir === undefined ? {} : { loadDataDir: options.loadDataDir }),
  });
}

const executor = (db: PGlite | Transaction): SqlExecutor => ({
  query: async <Row>(sql: string, params: readonly unknown[] = []) => (await db.query<Row>(sql, [...params])).rows,
  exec: async (sql) => {
    await db.exec(sql);
  },
});

export function createPgliteClient(db: PGlite): SqlClient {
  return {
    backend: 'pglite',
    ...executor(db),
    // PGlite queues every other query behind a running transaction, so it is as exclusive as it looks.
    transaction: (fn) => db.transaction((tx) => fn(executor(tx))),
    close: () => db.close(),
  };
}
