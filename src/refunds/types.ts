// Domain types of the refund gateway: what the rules reason about, free of Stripe's wire vocabulary.

/** Metadata keys the gateway keeps for itself on every refund it makes (callers may not use `gateway_` keys). */
export const GATEWAY_METADATA = { caller: 'gateway_caller', requestId: 'gateway_request_id' } as const;

export const REFUND_STATUSES = ['pending', 'requires_action', 'succeeded', 'failed', 'canceled'] as const;
export type RefundStatus = (typeof REFUND_STATUSES)[number];
export const FINAL_REFUND_STATUSES: readonly RefundStatus[] = ['succeeded', 'failed', 'canceled'];

export const REFUND_REASONS = ['duplicate', 'fraudulent', 'requested_by_customer', 'expired_uncaptured_charge'] as const;
export type RefundReason = (typeof REFUND_REASONS)[number];
/** Reasons a caller may ask for; `expired_uncaptured_charge` is set by Stripe only. */
export const REQUESTABLE_REFUND_REASONS = ['duplicate', 'fraudulent', 'requested_by_customer'] as const;
export type RequestableRefundReason = (typeof REQUESTABLE_REFUND_REASONS)[number];

export const PAYMENT_INTENT_STATUSES = [
  'requires_payment_method',
  'requires_confirmation',
  'requires_action',
  'processing',
  'requires_capture',
  'canceled',
  'succeeded',
] as const;
export type PaymentIntentStatus = (typeof PAYMENT_INTENT_STATUSES)[number];

export const CANCELABLE_PAYMENT_INTENT_STATUSES: readonly PaymentIntentStatus[] = [
  'requires_payment_method',
  'requires_capture',
  'requires_confirmation',
  'requires_action',
];

export const CANCELLATION_REASONS = ['duplicate', 'fraudulent', 'requested_by_customer', 'abandoned'] as const;
export type CancellationReason = (typeof CANCELLATION_REASONS)[number];

/** A refund as the gateway knows it. Amounts in minor units; `created` in unix seconds. */
export interface Refund {
  id: string;
  amount: number;
  currency: string;
  status: RefundStatus;
  charge: string | null;
  paymentIntent: string | null;
  reason: RefundReason | null;
  failureReason: string | null;
  /** The caller's metadata only: the gateway's own `gateway_*` keys are taken out. */
  metadata: Record<string, string>;
  /** The caller id from `gateway_caller`; null for refunds made elsewhere (Dashboard). */
  requestedBy: string | null;
  /** The gateway request id from `gateway_request_id`; null for refunds made elsewhere. */
  gatewayRequestId: string | null;
  created: number;
}

/** What the rules need to know of a charge, read fresh from Stripe. */
export interface Charge {
  id: string;
  amount: number;
  amountCaptured: number;
  amountRefunded: number;
  currency: string;
  status: 'succeeded' | 'pending' | 'failed';
  captured: boolean;
  /** Stripe's flag: the charge has (or had) a dispute. */
  disputed: boolean;
  paymentIntent: string | null;
  created: number;
}

/** What the rules need to know of a PaymentIntent. */
export interface PaymentIntent {
  id: string;
  status: PaymentIntentStatus;
  amount: number;
  amountCapturable: number;
  amountReceived: number;
  currency: string;
  latestCharge: string | null;
  created: number;
}

export interface Page<T> {
  data: T[];
  hasMore: boolean;
}

/** The body of POST /v1/refunds, as the rules read it (validated at the edge). */
export interface CreateRefundRequest {
  charge?: string;
  payment_intent?: string;
  amount?: number;
  currency?: string;
  reason?: RequestableRefundReason;
  metadata?: Record<string, string>;
}
