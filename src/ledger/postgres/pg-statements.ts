// The ledger's SQL on PostgreSQL, each written so the refund path costs as few round trips as it can.
import { REFUND_COLUMNS } from '../refund-rows.js';

/**
 * The CTEs that write one refund into the index and, if it is new or changed, its event — one statement, so the change
 * and the news of it are never apart. Parameters start at `$first`: the twelve of refundParams, the time, the event's
 * id, and the refund as JSON. `guard` (SQL) skips the
 * whole write when false. Webhooks arrive twice and out of order, so an update that would move a final refund back to
 * pending or requires_action is stale and skipped whole; succeeded → failed is real (Stripe fails a succeeded refund),
 * but nothing leaves failed or canceled at Stripe, so a report of another status for one of those is older news.
 * Who asked is kept even if a later report lacks it, `seq` and `created` never change, and a report that changes
 * nothing writes nothing (reads re-record what they read). Two writers racing on one refund collide on the event's
 * (object, sequence) and the loser runs again.
 */
export function refundChange(first: number, guard = 'true'): string {
  const p = (i: number) => `$${first + i}`;
  // Cast every parameter: in the INSERT … SELECT form PostgreSQL would otherwise read them all as text.
  const types = ['text', 'bigint', 'text', 'text', 'text', 'text', 'text', 'text', 'jsonb', 'text', 'text', 'bigint', 'timestamptz'];
  const values = [...types, 'timestamptz'].map((type, i) => `${p(Math.min(i, 12))}::${type}`).join(', ');
  return `previous AS (
    SELECT status FROM refunds WHERE id = ${p(0)}::text
  ), indexed AS (
    INSERT INTO refunds AS r
         (id, amount, currency, status, charge, payment_intent, reason, failure_reason, metadata, requested_by,
          gateway_request_id, created, recorded_at, updated_at)
       SELECT ${values} WHERE ${guard}
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
             IS DISTINCT FROM
             (excluded.amount, excluded.currency, excluded.status, excluded.charge, excluded.payment_intent, excluded.reason,
              excluded.failure_reason, excluded.metadata, coalesce(excluded.requested_by, r.requested_by),
              coalesce(excluded.gateway_request_id, r.gateway_request_id))
    RETURNING id, requested_by
  ), event AS (
    INSERT INTO events (id, type, owner, object_type, object_id, sequence, object, previous_status, created_at)
    SELECT ${p(13)}::text, CASE WHEN previous.status IS NULL THEN 'refund.created' ELSE 'refund.updated' END,
           indexed.requested_by, 'refund', indexed.id,
           coalesce((SELECT max(sequence) FROM events WHERE object_type = 'refund' AND object_id = indexed.id), 0) + 1,
           ${p(14)}::json, previous.status, ${p(12)}::timestamptz
      FROM indexed LEFT JOIN previous ON true
    RETURNING id
  )`;
}

/** How many parameters refundChange takes: the refund's twelve, the time, the event's id, the refund as stored. */
export const REFUND_CHANGE_PARAMS = 15;

/**
 * A statement of the refund path, sent as a named prepared statement: PostgreSQL parses and plans it once per
 * connection instead of on every refund (these CTEs cost it more to plan than to run). Still one round trip each.
 */
export interface NamedStatement {
  readonly name: string;
  readonly text: string;
}

export const RECORD_REFUND = `WITH ${refundChange(1)} SELECT count(*) AS changed FROM indexed`;

/**
 * A new key is inserted and, in the same statement, an existing record is read: the common case (a new refund) and a
 * replay each cost one statement. A row inserted by a concurrent statement after this one's snapshot is in neither
 * half; the caller then asks again.
 */
export const BEGIN_RECORD: NamedStatement = {
  name: 'ledger_begin_record',
  text: `
  WITH inserted AS (
    INSERT INTO idempotency_records
      (scope, fingerprint, state, request_id, holder, lease_expires_at, created_at, updated_at)
    VALUES ($1, $2, 'in_progress', $3, $4, $5::timestamptz, $6::timestamptz, $6::timestamptz)
    ON CONFLICT (scope) DO NOTHING
    RETURNING request_id
  )
  SELECT true AS inserted, request_id, NULL::text AS fingerprint, NULL::text AS state, NULL::json AS outcome,
         NULL::timestamptz AS lease_expires_at
    FROM inserted
  UNION ALL
  SELECT false, request_id, fingerprint, state, outcome, lease_expires_at
    FROM idempotency_records WHERE scope = $1 AND NOT EXISTS (SELECT 1 FROM inserted)`,
};

