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

export interface CallOptions {
  /** Epoch ms: no call starts after it, and a call (with its retries) is cut short to end by then. */
  deadline?: number;
  /** Work nobody is waiting for (reconciliation, batch items) lets requests go first at the rate limit. Default interactive. */
  priority?: 'interactive' | 'background';
}

/** A charge with what one read of it also tells: its PaymentIntent (if any) and its newest refunds. */
export interface ChargeView {
  charge: Charge;
  intent: PaymentIntent | null;
  /** Newest first: as many as the provider embeds in one read; `hasMore` when there are older ones. */
  refunds: Page<Refund>;
}

/** A PaymentIntent with its latest charge, read in the same call. */
export interface IntentView {
  intent: PaymentIntent;
  charge: ChargeView | null;
}

/**
 * Every method throws GatewayError: `not_found` for unknown ids, the rule codes for the provider's own refusals
 * (over-refund, already refunded, disputed, …) and `upstream_*` when the provider fails or cannot be reached.
 * Each read is ONE call to the provider.
 */
export interface PaymentGateway {
  readCharge(id: string, options?: CallOptions): Promise<ChargeView>;
  readPaymentIntent(id: string, options?: CallOptions): Promise<IntentView>;
  /** Whether an open dispute on the charge blocks refunds (a closed or refundable one does not). */
  hasBlockingDispute(chargeId: string, options?: CallOptions): Promise<boolean>;
  createRefund(input: CreateRefundInput, options?: CallOptions): Promise<Refund>;
  getRefund(id: string, options?: CallOptions): Promise<Refund>;
  listRefunds(input: ListRefundsInput, options?: CallOptions): Promise<Page<Refund>>;
  /** Cancels and answers the PaymentIntent as it is afterwards, with its latest charge. */
  cancelPaymentIntent(id: string, input: { reason?: CancellationReason; idempotencyKey?: string }, options?: CallOptions): Promise<IntentView>;
  /** A cheap read that proves the key works (lists one refund). */
  ping(): Promise<void>;
}
