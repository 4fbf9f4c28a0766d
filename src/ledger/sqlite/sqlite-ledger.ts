// The Ledger port on an embedded SQLite file: one process, synchronous statements, each method one short transaction.
import type Database from 'better-sqlite3';
import { newEventId } from '../../refunds/events.js';
import type { BeginIdempotentInput, CompleteIdempotentInput, IdempotencyBegin, JobTake, Ledger, StripeEventRecord } from '../../refunds/ledger.js';
import { InProcessPaymentLocks } from '../../refunds/payment-locks.js';
import type { Refund } from '../../refunds/types.js';
import { EVENT_COLUMNS, listEvents, refundEventObject, toEvent, type EventRow } from '../event-rows.js';
import { decide, type ExistingRecord } from '../idempotency-decision.js';
import { JOB_COLUMNS, toJobState, untaken, type JobRow } from '../job-rows.js';
import { guarded } from '../ledger-errors.js';
import { listIndexedRefunds } from '../refund-list.js';
import { readTime, REFUND_COLUMNS, refundParams, toRefund, type RefundRow } from '../refund-rows.js';
import { sqliteApprovals } from './sqlite-approvals.js';
import { sqliteBatches } from './sqlite-batches.js';

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
    AND NOT (r.status IN ('failed', 'canceled') AND excluded.status <> r.status)
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
  /** The refund into the index and, when it is new or changed, its event: called inside a transaction. */
  const upsert = (refund: Refund, now: Date): void => {
    const [previous] = all<{ status: string }>('SELECT status FROM refunds WHERE id = $1', [refund.id]);
    if (write(UPSERT_REFUND, [...refundParams(refund), iso(now)]) === 0) return;
    const [owner] = all<{ requested_by: string | null }>('SELECT requested_by FROM refunds WHERE id = $1', [refund.id]);
    const [last] = all<{ sequence: number | null }>(`SELECT max(sequence) AS sequence FROM events WHERE object_type = 'refund' AND object_id = $1`, [refund.id]);
    write(
      `INSERT INTO events (id, type, owner, object_type, object_id, sequence, object, previous_status, created_at)
       VALUES ($1, $2, $3, 'refund', $4, $5, $6, $7, $8)`,
      [newEventId(), previous ? 'refund.updated' : 'refund.created', owner?.requested_by ?? null, refund.id, (last?.sequence ?? 0) + 1, refundEventObject(refund), previous?.status ?? null, iso(now)],
    );
  };
  const recordRefund = db.transaction(upsert);

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

  const fanOut = db.transaction((listeners: readonly { caller: string; all: boolean }[], now: Date, limit: number): number => {
    const due = all<{ id: string; owner: string | null }>('SELECT id, owner FROM events WHERE fanned_out = 0 ORDER BY seq LIMIT $1', [limit]);
    let made = 0;
    for (const event of due) {
      for (const listener of listeners) {
        if (!listener.all && listener.caller !== event.owner) continue;
        made += write(
          `INSERT INTO event_deliveries (event_id, caller, state, next_attempt_at, created_at) VALUES ($1, $2, 'pending', $3, $3)
           ON CONFLICT DO NOTHING`,
          [event.id, listener.caller, iso(now)],
        );
      }
      write('UPDATE events SET fanned_out = 1 WHERE id = $1', [event.id]);
    }
    return made;
  });

  const claim = db.transaction((holder: string, now: Date, limit: number, leaseMs: number) => {
    const due = all<EventRow & { caller: string; attempts: number }>(
      `SELECT d.caller, d.attempts, ${EVENT_COLUMNS.split(', ').map((c) => `e.${c}`).join(', ')}
         FROM event_deliveries d JOIN events e ON e.id = d.event_id
        WHERE d.state = 'pending' AND d.next_attempt_at <= $1 AND (d.lease_until IS NULL OR d.lease_until <= $1)
        ORDER BY d.next_attempt_at LIMIT $2`,
      [iso(now), limit],
    );
    for (const row of due) {
      write('UPDATE event_deliveries SET holder = $3, lease_until = $4 WHERE event_id = $1 AND caller = $2', [
        row.id,
        row.caller,
        holder,
        iso(new Date(now.getTime() + leaseMs)),
      ]);
    }
    return due.map((row) => ({ event: toEvent(row), caller: row.caller, attempts: Number(row.attempts) }));
  });

  /** The id stored once and, only if it was new, each refund indexed: one transaction. */
  const applyStripeEvent = db.transaction((event: StripeEventRecord): boolean => {
    const stored = write(
      'INSERT INTO stripe_events (id, type, created, source, received_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING',
      [event.id, event.type, event.created, event.source, iso(event.now)],
    );
    if (stored === 0) return false;
    for (const refund of event.refunds) upsert(refund, event.now);
    return true;
  });

  const takeJob = db.transaction((job: string, holder: string, now: Date, leaseMs: number): JobTake => {
    const params = [job, holder, iso(now), iso(new Date(now.getTime() + leaseMs))];
    let [taken] = all<JobRow>(
      `UPDATE jobs SET holder = $2, lease_until = $4
        WHERE name = $1 AND next_run_at <= $3 AND (holder IS NULL OR holder = $2 OR lease_until <= $3)
       RETURNING ${JOB_COLUMNS}`,
      params,
    );
    taken ??= all<JobRow>(
      `INSERT INTO jobs (name, holder, lease_until, next_run_at, state) VALUES ($1, $2, $4, $3, '{}')
       ON CONFLICT (name) DO NOTHING RETURNING ${JOB_COLUMNS}`,
      params,
    )[0];
    if (taken) return { kind: 'taken', job: toJobState(taken) };
    const [row] = all<JobRow>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE name = $1`, [job]);
    return row ? { kind: untaken(row, now), job: toJobState(row) } : { kind: 'busy', job: { state: {}, lastSuccessAt: null, nextRunAt: now, holder: null } };
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
    recordRefund: (refund, now) => guarded(async () => recordRefund(refund, now)),
    getIndexedRefund: (id) =>
      guarded(async () => {
        const [row] = all<RefundRow>(`SELECT ${REFUND_COLUMNS} FROM refunds WHERE id = $1`, [id]);
        return row === undefined ? null : toRefund(row);
      }),
    listIndexedRefunds: (query) => guarded(() => listIndexedRefunds(async (sql, params) => all(sql, params), query)),
    hasStripeEvent: (id) => guarded(async () => all('SELECT 1 FROM stripe_events WHERE id = $1', [id]).length > 0),
    applyStripeEvent: (event) => guarded(async () => applyStripeEvent(event)),
    pruneStripeEvents: (before) => guarded(async () => write('DELETE FROM stripe_events WHERE received_at < $1', [iso(before)])),
    listUnsettledRefunds: ({ before, limit }) =>
      guarded(async () =>
        all<RefundRow>(
          `SELECT ${REFUND_COLUMNS} FROM refunds
            WHERE status IN ('pending', 'requires_action') AND coalesce(checked_at, updated_at) < $1
            ORDER BY coalesce(checked_at, updated_at) LIMIT $2`,
          [iso(before), limit],
        ).map(toRefund),
      ),
    markRefundsChecked: (ids, now) =>
      guarded(async () => {
        write('UPDATE refunds SET checked_at = $2 WHERE id IN (SELECT value FROM json_each($1))', [JSON.stringify(ids), iso(now)]);
      }),
    takeJob: ({ job, holder, now, leaseMs }) => guarded(async () => takeJob(job, holder, now, leaseMs)),
    saveJob: ({ job, holder, now, leaseMs, state }) =>
      guarded(async () =>
        write('UPDATE jobs SET state = $3, lease_until = $4 WHERE name = $1 AND holder = $2', [job, holder, JSON.stringify(state), iso(new Date(now.getTime() + leaseMs))]) > 0,
      ),
    finishJob: ({ job, holder, now, nextRunAt, succeeded, state }) =>
      guarded(async () =>
        write(
          `UPDATE jobs SET holder = NULL, lease_until = NULL, next_run_at = $3,
                  state = CASE WHEN $5 = 1 THEN coalesce($4, state) ELSE state END,
                  last_success_at = CASE WHEN $5 = 1 THEN $6 ELSE last_success_at END
            WHERE name = $1 AND holder = $2`,
          [job, holder, iso(nextRunAt), state === undefined ? null : JSON.stringify(state), succeeded ? 1 : 0, iso(now)],
        ) > 0,
      ),
    jobStatus: (job) =>
      guarded(async () => {
        const [row] = all<JobRow>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE name = $1`, [job]);
        return row ? toJobState(row) : null;
      }),
    listEvents: (query) => guarded(() => listEvents(async (sql, params) => all(sql, params), query)),
    fanOutEvents: ({ listeners, now, limit }) => guarded(async () => fanOut(listeners, now, limit)),
    claimDeliveries: ({ holder, now, limit, leaseMs }) => guarded(async () => claim(holder, now, limit, leaseMs)),
    settleDelivery: ({ eventId, caller, holder, now, result }) =>
      guarded(async () => {
        write(
          `UPDATE event_deliveries
              SET state = $4, attempts = attempts + 1, next_attempt_at = coalesce($5, next_attempt_at), last_error = $6,
                  delivered_at = CASE WHEN $4 = 'delivered' THEN $7 END, holder = NULL, lease_until = NULL
            WHERE event_id = $1 AND caller = $2 AND holder = $3`,
          [eventId, caller, holder, result.kind === 'retry' ? 'pending' : result.kind, result.kind === 'retry' ? iso(result.at) : null, result.kind === 'delivered' ? null : result.error, iso(now)],
        );
      }),
    deliveryBacklog: (now) =>
      guarded(async () => {
        const [row] = all<{ pending: number; oldest: string | null }>(`SELECT count(*) AS pending, min(created_at) AS oldest FROM event_deliveries WHERE state = 'pending'`);
        const oldest = row?.oldest ? readTime(row.oldest) : null;
        return { pending: Number(row?.pending ?? 0), oldestPendingSeconds: oldest ? Math.max(0, (now.getTime() - oldest.getTime()) / 1000) : null };
      }),
    ...sqliteApprovals({ db, all, write, upsertRefund: upsert }),
    heartbeat: async () => 1,
    ...sqliteBatches({ db, all, write }),
    paymentLocks,
    ping: () => guarded(async () => void all('SELECT 1')),
    close: async () => {
      if (db.open) db.close();
    },
  };
}