/** Takes over a released record or one whose lease ran out; PostgreSQL re-checks the WHERE on the locked row. */
export const TAKE_RECORD = `
  UPDATE idempotency_records
     SET state = 'in_progress', holder = $3, lease_expires_at = $4::timestamptz, updated_at = $5::timestamptz
   WHERE scope = $1 AND fingerprint = $2
     AND (state = 'open' OR (state = 'in_progress' AND lease_expires_at <= $5::timestamptz))
  RETURNING request_id`;

/** Completes the record (if this attempt still holds it) and indexes the refund with its event, in one statement. */
export const COMPLETE_RECORD: NamedStatement = {
  name: 'ledger_complete_record',
  text: `
  WITH completed AS (
    UPDATE idempotency_records
       SET state = 'completed', outcome = $2::json, refund_id = $3, holder = NULL, lease_expires_at = NULL,
           updated_at = $4::timestamptz
     WHERE scope = $1 AND state = 'in_progress' AND holder = $5
    RETURNING 1
  ), ${refundChange(6, '$6::text IS NOT NULL')}
  SELECT (SELECT count(*) FROM completed) AS completed`,
};

export const RELEASE_RECORD = `
  UPDATE idempotency_records
     SET state = 'open', holder = NULL, lease_expires_at = NULL, updated_at = now()
   WHERE scope = $1 AND state = 'in_progress' AND holder = $2`;

export const PRUNE_RECORDS = `
  WITH deleted AS (DELETE FROM idempotency_records WHERE created_at < $1::timestamptz AND state = 'completed' RETURNING 1)
  SELECT count(*) AS deleted FROM deleted`;

/**
 * Due deliveries nobody holds, taken and held in one statement. SKIP LOCKED: two replicas claiming at the same moment
 * take different rows instead of queueing on each other.
 */
/**
 * Makes the deliveries of events not yet fanned out, one per listening caller ($2 callers, $3 whether each listens
 * to every refund), and marks those events, in one statement. SKIP LOCKED: two replicas take different events; an
 * event whose transaction has not committed is not seen yet, and is taken once it has.
 */
export const FAN_OUT = `
  WITH due AS (
    SELECT id, owner FROM events WHERE NOT fanned_out ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED
  ), made AS (
    INSERT INTO event_deliveries (event_id, caller, state, next_attempt_at, created_at)
    SELECT due.id, listener.caller, 'pending', $4::timestamptz, $4::timestamptz
      FROM due JOIN unnest($2::text[], $3::boolean[]) AS listener (caller, every) ON listener.every OR due.owner = listener.caller
    ON CONFLICT DO NOTHING
    RETURNING 1
  ), marked AS (
    UPDATE events SET fanned_out = true FROM due WHERE events.id = due.id
  )
  SELECT count(*) AS made FROM made`;

export const CLAIM_DELIVERIES = `
  WITH due AS (
    SELECT event_id, caller FROM event_deliveries
     WHERE state = 'pending' AND next_attempt_at <= $1::timestamptz AND (lease_until IS NULL OR lease_until <= $1::timestamptz)
     ORDER BY next_attempt_at
     LIMIT $2
     FOR UPDATE SKIP LOCKED
  ), held AS (
    UPDATE event_deliveries d SET holder = $3, lease_until = $4::timestamptz
      FROM due WHERE d.event_id = due.event_id AND d.caller = due.caller
    RETURNING d.event_id, d.caller, d.attempts
  )
  SELECT held.caller, held.attempts, e.seq, e.id, e.type, e.owner, e.object_type, e.object_id, e.sequence, e.object,
         e.previous_status, e.created_at
    FROM held JOIN events e ON e.id = held.event_id`;

export const SETTLE_DELIVERY = `
  UPDATE event_deliveries
     SET state = $4, attempts = attempts + 1, next_attempt_at = coalesce($5::timestamptz, next_attempt_at),
         last_error = $6, delivered_at = CASE WHEN $4 = 'delivered' THEN $7::timestamptz END, holder = NULL, lease_until = NULL
   WHERE event_id = $1 AND caller = $2 AND holder = $3`;

