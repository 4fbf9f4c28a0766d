// Refund batches on the embedded SQLite ledger: each change one short synchronous transaction, as on PostgreSQL.
import type Database from 'better-sqlite3';
import type { RefundBatch, RunItemStatus } from '../../refunds/batch.js';
import { newEventId } from '../../refunds/events.js';
import type { ClaimedBatchItem } from '../../refunds/ledger.js';
import {
  BATCH_COLUMNS,
  batchEventObject,
  ITEM_COLUMNS,
  listBatchItems,
  outcomeJson,
  toBatch,
  toBatchItem,
  type BatchItemRow,
  type BatchMethods,
  type BatchRow,
} from '../batch-rows.js';
import { guarded } from '../ledger-errors.js';

/** What the batches need of the SQLite ledger: its connection and its statement helpers ($n parameters). */
export interface SqliteStatements {
  db: Database.Database;
  all<Row>(sql: string, params?: readonly unknown[]): Row[];
  write(sql: string, params: readonly unknown[]): number;
}

const iso = (date: Date): string => date.toISOString();
const seconds = (date: Date): number => Math.floor(date.getTime() / 1000);
const ENDED: readonly string[] = ['completed', 'canceled'];
/** The batch's count each run outcome adds to (a fixed list: column names are never made from input). */
const COUNT_COLUMN: Record<RunItemStatus, string> = { refunded: 'refunded', refused: 'refused', awaiting_approval: 'awaiting_approval', failed: 'failed' };

