// The payment provider as the rules see it; src/stripe/ implements it, tests may use an in-memory stand-in.
import type { CancellationReason, Charge, Page, PaymentIntent, Refund, RequestableRefundReason } from './types.js';

export interface CreateRefundInput {
  /** Exactly one of charge and paymentIntent. */
  charge?: string;
  paymentIntent?: string;
  /** Omitted: everything still refundable. */
  amount?: number;
  reason?: RequestableRefundReason;
  /** Sent as-is: the caller's keys plus the gateway's `gateway_caller` and `gateway_request_id`. */
  metadata: Record<string, string>;
  /** The key the provider sees; the same for every retry of one caller request. */
  idempotencyKey: string;
}

export interface ListRefundsInput {
  charge?: string;
  paymentIntent?: string;
  limit: number;
  startingAfter?: string;
}

/**
 * Every method throws GatewayError: `not_found` for unknown ids, the rule codes for the provider's own refusals
 * (over-refund, already refunded, disputed, …) and `upstream_*` when the provider fails or cannot be reached.
 */
export interface PaymentGateway {
  getCharge(id: string): Promise<Charge>;
  getPaymentIntent(id: string): Promise<PaymentIntent>;
  /** Whether an open dispute on the charge blocks refunds (a closed or refundable one does not). */
  hasBlockingDispute(chargeId: string): Promise<boolean>;
  createRefund(input: CreateRefundInput): Promise<Refund>;
  getRefund(id: string): Promise<Refund>;
  listRefunds(input: ListRefundsInput): Promise<Page<Refund>>;
  cancelPaymentIntent(id: string, options: { reason?: CancellationReason; idempotencyKey?: string }): Promise<PaymentIntent>;
  /** A cheap read that proves the key works (lists one refund). */
  ping(): Promise<void>;
}
