// Idempotency records in SQL: begin (atomically), complete, release, prune.
import type { BeginIdempotentInput, CompleteIdempotentInput, IdempotencyBegin } from '../refunds/ledger.js';
import { isoTime, toNumber, type SqlClient } from './sql-client.js';

interface RecordRow {
  fingerprint: string;
  state: 'in_progress' | 'open' | 'completed';
  request_id: string;
  lease_expired: boolean;
  outcome: unknown;
}

/**
 * The common case (a new key) is one INSERT … ON CONFLICT DO NOTHING: of two concurrent attempts exactly one inserts.
 * Otherwise the row is read FOR UPDATE, so deciding and taking it over cannot interleave with another attempt doing
 * the same; the second waits for the first's commit and then sees its lease.
 */
export async function beginIdempotent(client: SqlClient, input: BeginIdempotentInput): Promise<IdempotencyBegin> {
  const now = isoTime(input.now);
  const leaseExpiresAt = isoTime(new Date(input.now.getTime() + input.leaseMs));
  // A record pruned between the INSERT and the SELECT makes the key new again: go round once more.
  for (let round = 0; round < 3; round += 1) {
    const inserted = await client.query(
      `INSERT INTO idempotency_records
         (scope, fingerprint, state, request_id, holder, lease_expires_at, created_at, updated_at)
       VALUES ($1, $2, 'in_progress', $3, $3, $4::timestamptz, $5::timestamptz, $5::timestamptz)
       ON CONFLICT (scope) DO NOTHING
       RETURNING scope`,
      [input.scope, input.fingerprint, input.requestId, leaseExpiresAt, now],
    );
    if (inserted.length > 0) return { kind: 'started', requestId: input.requestId };

    const found = await client.transaction(async (tx): Promise<IdempotencyBegin | null> => {
      const [row] = await tx.query<RecordRow>(
        `SELECT fingerprint, state, request_id, outcome,
                coalesce(lease_expires_at <= $2::timestamptz, true) AS lease_expired
           FROM idempotency_records WHERE scope = $1 FOR UPDATE`,
        [input.scope, now],
      );
      if (row === undefined) return null;
      if (row.fingerprint !== input.fingerprint) return { kind: 'mismatch' };
      if (row.state === 'completed') return { kind: 'replay', outcome: row.outcome };
      if (row.state === 'in_progress' && !row.lease_expired) return { kind: 'in_progress' };
      await tx.query(
        `UPDATE idempotency_records
            SET state = 'in_progress', holder = $4, lease_expires_at = $2::timestamptz, updated_at = $3::timestamptz
          WHERE scope = $1`,
        [input.scope, leaseExpiresAt, now, input.requestId],
      );
      return { kind: 'resumed', requestId: row.request_id };
    });
    if (found !== null) return found;
  }
  throw new Error(`Idempotency record ${input.scope} kept disappearing while it was being read.`);
}

export async function completeIdempotent(client: SqlClient, input: CompleteIdempotentInput): Promise<boolean> {
  // Passed as text and cast: both drivers then store exactly JSON.stringify's output.
  const updated = await client.query(
    `UPDATE idempotency_records
        SET state = 'completed', outcome = $2::json, refund_id = $3, holder = NULL, lease_expires_at = NULL,
            updated_at = $4::timestamptz
      WHERE scope = $1 AND state = 'in_progress' AND holder = $5
      RETURNING 1`,
    [input.scope, JSON.stringify(input.outcome ?? null), input.refundId, isoTime(input.now), input.holder],
  );
  return updated.length > 0;
}

export async function releaseIdempotent(client: SqlClient, scope: string, holder: string): Promise<void> {
  // Only the attempt holding the record can release it: a completed record keeps replaying its answer, and a record
  // another attempt took over stays with that attempt.
  await client.query(
    `UPDATE idempotency_records
        SET state = 'open', holder = NULL, lease_expires_at = NULL, updated_at = now()
      WHERE scope = $1 AND state = 'in_progress' AND holder = $2`,
    [scope, holder],
  );
}

export async function pruneIdempotency(client: SqlClient, before: Date): Promise<number> {
  const [row] = await client.query<{ deleted: unknown }>(
    `WITH deleted AS (DELETE FROM idempotency_records WHERE created_at < $1::timestamptz AND state = 'completed' RETURNING 1)
     SELECT count(*) AS deleted FROM deleted`,
    [isoTime(before)],
  );
  return row === undefined ? 0 : toNumber(row.deleted);
}