export function sqliteBatches({ db, all, write }: SqliteStatements): BatchMethods {
  const getBatch = (id: string): RefundBatch | null => {
    const [row] = all<BatchRow>(`SELECT ${BATCH_COLUMNS} FROM refund_batches WHERE id = $1`, [id]);
    return row === undefined ? null : toBatch(row);
  };

  /** The batch's refund_batch.completed event: called inside the transaction that ended it. */
  const completionEvent = (batch: RefundBatch, eventId: string, previousStatus: string, now: Date): void => {
    const [last] = all<{ sequence: number | null }>(`SELECT max(sequence) AS sequence FROM events WHERE object_type = 'refund_batch' AND object_id = $1`, [batch.id]);
    write(
      `INSERT INTO events (id, type, owner, object_type, object_id, sequence, object, previous_status, created_at)
       VALUES ($1, 'refund_batch.completed', $2, 'refund_batch', $3, $4, $5, $6, $7)`,
      [eventId, batch.requestedBy, batch.id, (last?.sequence ?? 0) + 1, batchEventObject(batch), previousStatus, iso(now)],
    );
  };

  /** Ends the batch if nothing is pending any more; returns it as it is now. */
  const endIfDone = (id: string, now: Date): RefundBatch | null => {
    const before = getBatch(id);
    if (before === null || before.counts.pending > 0 || ENDED.includes(before.status)) return before;
    const eventId = newEventId();
    write(
      `UPDATE refund_batches SET status = CASE WHEN cancel_requested = 1 THEN 'canceled' ELSE 'completed' END,
              completed_at = $2, completed_event_id = $3 WHERE id = $1`,
      [id, seconds(now), eventId],
    );
    const after = getBatch(id);
    if (after) completionEvent(after, eventId, before.status, now);
    return after;
  };

  const createBatch = db.transaction((batch: RefundBatch, items: readonly { key: string }[], now: Date): RefundBatch => {
    const inserted = write(
      `INSERT INTO refund_batches (id, requested_by, status, total, pending, created) VALUES ($1, $2, 'queued', $3, $3, $4)
       ON CONFLICT (id) DO NOTHING`,
      [batch.id, batch.requestedBy, items.length, batch.created],
    );
    if (inserted === 0) {
      const stored = getBatch(batch.id);
      if (stored === null) throw new Error(`batch ${batch.id} was neither inserted nor found`);
      return stored;
    }
    const insertItem = db.prepare(
      `INSERT INTO refund_batch_items (batch_id, position, item_key, request, status, next_attempt_at) VALUES (?, ?, ?, ?, 'pending', ?)`,
    );
    const at = iso(now);
    items.forEach(({ key, ...request }, position) => insertItem.run(batch.id, position, key, JSON.stringify(request), at));
    return batch;
  });

  const claim = db.transaction((holder: string, now: Date, limit: number, leaseMs: number): ClaimedBatchItem[] => {
    const due = all<BatchItemRow & { requested_by: string }>(
      `SELECT ${ITEM_COLUMNS.split(', ').map((c) => `i.${c}`).join(', ')}, b.requested_by
         FROM refund_batch_items i JOIN refund_batches b ON b.id = i.batch_id
        WHERE i.status = 'pending' AND i.next_attempt_at <= $1 AND (i.lease_until IS NULL OR i.lease_until <= $1)
        ORDER BY i.next_attempt_at, i.batch_id, i.position LIMIT $2`,
      [iso(now), limit],
    );
    const leaseUntil = iso(new Date(now.getTime() + leaseMs));
    for (const row of due) {
      write('UPDATE refund_batch_items SET holder = $3, lease_until = $4, attempts = attempts + 1 WHERE batch_id = $1 AND position = $2', [
        row.batch_id,
        row.position,
        holder,
        leaseUntil,
      ]);
      write(`UPDATE refund_batches SET status = 'running' WHERE id = $1 AND status = 'queued'`, [row.batch_id]);
    }
    return due.map((row) => ({ ...toBatchItem({ ...row, attempts: Number(row.attempts) + 1 }), requestedBy: row.requested_by }));
  });

  const settle = db.transaction((batchId: string, position: number, holder: string, now: Date, status: RunItemStatus, outcome: string): boolean => {
    const changed = write(
      `UPDATE refund_batch_items SET status = $4, outcome = $5, holder = NULL, lease_until = NULL
        WHERE batch_id = $1 AND position = $2 AND holder = $3 AND status = 'pending'`,
      [batchId, position, holder, status, outcome],
    );
    if (changed === 0) return false;
    const column = COUNT_COLUMN[status];
    write(`UPDATE refund_batches SET pending = pending - 1, ${column} = ${column} + 1 WHERE id = $1`, [batchId]);
    endIfDone(batchId, now);
    return true;
  });

  const cancel = db.transaction((id: string, now: Date): RefundBatch | null => {
    const batch = getBatch(id);
    if (batch === null || ENDED.includes(batch.status)) return batch;
    const canceled = write(`UPDATE refund_batch_items SET status = 'canceled' WHERE batch_id = $1 AND status = 'pending' AND attempts = 0`, [id]);
    write('UPDATE refund_batches SET cancel_requested = 1, pending = pending - $2, canceled = canceled + $2 WHERE id = $1', [id, canceled]);
    return endIfDone(id, now);
  });

  return {
    createBatch: ({ batch, items, now }) => guarded(async () => createBatch(batch, items, now)),
    getBatch: (id) => guarded(async () => getBatch(id)),
    listBatchItems: (query) => guarded(() => listBatchItems(async (sql, params) => all(sql, params), query)),
    claimBatchItems: ({ holder, now, limit, leaseMs }) => guarded(async () => claim(holder, now, limit, leaseMs)),
    settleBatchItem: ({ batchId, position, holder, now, result }) =>
      guarded(async () => settle(batchId, position, holder, now, result.status, outcomeJson(result))),
    retryBatchItem: ({ batchId, position, holder, at }) =>
      guarded(
        async () =>
          write(
            `UPDATE refund_batch_items SET holder = NULL, lease_until = NULL, next_attempt_at = $4
              WHERE batch_id = $1 AND position = $2 AND holder = $3 AND status = 'pending'`,
            [batchId, position, holder, iso(at)],
          ) > 0,
      ),
    cancelBatch: (id, now) => guarded(async () => cancel(id, now)),
    pruneBatches: (before) => guarded(async () => write('DELETE FROM refund_batches WHERE completed_at < $1', [seconds(before)])),
  };
}
