// Guards a PostgreSQL run: the benchmark wants an empty ledger, so old refunds cannot skew (or break) the pending view.
import pg from 'pg';

/**
 * Refunds left by an earlier run point at an emulator that no longer exists; the pending view would re-read them
 * from Stripe and fail. The benchmark never deletes anything itself: it asks for a throwaway database instead.
 */
export async function assertEmptyLedger(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    const exists = await client.query<{ found: boolean }>(`SELECT to_regclass('refunds') IS NOT NULL AS found`);
    if (exists.rows[0]?.found !== true) return;
    const count = await client.query<{ n: string }>('SELECT count(*) AS n FROM refunds');
    const n = Number(count.rows[0]?.n ?? 0);
    if (n > 0) {
      throw new Error(`BENCH_DATABASE_URL already holds ${n} refunds from an earlier run: point it at a fresh, throwaway database.`);
    }
  } finally {
    await client.end();
  }
}
