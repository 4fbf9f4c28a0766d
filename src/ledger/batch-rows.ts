// Refund batches' rows as both backends return them, their stored outcomes, and the items list written once for both.
import type { BatchItem, BatchItemQuery, BatchItemStatus, BatchStatus, ItemProblem, ItemResult, RefundBatch } from '../refunds/batch.js';
import { GatewayError } from '../refunds/gateway-error.js';
import type { Ledger } from '../refunds/ledger.js';
import type { RefundRequest } from '../refunds/refund-request.js';
import type { Page, Refund } from '../refunds/types.js';
import type { RunQuery } from './refund-list.js';
import { readJson } from './refund-rows.js';

/** The Ledger's batch methods, which each backend implements in a module of its own. */
export type BatchMethods = Pick<
  Ledger,
  'createBatch' | 'getBatch' | 'listBatchItems' | 'claimBatchItems' | 'settleBatchItem' | 'retryBatchItem' | 'cancelBatch' | 'pruneBatches'
>;

export interface BatchRow {
  id: string;
  requested_by: string;
  status: BatchStatus;
  total: number | string;
  pending: number | string;
  refunded: number | string;
  refused: number | string;
  awaiting_approval: number | string;
  failed: number | string;
  canceled: number | string;
  created: number | string;
  completed_at: number | string | null;
}

export const BATCH_COLUMNS = 'id, requested_by, status, total, pending, refunded, refused, awaiting_approval, failed, canceled, created, completed_at';

export const toBatch = (row: BatchRow): RefundBatch => ({
  id: row.id,
  status: row.status,
  counts: {
    total: Number(row.total),
    pending: Number(row.pending),
    refunded: Number(row.refunded),
    refused: Number(row.refused),
    awaiting_approval: Number(row.awaiting_approval),
    failed: Number(row.failed),
    canceled: Number(row.canceled),
  },
  requestedBy: row.requested_by,
  created: Number(row.created),
  completedAt: row.completed_at === null ? null : Number(row.completed_at),
});

/** A batch's event payload as stored: the domain batch itself. */
export const batchEventObject = (batch: RefundBatch): string => JSON.stringify(batch);

interface StoredOutcome {
  refund?: Refund;
  refund_request?: RefundRequest;
  problem?: ItemProblem;
}

export const outcomeJson = (result: ItemResult): string =>
  JSON.stringify(
    result.status === 'refunded'
      ? { refund: result.refund }
      : result.status === 'awaiting_approval'
        ? { refund_request: result.refundRequest }
        : { problem: result.problem },
  );

export interface BatchItemRow {
  batch_id: string;
  position: number | string;
  item_key: string;
  request: unknown;
  status: BatchItemStatus;
  attempts: number | string;
  outcome: unknown;
}

export const ITEM_COLUMNS = 'batch_id, position, item_key, request, status, attempts, outcome';

export function toBatchItem(row: BatchItemRow): BatchItem {
  const outcome = row.outcome === null ? {} : readJson<StoredOutcome>(row.outcome);
  return {
    batchId: row.batch_id,
    position: Number(row.position),
    key: row.item_key,
    request: readJson(row.request),
    status: row.status,
    refund: outcome.refund ?? null,
    refundRequest: outcome.refund_request ?? null,
    problem: outcome.problem ?? null,
    attempts: Number(row.attempts),
  };
}

export async function listBatchItems(run: RunQuery, query: BatchItemQuery): Promise<Page<BatchItem>> {
  const params: unknown[] = [query.batchId];
  const param = (value: unknown): string => `$${params.push(value)}`;
  const where = ['batch_id = $1'];
  if (query.status !== undefined) where.push(`status = ${param(query.status)}`);
  if (query.startingAfter !== undefined) {
    const [cursor] = await run<{ position: number | string }>('SELECT position FROM refund_batch_items WHERE batch_id = $1 AND item_key = $2', [
      query.batchId,
      query.startingAfter,
    ]);
    if (cursor === undefined) {
      throw new GatewayError('validation_error', `No item ${query.startingAfter} in batch ${query.batchId} to start after.`, {
        fields: { errors: [{ in: 'query', path: '/starting_after', message: `Unknown item key ${query.startingAfter}.` }] },
      });
    }
    where.push(`position > ${param(Number(cursor.position))}`);
  }
  // One more than asked tells whether another page exists.
  const limit = param(query.limit + 1);
  const rows = await run<BatchItemRow>(
    `SELECT ${ITEM_COLUMNS} FROM refund_batch_items WHERE ${where.join(' AND ')} ORDER BY position LIMIT ${limit}`,
    params,
  );
  return { data: rows.slice(0, query.limit).map(toBatchItem), hasMore: rows.length > query.limit };
}
