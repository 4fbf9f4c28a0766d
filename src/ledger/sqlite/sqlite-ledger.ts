// The Ledger port on an embedded SQLite file: one process, synchronous statements, each method one short transaction.
import type Database from 'better-sqlite3';
import type { BeginIdempotentInput, CompleteIdempotentInput, IdempotencyBegin, Ledger } from '../../refunds/ledger.js';
import { InProcessPaymentLocks } from '../../refunds/payment-locks.js';
import type { Refund } from '../../refunds/types.js';
import { decide, type ExistingRecord } from '../idempotency-decision.js';
import { guarded } from '../ledger-errors.js';
import { listIndexedRefunds } from '../refund-list.js';
import { REFUND_COLUMNS, refundParams, toRefund, type RefundRow } from '../refund-rows.js';

/** `$1`, `$2`… in SQL, bound from an array: better-sqlite3 reads `$1` as the named parameter "1". */
const named = (params: readonly unknown[]): Record<string, unknown> => Object.fromEntries(params.map((value, i) => [String(i + 1), value]));

const iso = (date: Date): string => date.toISOString();

/** The index upsert, as on PostgreSQL (see pg-statements.ts for why each clause is there). */
const UPSERT_REFUND = `
  INSERT INTO refunds AS r
    (id, amount, currency, status, charge, payment_intent, reason, failure_reason, metadata, requested_by,
     gateway_request_id, created, recorded_at, updated_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)
  ON CONFLICT (id) DO UPDATE SET
    amount = excluded.amount, currency = excluded.currency, status = excluded.status, charge = excluded.charge,
    payment_intent = excluded.payment_intent, reason = excluded.reason, failure_reason = excluded.failure_reason,
    metadata = excluded.metadata,
    requested_by = coalesce(excluded.requested_by, r.requested_by),
    gateway_request_id = coalesce(excluded.gateway_request_id, r.gateway_request_id),
    updated_at = excluded.updated_at
  WHERE NOT (r.status IN ('succeeded', 'failed', 'canceled') AND excluded.status IN ('pending', 'requires_action'))
    AND (r.amount, r.currency, r.status, r.charge, r.payment_intent, r.reason, r.failure_reason, r.metadata,
         r.requested_by, r.gateway_request_id)
        IS NOT
        (excluded.amount, excluded.currency, excluded.status, excluded.charge, excluded.payment_intent, excluded.reason,
         excluded.failure_reason, excluded.metadata, coalesce(excluded.requested_by, r.requested_by),
         coalesce(excluded.gateway_request_id, r.gateway_request_id))`;

export function createSqliteLedger(db: Database.Database): Ledger {
  const statements = new Map<string, Database.Statement>();
  const prepared = (sql: string): Database.Statement => {
    let statement = statements.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
  const all = <Row>(sql: string, params: readonly unknown[] = []): Row[] => prepared(sql).all(named(params)) as Row[];
  const write = (sql: string, params: readonly unknown[]): number => prepared(sql).run(named(params)).changes;
  const upsert = (refund: Refund, now: Date): void => void write(UPSERT_REFUND, [...refundParams(refund), iso(now)]);

  // Each is synchronous from BEGIN to COMMIT, so nothing else in this process can run in between.
  const begin = db.transaction((input: BeginIdempotentInput): IdempotencyBegin => {
    const lease = iso(new Date(input.now.getTime() + input.leaseMs));
    const [row] = all<ExistingRecord>(
      'SELECT fingerprint, state, request_id, outcome, lease_expires_at FROM idempotency_records WHERE scope = $1',
      [input.scope],
    );
    if (row === undefined) {
      write(
        `INSERT INTO idempotency_records (scope, fingerprint, state, request_id, holder, lease_expires_at, created_at, updated_at)
         VALUES ($1, $2, 'in_progress', $3, $4, $5, $6, $6)`,
        [input.scope, input.fingerprint, input.requestId, input.holder, lease, iso(input.now)],
      );
      return { kind: 'started', requestId: input.requestId };
    }
    const decided = decide(row, input.fingerprint, input.now);
    if (decided !== 'take') return decided;
    write(
      `UPDATE idempotency_records SET state = 'in_progress', holder = $2, lease_expires_at = $3, updated_at = $4 WHERE scope = $1`,
      [input.scope, input.holder, lease, iso(input.now)],
    );
    return { kind: 'resumed', requestId: row.request_id };
  });

  const complete = db.transaction((input: CompleteIdempotentInput): boolean => {
    if (input.refund) upsert(input.refund, input.now);
    return (
      write(
        `UPDATE idempotency_records
            SET state = 'completed', outcome = $2, refund_id = $3, holder = NULL, lease_expires_at = NULL, updated_at = $4
          WHERE scope = $1 AND state = 'in_progress' AND holder = $5`,
        [input.scope, JSON.stringify(input.outcome ?? null), input.refund?.id ?? null, iso(input.now), input.holder],
      ) > 0
    );
  });

  const paymentLocks = new InProcessPaymentLocks();
  return {
    beginIdempotent: (input) => guarded(async () => begin(input)),
    completeIdempotent: (input) => guarded(async () => complete(input)),
    releaseIdempotent: (scope, holder) =>
      guarded(async () => {
        write(
          `UPDATE idempotency_records SET state = 'open', holder = NULL, lease_expires_at = NULL, updated_at = $3
            WHERE scope = $1 AND state = 'in_progress' AND holder = $2`,
          [scope, holder, iso(new Date())],
        );
      }),
    pruneIdempotency: (before) =>
      guarded(async () => write(`DELETE FROM idempotency_records WHERE created_at < $1 AND state = 'completed'`, [iso(before)])),
    recordRefund: (refund, now) => guarded(async () => upsert(refund, now)),
    getIndexedRefund: (id) =>
      guarded(async () => {
        const [row] = all<RefundRow>(`SELECT ${REFUND_COLUMNS} FROM refunds WHERE id = $1`, [id]);
        return row === undefined ? null : toRefund(row);
      }),
    listIndexedRefunds: (query) => guarded(() => listIndexedRefunds(async (sql, params) => all(sql, params), query)),
    paymentLocks,
    ping: () => guarded(async () => void all('SELECT 1')),
    close: async () => {
      if (db.open) db.close();
    },
  };
}
