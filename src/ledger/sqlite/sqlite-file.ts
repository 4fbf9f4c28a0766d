// Opens the embedded ledger's SQLite file for this process alone (WAL, exclusive), or in memory for the sandbox.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';

/** Thrown when another process holds the file; its message says which. */
export class LedgerFileHeld extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LedgerFileHeld';
  }
}

const holderFileOf = (path: string): string => `${path}.holder`;

function describeHolder(path: string): string {
  try {
    const holder = JSON.parse(readFileSync(holderFileOf(path), 'utf8')) as { pid?: number; host?: string; since?: string };
    return `process ${holder.pid ?? '?'} on ${holder.host ?? '?'} (since ${holder.since ?? '?'})`;
  } catch {
    return 'another process';
  }
}

/**
 * `path` undefined: a private in-memory database. Otherwise the file (and its folder) is made if missing and held
 * exclusively until close: SQLite's own lock, taken by an exclusive write at open and kept by `locking_mode =
 * EXCLUSIVE`, is released by the kernel when the process dies however it dies, so a crash never leaves a stale lock.
 * The `.holder` file beside it only says who holds it, for the message a second process prints.
 */
export function openSqliteFile(path: string | undefined): Database.Database {
  if (path === undefined) return configure(new Database(':memory:'));
  const file = resolve(path);
  mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file, { timeout: 0 });
  try {
    // EXCLUSIVE before WAL: WAL then keeps its index in this process's memory, and no other process can read or write.
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = WAL');
    db.exec('BEGIN EXCLUSIVE; COMMIT');
  } catch (error) {
    db.close();
    if ((error as { code?: string }).code?.startsWith('SQLITE_BUSY')) {
      throw new LedgerFileHeld(`the ledger file ${file} is held by ${describeHolder(file)}; one process at a time may open it`);
    }
    throw error;
  }
  writeFileSync(holderFileOf(file), JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() }));
  return configure(db);
}

function configure(db: Database.Database): Database.Database {
  // NORMAL in WAL mode survives any crash of this process (what the ledger's promises are about); an OS crash may
  // lose the last commits, which the Stripe-side idempotency key and the derived request id still cover.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  return db;
}
