// Refund batches' SQL on PostgreSQL: each change to an item moves its batch's counts, and ends the batch, in one statement.
import { BATCH_COLUMNS, ITEM_COLUMNS } from '../batch-rows.js';

/** The batch row `alias` as its domain JSON (what toBatch makes), for the completion event. */
const batchJson = (alias: string): string => `json_build_object(
    'id', ${alias}.id, 'status', ${alias}.status,
    'counts', json_build_object('total', ${alias}.total, 'pending', ${alias}.pending, 'refunded', ${alias}.refunded,
      'refused', ${alias}.refused, 'awaiting_approval', ${alias}.awaiting_approval, 'failed', ${alias}.failed,
      'canceled', ${alias}.canceled),
    'requestedBy', ${alias}.requested_by, 'created', ${alias}.created, 'completedAt', ${alias}.completed_at)`;

/**
 * The refund_batch.completed event of the batch the CTE `batch` returned, written only when this very statement ended
 * it: the batch's completed_event_id is then this statement's event id (`eventId`, a parameter).
 */
const completionEvent = (eventId: string, previousStatus: string, at: string): string => `completion AS (
    INSERT INTO events (id, type, owner, object_type, object_id, sequence, object, previous_status, created_at)
    SELECT batch.completed_event_id, 'refund_batch.completed', batch.requested_by, 'refund_batch', batch.id,
           coalesce((SELECT max(sequence) FROM events WHERE object_type = 'refund_batch' AND object_id = batch.id), 0) + 1,
           ${batchJson('batch')}, ${previousStatus}, ${at}::timestamptz
      FROM batch WHERE batch.completed_event_id = ${eventId}::text
  )`;

/**
 * The batch and its items in one statement: thousands of items are two arrays, unnested in the order sent. An id
 * already stored inserts nothing (the caller reads what is there).
 */
export const CREATE_BATCH = `
  WITH batch AS (
    INSERT INTO refund_batches (id, requested_by, status, total, pending, created)
    VALUES ($1, $2, 'queued', $3, $3, $4)
    ON CONFLICT (id) DO NOTHING
    RETURNING id
  ), items AS (
    INSERT INTO refund_batch_items (batch_id, position, item_key, request, status, next_attempt_at)
    SELECT batch.id, t.position - 1, t.item_key, t.request, 'pending', $5::timestamptz
      FROM batch, unnest($6::text[], $7::json[]) WITH ORDINALITY AS t(item_key, request, position)
  )
  SELECT count(*) AS inserted FROM batch`;

export const GET_BATCH = `SELECT ${BATCH_COLUMNS} FROM refund_batches WHERE id = $1`;

/**
 * Due items nobody holds, taken and held in one statement. SKIP LOCKED: two replicas claiming at the same moment take
 * different items instead of queueing on each other (or taking the same one).
 */
export const CLAIM_ITEMS = `
  WITH due AS (
    SELECT batch_id, position FROM refund_batch_items
     WHERE status = 'pending' AND next_attempt_at <= $1::timestamptz AND (lease_until IS NULL OR lease_until <= $1::timestamptz)
     ORDER BY next_attempt_at, batch_id, position
     LIMIT $2
     FOR UPDATE SKIP LOCKED
  ), held AS (
    UPDATE refund_batch_items i SET holder = $3, lease_until = $4::timestamptz, attempts = i.attempts + 1
      FROM due WHERE i.batch_id = due.batch_id AND i.position = due.position
    RETURNING ${ITEM_COLUMNS.split(', ').map((c) => `i.${c}`).join(', ')}
  ), started AS (
    UPDATE refund_batches SET status = 'running' WHERE status = 'queued' AND id IN (SELECT batch_id FROM held)
  )
  SELECT held.*, b.requested_by FROM held JOIN refund_batches b ON b.id = held.batch_id
   ORDER BY held.batch_id, held.position`;

/**
 * The item's answer, if this holder still holds it, with the batch's counts; the last pending item ends the batch
 * (canceled if a cancel came) and writes its event. The batch row's lock makes concurrent settles take turns, and each
 * re-reads the counts the one before it left.
 */
export const SETTLE_ITEM = `
  WITH item AS (
    UPDATE refund_batch_items SET status = $4, outcome = $5::json, holder = NULL, lease_until = NULL
     WHERE batch_id = $1 AND position = $2 AND holder = $3 AND status = 'pending'
    RETURNING batch_id, status
  ), batch AS (
    UPDATE refund_batches b SET
      pending = b.pending - 1,
      refunded = b.refunded + (item.status = 'refunded')::int,
      refused = b.refused + (item.status = 'refused')::int,
      awaiting_approval = b.awaiting_approval + (item.status = 'awaiting_approval')::int,
      failed = b.failed + (item.status = 'failed')::int,
      status = CASE WHEN b.pending > 1 THEN b.status WHEN b.cancel_requested THEN 'canceled' ELSE 'completed' END,
      completed_at = CASE WHEN b.pending > 1 THEN b.completed_at ELSE $6 END,
      completed_event_id = CASE WHEN b.pending > 1 THEN b.completed_event_id ELSE $7 END
      FROM item WHERE b.id = item.batch_id
    RETURNING b.*
  ), ${completionEvent('$7', `'running'`, '$8')}
  SELECT count(*) AS settled FROM item`;

export const RETRY_ITEM = `
  UPDATE refund_batch_items SET holder = NULL, lease_until = NULL, next_attempt_at = $4::timestamptz
   WHERE batch_id = $1 AND position = $2 AND holder = $3 AND status = 'pending'
  RETURNING 1`;

/**
 * Items never run become canceled (one that ran may have reached Stripe: it runs on to its answer), and the batch is
 * marked; with nothing else pending it ends now. A claim racing this takes the item first (its run counts) or after
 * (it is canceled): the item row's lock decides.
 */
export const CANCEL_BATCH = `
  WITH previous AS (
    SELECT status FROM refund_batches WHERE id = $1
  ), canceled AS (
    UPDATE refund_batch_items SET status = 'canceled', outcome = NULL
     WHERE batch_id = $1 AND status = 'pending' AND attempts = 0
    RETURNING 1
  ), counted AS (
    SELECT count(*)::int AS n FROM canceled
  ), batch AS (
    UPDATE refund_batches b SET
      cancel_requested = true,
      pending = b.pending - counted.n,
      canceled = b.canceled + counted.n,
      status = CASE WHEN b.status IN ('completed', 'canceled') OR b.pending > counted.n THEN b.status ELSE 'canceled' END,
      completed_at = CASE WHEN b.status IN ('completed', 'canceled') OR b.pending > counted.n THEN b.completed_at ELSE $2 END,
      completed_event_id = CASE WHEN b.status IN ('completed', 'canceled') OR b.pending > counted.n THEN b.completed_event_id ELSE $3 END
      FROM counted WHERE b.id = $1
    RETURNING b.*
  ), ${completionEvent('$3', '(SELECT status FROM previous)', '$4')}
  SELECT ${BATCH_COLUMNS.split(', ').map((c) => `batch.${c}`).join(', ')} FROM batch`;

export const PRUNE_BATCHES = `
  WITH deleted AS (DELETE FROM refund_batches WHERE completed_at < $1 RETURNING 1)
  SELECT count(*) AS deleted FROM deleted`;
