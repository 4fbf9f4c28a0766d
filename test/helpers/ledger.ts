// Ledgers for tests: a fresh migrated PGlite cloned from one template, or a fresh PostgreSQL database, per test.
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach } from 'vitest';
import { createLedger } from '../../src/ledger/create-ledger.js';
import { createPgliteTemplate, type PgliteTemplate } from '../../src/ledger/pglite-template.js';
import { createPostgresClient } from '../../src/ledger/postgres-client.js';
import type { SqlClient } from '../../src/ledger/sql-client.js';
import { createSqlLedger } from '../../src/ledger/sql-ledger.js';
import type { Ledger } from '../../src/refunds/ledger.js';

/** PostgreSQL for the ledger tests; when unset they run on PGlite only (and say so). */
export const testDatabaseUrl: string | undefined = process.env.TEST_DATABASE_URL || undefined;

export interface TestLedger {
  ledger: Ledger;
  /** The same database seen directly, to assert on rows. */
  sql: SqlClient;
  /** PostgreSQL only: the fresh database, so a test can open a second ledger on it (another replica). */
  databaseUrl?: string;
  /** Closes everything opened and, on PostgreSQL, drops the database. */
  close(): Promise<void>;
}

// One template per test process (vitest runs each file in its own fork), cached on disk across forks and runs.
let template: Promise<PgliteTemplate> | undefined;
export const pgliteTemplate = (): Promise<PgliteTemplate> =>
  (template ??= createPgliteTemplate({ cacheDir: join(tmpdir(), 'refund-gateway-test-pglite') }));

/** A fresh, migrated, empty PGlite ledger (~0.3 s). Close it when done. */
export async function newTestLedger(): Promise<Ledger> {
  return (await pgliteTemplate()).newLedger();
}

export async function openPgliteTestLedger(): Promise<TestLedger> {
  const sql = await (await pgliteTemplate()).newClient();
  return { ledger: createSqlLedger(sql), sql, close: () => sql.close() };
}

async function admin<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates an empty database on the server of `url` and returns its URL; nothing is migrated yet. */
export async function createPostgresTestDatabase(url: string): Promise<{ databaseUrl: string; drop(): Promise<void> }> {
  const name = `ledger_test_${randomBytes(6).toString('hex')}`;
  await admin(url, (client) => client.query(`CREATE DATABASE ${name}`));
  const databaseUrl = new URL(url);
  databaseUrl.pathname = `/${name}`;
  return {
    databaseUrl: databaseUrl.toString(),
    drop: async () => {
      await admin(url, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

/** A fresh database per call, migrated by `createLedger` exactly as at start. */
export async function openPostgresTestLedger(url: string): Promise<TestLedger> {
  const database = await createPostgresTestDatabase(url);
  const ledger = await createLedger({ databaseUrl: database.databaseUrl });
  const sql = createPostgresClient({ databaseUrl: database.databaseUrl, poolSize: 2, lockPoolSize: 1 });
  return {
    ledger,
    sql,
    databaseUrl: database.databaseUrl,
    close: async () => {
      await Promise.allSettled([ledger.close(), sql.close()]);
      await database.drop();
    },
  };
}

/** A fresh PostgreSQL ledger on TEST_DATABASE_URL; throws when it is not set. */
export async function newPostgresTestLedger(): Promise<TestLedger> {
  if (testDatabaseUrl === undefined) throw new Error('TEST_DATABASE_URL is not set.');
  return openPostgresTestLedger(testDatabaseUrl);
}

export interface LedgerBackend {
  /** Says in the test report when PostgreSQL is skipped and why. */
  name: string;
  skip: boolean;
  open(): Promise<TestLedger>;
}

export const pgliteBackend: LedgerBackend = { name: 'pglite', skip: false, open: openPgliteTestLedger };

export const postgresBackend: LedgerBackend = {
  name: testDatabaseUrl === undefined ? 'postgres (skipped: TEST_DATABASE_URL not set)' : 'postgres',
  skip: testDatabaseUrl === undefined,
  open: newPostgresTestLedger,
};

/** Both backends, for `describe.skipIf(backend.skip)(`… on ${backend.name}`, …)`: one suite, run on each. */
export const ledgerBackends: readonly LedgerBackend[] = [pgliteBackend, postgresBackend];

/** Opens a fresh ledger before each test of the enclosing describe and closes it after. */
export function useTestLedger(backend: LedgerBackend): () => TestLedger {
  let current: TestLedger | undefined;
  beforeEach(async () => {
    current = await backend.open();
  });
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  return () => {
    if (current === undefined) throw new Error('The test ledger is only there inside a test.');
    return current;
  };
}
