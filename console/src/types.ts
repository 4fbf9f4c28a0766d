// The contract's JSON shapes as the console reads them (v1.1), taken from the generated client's schema where it has them.
// Type-only: the import is erased at build, so none of clients/ reaches the bundle. The schema is regenerated from
// openapi/openapi.json and checked current by a test, so a contract change shows up here as a type error.
import type { components } from '../../clients/typescript/schema.js';

type Schemas = components['schemas'];

export const REFUND_REASONS = ['requested_by_customer', 'duplicate', 'fraudulent'] as const;
export type RefundReason = (typeof REFUND_REASONS)[number];

export const CANCELLATION_REASONS = ['requested_by_customer', 'duplicate', 'fraudulent', 'abandoned'] as const;
export type CancellationReason = (typeof CANCELLATION_REASONS)[number];

export type RefundStatus = Refund['status'];

export interface Problem {
  type?: string;
  title?: string;
  status: number;
  code: string;
  detail: string;
  request_id?: string;
  errors?: { in: string; path: string; message: string }[];
  [field: string]: unknown;
}

export type Refund = Schemas['Refund'];

export type NextStep = Payment['next_step'];

export type Payment = Schemas['Payment'];

export interface Page<T> {
  data: T[];
  has_more: boolean;
}

/** The body of POST /v1/refunds and POST /v1/refunds/preview. */
export interface RefundBody {
  charge?: string;
  payment_intent?: string;
  amount?: number;
  currency?: string;
  reason?: RefundReason;
  metadata?: Record<string, string>;
}

export type Preview = Schemas['RefundPreview'];

export type RefundRequestStatus = RefundRequest['status'];

export type RefundRequest = Schemas['RefundRequest'];

export type BatchStatus = 'queued' | 'running' | 'completed' | 'canceled';
export const BATCH_COUNTS = ['pending', 'refunded', 'refused', 'awaiting_approval', 'failed', 'canceled'] as const;
export type BatchCount = (typeof BATCH_COUNTS)[number];

export interface Batch {
  id: string;
  status: BatchStatus;
  counts: { total: number } & Partial<Record<BatchCount, number>>;
  created: string;
  completed_at: string | null;
  requested_by: string;
}

/** One item of POST /v1/refund-batches: a refund body with its own idempotency key. */
export interface BatchItemInput extends RefundBody {
  key: string;
}

/**
 * One item of GET /v1/refund-batches/{id}/items. The contract names `key`, `status`, the item's `refund`, refund
 * request or `problem`; the request's field name is not spelled out, so both plausible spellings are read.
 */
export interface BatchItem {
  key: string;
  status: BatchCount;
  charge?: string | null;
  payment_intent?: string | null;
  amount?: number | null;
  currency?: string | null;
  refund?: Refund | null;
  refund_request?: RefundRequest | string | null;
  request?: RefundRequest | string | null;
  problem?: Problem | null;
}
