// The SQL of daily limits and refund requests on PostgreSQL: each change and its event in one statement.
import { REFUND_REQUEST_COLUMNS } from '../refund-request-rows.js';
import { refundChange } from './pg-statements.js';

/**
 * The daily cap in ONE conditional statement. The day's total is upserted only while it stays within the cap: ON
 * CONFLICT DO UPDATE locks the total's row and re-evaluates `reserved + amount <= cap` on its newest version, so two
 * replicas reserving at the same moment take turns on the row and the second sees the first's amount. The reservation
 * row is written only when the total moved; a request that already holds one (a retry: same derived id) adds nothing.
 * (Two attempts of one request never reserve at the same time: both run under the same charge's turn.)
 * $1 id, $2 caller, $3 currency, $4 day, $5 amount, $6 cap, $7 now.
 */
export const RESERVE_DAILY = `
  WITH prior AS (
    SELECT state FROM limit_reservations WHERE id = $1
  ), bumped AS (
    INSERT INTO daily_limit_totals AS t (caller, currency, day, reserved)
    SELECT $2, $3, $4::date, $5::bigint
     WHERE $5::bigint <= $6::bigint AND NOT EXISTS (SELECT 1 FROM prior WHERE state = 'held')
    ON CONFLICT (caller, currency, day) DO UPDATE SET reserved = t.reserved + excluded.reserved
     WHERE t.reserved + excluded.reserved <= $6::bigint
    RETURNING t.reserved
  ), held AS (
    INSERT INTO limit_reservations AS r (id, caller, currency, day, amount, state, created_at, updated_at)
    SELECT $1, $2, $3, $4::date, $5::bigint, 'held', $7::timestamptz, $7::timestamptz FROM bumped
    ON CONFLICT (id) DO UPDATE SET caller = excluded.caller, currency = excluded.currency, day = excluded.day,
      amount = excluded.amount, state = 'held', updated_at = excluded.updated_at
    RETURNING 1
  )
  SELECT EXISTS (SELECT 1 FROM prior WHERE state = 'held') AS already,
         (SELECT count(*) FROM held) AS reserved,
         coalesce((SELECT reserved FROM daily_limit_totals WHERE caller = $2 AND currency = $3 AND day = $4::date), 0) AS used`;

/** Gives a held reservation back to its day's total, both in one statement. $1 id, $2 now. */
export const RELEASE_DAILY = `
  WITH released AS (
    UPDATE limit_reservations SET state = 'released', updated_at = $2::timestamptz WHERE id = $1 AND state = 'held'
    RETURNING caller, currency, day, amount
  ), given_back AS (
    UPDATE daily_limit_totals t SET reserved = t.reserved - released.amount FROM released
     WHERE t.caller = released.caller AND t.currency = released.currency AND t.day = released.day
    RETURNING 1
  )
  SELECT count(*) AS released FROM released`;

export const DAILY_USED = `SELECT reserved FROM daily_limit_totals WHERE caller = $1 AND currency = $2 AND day = $3::date`;

export const PRUNE_DAILY = `
  WITH totals AS (DELETE FROM daily_limit_totals WHERE day < $1::date), reservations AS (
    DELETE FROM limit_reservations WHERE day < $1::date RETURNING 1
  )
  SELECT count(*) AS deleted FROM reservations`;

/** A refund request's event, from the CTE `source` (id, requested_by) that made the change; the sequence rises per request. */
const requestEvent = (type: string, source: string, p: { id: string; object: string; previousStatus: string; at: string }) => `
  INSERT INTO events (id, type, owner, object_type, object_id, sequence, object, previous_status, created_at)
  SELECT ${p.id}::text, '${type}', ${source}.requested_by, 'refund_request', ${source}.id,
         coalesce((SELECT max(sequence) FROM events WHERE object_type = 'refund_request' AND object_id = ${source}.id), 0) + 1,
         ${p.object}::json, ${p.previousStatus}, ${p.at}::timestamptz
    FROM ${source}`;

/** $1 id, $2 request, $3 amount, $4 currency, $5 requested_by, $6 created, $7 expires, $8 event id, $9 event object, $10 now. */
export const CREATE_REFUND_REQUEST = `
  WITH inserted AS (
    INSERT INTO refund_requests (id, status, request, amount, currency, requested_by, created_at, expires_at)
    VALUES ($1, 'awaiting_approval', $2::json, $3, $4, $5, $6::timestamptz, $7::timestamptz)
    ON CONFLICT (id) DO NOTHING
    RETURNING id, requested_by
  ), request_event AS (${requestEvent('refund_request.created', 'inserted', { id: '$8', object: '$9', previousStatus: 'NULL', at: '$10' })}
  )
  SELECT count(*) AS inserted FROM inserted`;

export const GET_REFUND_REQUEST = `SELECT ${REFUND_REQUEST_COLUMNS} FROM refund_requests WHERE id = $1`;

/**
 * A decision on a request that still awaits one and has not expired; a rejection's event in the same statement.
 * $1 id, $2 status, $3 decided_by, $4 note, $5 decided_at, $6 holder, $7 lease_until, $8 now, $9 event id, $10 event object.
 */
export const DECIDE_REFUND_REQUEST = `
  WITH decided AS (
    UPDATE refund_requests
       SET status = $2, decided_by = $3, decision_note = $4, decided_at = $5::timestamptz, holder = $6, lease_until = $7::timestamptz
     WHERE id = $1 AND status = 'awaiting_approval' AND expires_at > $8::timestamptz
    RETURNING id, requested_by, status
  ), rejected AS (
    SELECT id, requested_by FROM decided WHERE status = 'rejected'
  ), request_event AS (${requestEvent('refund_request.rejected', 'rejected', { id: '$9', object: '$10', previousStatus: `'awaiting_approval'`, at: '$8' })}
  )
  SELECT count(*) AS decided FROM decided`;

/** $1 id, $2 holder, $3 lease until, $4 now. */
export const TAKE_SETTLEMENT = `
  UPDATE refund_requests SET holder = $2, lease_until = $3::timestamptz
   WHERE id = $1 AND status = 'approved' AND refund IS NULL AND problem IS NULL
     AND (lease_until IS NULL OR lease_until <= $4::timestamptz)
  RETURNING ${REFUND_REQUEST_COLUMNS}`;

/**
 * The approved refund's outcome, its approval event, and the refund's index row and event, in one statement.
 * $1 id, $2 refund, $3 problem, $4 holder, $5 event id, $6 event object, $7 now; then refundChange's fifteen from $8.
 */
export const SETTLE_REFUND_REQUEST = `
  WITH settled AS (
    UPDATE refund_requests SET refund = $2::json, problem = $3::json, holder = NULL, lease_until = NULL
     WHERE id = $1 AND holder = $4 AND status = 'approved' AND refund IS NULL AND problem IS NULL
    RETURNING id, requested_by
  ), request_event AS (${requestEvent('refund_request.approved', 'settled', { id: '$5', object: '$6', previousStatus: `'awaiting_approval'`, at: '$7' })}
  ), ${refundChange(8, '$8::text IS NOT NULL')}
  SELECT count(*) AS settled FROM settled`;

export const RELEASE_SETTLEMENT = `UPDATE refund_requests SET holder = NULL, lease_until = NULL WHERE id = $1 AND holder = $2`;
