// Refund batches: many refunds sent as one job, each item run through the refund path with its own key.
import { createHash } from 'node:crypto';
import type { ErrorCode, ErrorFields } from './gateway-error.js';
import type { RefundRequest } from './refund-request.js';
import type { CreateRefundRequest } from './refund-service.js';
import type { Refund } from './types.js';

export const BATCH_STATUSES = ['queued', 'running', 'completed', 'canceled'] as const;
export type BatchStatus = (typeof BATCH_STATUSES)[number];

/** `pending` until an item has its final answer (running, or waiting to be retried, included). */
export const BATCH_ITEM_STATUSES = ['pending', 'refunded', 'refused', 'awaiting_approval', 'failed', 'canceled'] as const;
export type BatchItemStatus = (typeof BATCH_ITEM_STATUSES)[number];
/** What an item ends as once it ran; `canceled` comes only from a cancel, never from a run. */
export type RunItemStatus = Exclude<BatchItemStatus, 'pending' | 'canceled'>;

/** The most items one batch holds (contract v1.1). */
export const MAX_BATCH_ITEMS = 10_000;

/** The route an item's key is scoped to (with the batch's caller): across batches, one key is one refund. */
export const BATCH_ITEM_ROUTE = 'POST /v1/refund-batches/{id}/items';
/** The route of the batch's own Idempotency-Key. */
export const BATCH_ROUTE = 'POST /v1/refund-batches';

export type BatchCounts = { total: number } & Record<BatchItemStatus, number>;

/** Times are unix seconds, like a Refund's `created`, so the object survives JSON (stored answers, events) unchanged. */
export interface RefundBatch {
  id: string;
  status: BatchStatus;
  counts: BatchCounts;
  requestedBy: string;
  created: number;
  /** When its last item ended (completed, or canceled with nothing left running). */
  completedAt: number | null;
}

/** A refusal or failure kept as data, replayed as the same problem+json. */
export interface ItemProblem {
  code: ErrorCode;
  detail: string;
  fields: ErrorFields;
  /** The request id it was first given with. */
  requestId: string;
}

/** One item as sent: a refund body with its own idempotency key. */
export interface BatchItemInput extends CreateRefundRequest {
  key: string;
}

export interface BatchItem {
  batchId: string;
  /** Its place in the batch as sent, from 0. */
  position: number;
  key: string;
  request: CreateRefundRequest;
  status: BatchItemStatus;
  refund: Refund | null;
  /** The refund request an item above the caller's approval threshold became, as it was when the item ended. */
  refundRequest: RefundRequest | null;
  problem: ItemProblem | null;
  /** Runs started so far (a crash mid-run counts). */
  attempts: number;
}

export interface BatchItemQuery {
  batchId: string;
  status?: BatchItemStatus;
  limit: number;
  /** An item key: the page after it, in the order sent. */
  startingAfter?: string;
}

/** What an item's run ended with, as stored. */
export type ItemResult =
  | { status: 'refunded'; refund: Refund }
  | { status: 'awaiting_approval'; refundRequest: RefundRequest }
  | { status: 'refused' | 'failed'; problem: ItemProblem };

/**
 * `rb_` and 24 hex digits, derived from the batch request's derived id: every attempt of one POST (a retry after a
 * crash included) names the same batch, so the batch is stored once.
 */
export const batchIdOf = (gatewayRequestId: string): string =>
  `rb_${createHash('sha256').update(`refund_batch\n${gatewayRequestId}`).digest('hex').slice(0, 24)}`;

/** The request id an item's problems are given with: the batch and the item's place in it. */
export const itemRequestId = (batchId: string, position: number): string => `${batchId}.${position}`;

export const emptyCounts = (total: number): BatchCounts => ({
  total,
  pending: total,
  refunded: 0,
  refused: 0,
  awaiting_approval: 0,
  failed: 0,
  canceled: 0,
});

/** The request of an item without its key: exactly the body POST /v1/refunds would get. */
export function itemRequest(item: BatchItemInput): CreateRefundRequest {
  const { key: _key, ...request } = item;
  return request;
}
