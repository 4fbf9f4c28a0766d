// The tiny query interface both backends implement, so the ledger's SQL is written once for PostgreSQL and PGlite.

/** Runs SQL on one connection (or inside one transaction). Rows come back as the driver parsed them. */
export interface SqlExecutor {
  /** One statement with `$n` parameters. */
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  /** Several statements, no parameters: a migration file. */
  exec(sql: string): Promise<void>;
}

export interface SqlClient extends SqlExecutor {
  readonly backend: 'postgres' | 'pglite';
  /** BEGIN … COMMIT around `fn`, ROLLBACK when it throws (and the error passes through). */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /**
   * A transaction on a connection kept apart from the one(s) `query` uses, for holding a transaction-scoped advisory
   * lock while `fn` itself goes on using `query`. Waiting for that connection counts toward `waitMs`; when none frees
   * up in time it throws `ConnectionWaitTimeout`. Absent where only one process can reach the database (PGlite).
   */
  lockingTransaction?<T>(waitMs: number, fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Thrown by `lockingTransaction` when no connection was free within the wait. */
export class ConnectionWaitTimeout extends Error {
  constructor(waitMs: number) {
    super(`No lock connection became free within ${waitMs} ms.`);
    this.name = 'ConnectionWaitTimeout';
  }
}

/** The SQLSTATE of a driver error; pg and PGlite both put it on `code`. */
export function sqlState(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  const code = (error as { code: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** pg returns int8 as a string, PGlite as a number (or a bigint past 2^53): one reading for both. */
export function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint' || typeof value === 'string') return Number(value);
  throw new TypeError(`Expected a number from the database, got ${typeof value}.`);
}

/** Dates travel as ISO strings cast in SQL (`$n::timestamptz`), so neither driver's Date serialiser is involved. */
export const isoTime = (date: Date): string => date.toISOString();
