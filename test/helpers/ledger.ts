// Ledgers for tests: a fresh migrated SQLite ledger in memory, or a fresh PostgreSQL database, per test.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterEach, beforeEach } from 'vitest';
import { createLedger } from '../../src/ledger/create-ledger.js';
import { loadMigrations, runMigrations, type MigrationTarget } from '../../src/ledger/migrations.js';
import { pgMigrationTarget } from '../../src/ledger/postgres/pg-migrations.js';
import { openSqliteFile } from '../../src/ledger/sqlite/sqlite-file.js';
import { createSqliteLedger } from '../../src/ledger/sqlite/sqlite-ledger.js';
import { sqliteMigrationTarget } from '../../src/ledger/sqlite/sqlite-migrations.js';
import type { Ledger } from '../../src/refunds/ledger.js';

/** PostgreSQL for the ledger tests; when unset they run on SQLite only (and say so). */
export const testDatabaseUrl: string | undefined = process.env.TEST_DATABASE_URL || undefined;

/** The test's own view of the ledger's database, to set up and assert on rows. Times come back as ISO strings. */
export interface TestSql {
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  exec(sql: string): Promise<void>;
}

export interface TestLedger {
  ledger: Ledger;
  sql: TestSql;
  backend: 'sqlite' | 'postgres';
  /** Runs migrations on this very database (for the migration tests). */
  migrationTarget: MigrationTarget;
  /** PostgreSQL only: the fresh database, so a test can open a second ledger on it (another replica). */
  databaseUrl?: string;
  /** Closes everything opened and, on PostgreSQL, drops the database. */
  close(): Promise<void>;
}

const isoDates = <Row>(rows: Row[]): Row[] =>
  rows.map((row) =>
    Object.fromEntries(Object.entries(row as Record<string, unknown>).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v])) as Row,
  );

/** A fresh, migrated, empty ledger in memory (a few ms). Close it when done. */
export async function newTestLedger(): Promise<Ledger> {
  return createLedger({ kind: 'sqlite', path: undefined });
}

export async function openSqliteTestLedger(): Promise<TestLedger> {
  const db = openSqliteFile(undefined);
  const migrationTarget = sqliteMigrationTarget(db);
  await runMigrations(migrationTarget, await loadMigrations('sqlite'));
  const named = (params: readonly unknown[]) => Object.fromEntries(params.map((v, i) => [String(i + 1), v]));
  return {
    ledger: createSqliteLedger(db),
    backend: 'sqlite',
    migrationTarget,
    sql: {
      query: async <Row>(sql: string, params: readonly unknown[] = []) => {
        const statement = db.prepare(sql);
        return (statement.reader ? statement.all(named(params)) : (statement.run(named(params)), [])) as Row[];
      },
      exec: async (sql) => void db.exec(sql),
    },
    close: async () => {
      if (db.open) db.close();
    },
  };
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
  const ledger = await createLedger({ kind: 'postgres', databaseUrl: database.databaseUrl });
  const pool = new pg.Pool({ connectionString: database.databaseUrl, max: 2 });
  return {
    ledger,
    backend: 'postgres',
    migrationTarget: pgMigrationTarget(pool),
    sql: {
      query: async <Row>(sql: string, params: readonly unknown[] = []) => isoDates((await pool.query(sql, [...params])).rows as Row[]),
      exec: async (sql) => void (await pool.query(sql)),
    },
    databaseUrl: database.databaseUrl,
    close: async () => {
      await Promise.allSettled([ledger.close(), pool.end()]);
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

export const sqliteBackend: LedgerBackend = { name: 'sqlite', skip: false, open: openSqliteTestLedger };

export const postgresBackend: LedgerBackend = {
  name: testDatabaseUrl === undefined ? 'postgres (skipped: TEST_DATABASE_URL not set)' : 'postgres',
  skip: testDatabaseUrl === undefined,
  open: newPostgresTestLedger,
};

/** Both backends, for `describe.skipIf(backend.skip)(`… on ${backend.name}`, …)`: one suite, run on each. */
export const ledgerBackends: readonly LedgerBackend[] = [sqliteBackend, postgresBackend];

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
