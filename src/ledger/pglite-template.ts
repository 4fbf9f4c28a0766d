// A migrated PGlite built once and cloned per test: a fresh initdb costs ~3 s and ~750 MB, a clone ~0.3 s.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Ledger } from '../refunds/ledger.js';
import { loadMigrations, runMigrations, type Migration } from './migrations.js';
import { createPgliteClient, openPglite } from './pglite-client.js';
import type { SqlClient } from './sql-client.js';
import { createSqlLedger } from './sql-ledger.js';

export interface PgliteTemplate {
  /** A fresh, migrated, empty ledger that shares nothing with any other. */
  newLedger(): Promise<Ledger>;
  /** The same, as the raw client, for tests that read rows or build the ledger themselves. */
  newClient(): Promise<SqlClient>;
}

export interface PgliteTemplateOptions {
  /**
   * Keep the migrated data directory here between processes (each vitest file is its own fork), keyed by the PGlite
   * build and the migrations, so a whole run pays for initdb once and a changed migration is never served stale.
   */
  cacheDir?: string;
}

const PGLITE_WASM = createRequire(import.meta.url).resolve('@electric-sql/pglite/pglite.wasm');

async function buildDump(migrations: readonly Migration[]): Promise<Blob> {
  const db = await openPglite();
  try {
    await runMigrations(createPgliteClient(db), migrations);
    // Uncompressed: gzip would make every clone pay for inflating ~40 MB.
    return await db.dumpDataDir('none');
  } finally {
    await db.close();
  }
}

async function cachedDump(cacheFile: string, build: () => Promise<Blob>): Promise<Blob> {
  try {
    return new Blob([await readFile(cacheFile)]);
  } catch {
    const dump = await build();
    // Write aside, then rename: parallel test forks may build at once, and a reader never sees half a file.
    const partial = `${cacheFile}.${process.pid}.partial`;
    await writeFile(partial, new Uint8Array(await dump.arrayBuffer()));
    await rename(partial, cacheFile);
    return dump;
  }
}

export async function createPgliteTemplate(options: PgliteTemplateOptions = {}): Promise<PgliteTemplate> {
  const migrations = await loadMigrations();
  const build = () => buildDump(migrations);

  let dump: Blob;
  if (options.cacheDir === undefined) {
    dump = await build();
  } else {
    // The wasm stands for the PGlite build (its package.json is not exported, so its version cannot be read).
    const key = createHash('sha256').update(await readFile(PGLITE_WASM));
    for (const migration of migrations) key.update(`${migration.name}:${migration.checksum}`);
    await mkdir(options.cacheDir, { recursive: true });
    dump = await cachedDump(join(options.cacheDir, `pglite-template-${key.digest('hex').slice(0, 24)}.tar`), build);
  }

  const newClient = async (): Promise<SqlClient> => {
    const client = createPgliteClient(await openPglite({ loadDataDir: dump }));
    // Costs a few ms on an up-to-date clone, and proves the template holds exactly these migrations.
    await runMigrations(client, migrations);
    return client;
  };
  return { newClient, newLedger: async () => createSqlLedger(await newClient()) };
}
