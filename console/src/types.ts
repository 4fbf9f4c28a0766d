// The contract's JSON shapes as the console reads them (../shared/api-contract.md, v1.1); the console is a /v1 client.

export const REFUND_REASONS = ['requested_by_customer', 'duplicate', 'fraudulent'] as const;
export type RefundReason = (typeof REFUND_REASONS)[number];

export const CANCELLATION_REASONS = ['requested_by_customer', 'duplicate', 'fraudulent', 'abandoned'] as const;
export type CancellationReason = (typeof CANCELLATION_REASONS)[number];

export type RefundStatus = 'pending' | 'requires_action' | 'succeeded' | 'failed' | 'canceled';

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

export interface Refund {
  id: string;
  amount: number;
  currency: string;
  status: RefundStatus;
  charge: string | null;
  payment_intent: string | null;
  reason: string | null;
  failure_reason: string | null;
  metadata: Record<string, string>;
  requested_by: string | null;
  created: string;
}

export type NextStep = 'refund' | 'cancel' | 'none';

export interface Payment {
  id: string;
  type: 'payment_intent' | 'charge';
  status: string;
  amount: number;
  amount_captured: number;
  amount_refunded: number;
  refundable_amount: number;
  currency: string;
  charge: string | null;
  payment_intent: string | null;
  refundable: boolean;
  cancelable: boolean;
  next_step: NextStep;
  refunds: Refund[];
  has_more_refunds: boolean;
}

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

export interface Preview {
  would: 'refund' | 'request_approval' | 'refuse';
  amount: number;
  currency: string;
  refundable_amount: number;
  refundable_amount_after: number;
  charge: string;
  payment_intent: string | null;
  problem: Problem | null;
}

export type RefundRequestStatus = 'awaiting_approval' | 'approved' | 'rejected' | 'expired';

export interface RefundRequest {
  id: string;
  status: RefundRequestStatus;
  request: RefundBody;
  amount: number;
  currency: string;
  requested_by: string;
  decided_by: string | null;
  decision_note: string | null;
  refund: Refund | null;
  problem: Problem | null;
  created: string;
  decided_at: string | null;
  expires_at: string;
}

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
