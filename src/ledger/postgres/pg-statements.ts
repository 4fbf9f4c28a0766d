// The ledger's SQL on PostgreSQL, each written so the refund path costs as few round trips as it can.

/**
 * Upsert of one refund into the index, its parameters starting at `$first` (the twelve of refundParams, then the
 * time). Webhooks arrive twice and out of order, so an update that would move a final refund back to pending or
 * requires_action is stale and skipped whole; final → other final is real (Stripe fails a succeeded refund). Who asked
 * is kept even if a later report lacks it, `seq` and `created` never change, and a report that changes nothing writes
 * nothing (reads re-record what they read).
 */
export function refundUpsert(first: number, source = 'VALUES'): string {
  const p = (i: number) => `$${first + i}`;
  // Cast every parameter: in the INSERT … SELECT form PostgreSQL would otherwise read them all as text.
  const types = ['text', 'bigint', 'text', 'text', 'text', 'text', 'text', 'text', 'jsonb', 'text', 'text', 'bigint', 'timestamptz'];
  const values = `(${[...types, 'timestamptz'].map((type, i) => `${p(Math.min(i, 12))}::${type}`).join(', ')})`;
  return `INSERT INTO refunds AS r
       (id, amount, currency, status, charge, payment_intent, reason, failure_reason, metadata, requested_by,
        gateway_request_id, created, recorded_at, updated_at)
     ${source === 'VALUES' ? `VALUES ${values}` : `SELECT ${values.slice(1, -1)} WHERE ${source}`}
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
           IS DISTINCT FROM
           (excluded.amount, excluded.currency, excluded.status, excluded.charge, excluded.payment_intent, excluded.reason,
            excluded.failure_reason, excluded.metadata, coalesce(excluded.requested_by, r.requested_by),
            coalesce(excluded.gateway_request_id, r.gateway_request_id))`;
}

/**
 * A new key is inserted and, in the same statement, an existing record is read: the common case (a new refund) and a
 * replay each cost one statement. A row inserted by a concurrent statement after this one's snapshot is in neither
 * half; the caller then asks again.
 */
export const BEGIN_RECORD = `
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
    FROM idempotency_records WHERE scope = $1 AND NOT EXISTS (SELECT 1 FROM inserted)`;

/** Takes over a released record or one whose lease ran out; PostgreSQL re-checks the WHERE on the locked row. */
export const TAKE_RECORD = `
  UPDATE idempotency_records
     SET state = 'in_progress', holder = $3, lease_expires_at = $4::timestamptz, updated_at = $5::timestamptz
   WHERE scope = $1 AND fingerprint = $2
     AND (state = 'open' OR (state = 'in_progress' AND lease_expires_at <= $5::timestamptz))
  RETURNING request_id`;

/** Completes the record (if this attempt still holds it) and indexes the refund, in one statement. */
export const COMPLETE_RECORD = `
  WITH completed AS (
    UPDATE idempotency_records
       SET state = 'completed', outcome = $2::json, refund_id = $3, holder = NULL, lease_expires_at = NULL,
           updated_at = $4::timestamptz
     WHERE scope = $1 AND state = 'in_progress' AND holder = $5
    RETURNING 1
  ), indexed AS (
    ${refundUpsert(6, '$6::text IS NOT NULL')}
  )
  SELECT count(*) AS completed FROM completed`;

export const RELEASE_RECORD = `
  UPDATE idempotency_records
     SET state = 'open', holder = NULL, lease_expires_at = NULL, updated_at = now()
   WHERE scope = $1 AND state = 'in_progress' AND holder = $2`;

export const PRUNE_RECORDS = `
  WITH deleted AS (DELETE FROM idempotency_records WHERE created_at < $1::timestamptz AND state = 'completed' RETURNING 1)
  SELECT count(*) AS deleted FROM deleted`;