export const DELIVERY_BACKLOG = `
  SELECT count(*) AS pending, min(created_at) AS oldest FROM event_deliveries WHERE state = 'pending'`;

/** Marks this replica alive, forgets replicas gone quiet, and counts the rest, in one statement. */
export const HEARTBEAT = `
  WITH seen AS (
    INSERT INTO gateway_replicas (id, seen_at) VALUES ($1, $2::timestamptz)
    ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at
  ), gone AS (
    DELETE FROM gateway_replicas WHERE seen_at < $3::timestamptz AND id <> $1
  )
  SELECT count(*) + 1 AS replicas FROM gateway_replicas WHERE seen_at >= $3::timestamptz AND id <> $1`;
/** A Stripe event's id, stored once: parameters id, type, created, source, time. */
const STORED_EVENT = `INSERT INTO stripe_events (id, type, created, source, received_at) VALUES ($1, $2, $3, $4, $5::timestamptz)
    ON CONFLICT (id) DO NOTHING RETURNING id`;

export const STORE_STRIPE_EVENT = `WITH stored AS (${STORED_EVENT}) SELECT count(*) AS stored FROM stored`;

/**
 * The common case, a webhook about one refund, in one statement: the event id is stored and the refund indexed only
 * if the id is new (a redelivery writes nothing). Parameters: the event's five, then refundChange's fifteen.
 */
export const STORE_STRIPE_EVENT_WITH_REFUND = `
  WITH stored AS (${STORED_EVENT}), ${refundChange(6, 'EXISTS (SELECT 1 FROM stored)')}
  SELECT (SELECT count(*) FROM stored) AS stored`;

export const HAS_STRIPE_EVENT = 'SELECT 1 FROM stripe_events WHERE id = $1';

export const PRUNE_STRIPE_EVENTS = `
  WITH deleted AS (DELETE FROM stripe_events WHERE received_at < $1::timestamptz RETURNING 1) SELECT count(*) AS deleted FROM deleted`;

/** The partial index refunds_unsettled_idx serves this: only non-final refunds are in it. */
export const UNSETTLED_REFUNDS = `
  SELECT ${REFUND_COLUMNS} FROM refunds
   WHERE status IN ('pending', 'requires_action') AND coalesce(checked_at, updated_at) < $1::timestamptz
   ORDER BY coalesce(checked_at, updated_at) LIMIT $2`;

export const MARK_CHECKED = 'UPDATE refunds SET checked_at = $2::timestamptz WHERE id = ANY($1::text[])';

/**
 * Takes a due job whose lease is free or ran out. Two replicas at the same moment: the second waits on the row lock,
 * then re-checks the WHERE against the first one's write and takes nothing.
 */
export const TAKE_JOB = `
  UPDATE jobs SET holder = $2, lease_until = $4::timestamptz
   WHERE name = $1 AND next_run_at <= $3::timestamptz AND (holder IS NULL OR holder = $2 OR lease_until <= $3::timestamptz)
  RETURNING holder, lease_until, next_run_at, state, last_success_at`;

/** A job's first run: its row is made already held. */
export const FIRST_JOB = `
  INSERT INTO jobs (name, holder, lease_until, next_run_at, state) VALUES ($1, $2, $4::timestamptz, $3::timestamptz, '{}')
  ON CONFLICT (name) DO NOTHING
  RETURNING holder, lease_until, next_run_at, state, last_success_at`;

export const SAVE_JOB = `UPDATE jobs SET state = $3::json, lease_until = $4::timestamptz WHERE name = $1 AND holder = $2 RETURNING 1`;

export const FINISH_JOB = `
  UPDATE jobs SET holder = NULL, lease_until = NULL, next_run_at = $3::timestamptz,
         state = CASE WHEN $5::boolean THEN coalesce($4::json, state) ELSE state END,
         last_success_at = CASE WHEN $5::boolean THEN $6::timestamptz ELSE last_success_at END
   WHERE name = $1 AND holder = $2
  RETURNING 1`;

export const JOB_STATUS = 'SELECT holder, lease_until, next_run_at, state, last_success_at FROM jobs WHERE name = $1';
