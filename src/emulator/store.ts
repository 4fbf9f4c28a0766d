// The emulator's state: plain records in Maps, with the indexes the hot paths need (refunds by charge, charges by PI).
import type { PaymentMethodBehaviour } from './payment-methods.js';

export type PaymentIntentStatus =
  | 'requires_payment_method'
  | 'requires_confirmation'
  | 'requires_action'
  | 'processing'
  | 'requires_capture'
  | 'canceled'
  | 'succeeded';

export type CaptureMethod = 'automatic' | 'automatic_async' | 'manual';

export interface PaymentIntentRecord {
  id: string;
  seq: number;
  created: number;
  amount: number;
  currency: string;
  status: PaymentIntentStatus;
  captureMethod: CaptureMethod;
  paymentMethod: string | null;
  paymentMethodTypes: string[];
  /** As given at creation (`allowed_payment_method_types`, or `payment_method_types` in older API versions). */
  allowedPaymentMethodTypes: string[] | null;
  automaticPaymentMethods: { enabled: boolean; allowRedirects?: 'always' | 'never' } | null;
  returnUrl: string | null;
  amountCapturable: number;
  amountReceived: number;
  latestCharge: string | null;
  canceledAt: number | null;
  cancellationReason: string | null;
  lastPaymentError: Record<string, unknown> | null;
  nextAction: Record<string, unknown> | null;
  description: string | null;
  metadata: Record<string, string>;
  clientSecret: string;
}

export interface ChargeRecord {
  id: string;
  seq: number;
  created: number;
  amount: number;
  amountCaptured: number;
  amountRefunded: number;
  currency: string;
  captured: boolean;
  status: 'succeeded' | 'pending' | 'failed';
  paymentIntent: string;
  paymentMethod: string;
  behaviour: PaymentMethodBehaviour;
  balanceTransaction: string | null;
  failureCode: string | null;
  failureMessage: string | null;
  disputed: boolean;
  description: string | null;
  metadata: Record<string, string>;
}

export type RefundStatus = 'pending' | 'requires_action' | 'succeeded' | 'failed' | 'canceled';

export interface RefundRecord {
  id: string;
  seq: number;
  created: number;
  amount: number;
  currency: string;
  charge: string;
  paymentIntent: string;
  paymentMethod: string;
  status: RefundStatus;
  pendingReason: 'processing' | 'insufficient_funds' | 'charge_pending' | null;
  failureReason: string | null;
  failureBalanceTransaction: string | null;
  balanceTransaction: string | null;
  reason: string | null;
  metadata: Record<string, string>;
  /** Whether the refund has taken money from the balance yet (a refund waiting for funds has not). */
  funded: boolean;
}

export type DisputeStatus = 'warning_needs_response' | 'warning_under_review' | 'warning_closed' | 'needs_response' | 'under_review' | 'won' | 'lost';

export interface DisputeRecord {
  id: string;
  seq: number;
  created: number;
  amount: number;
  currency: string;
  charge: string;
  paymentIntent: string;
  status: DisputeStatus;
  reason: string;
  isChargeRefundable: boolean;
  dueBy: number;
  metadata: Record<string, string>;
}

export interface TopupRecord {
  id: string;
  amount: number;
  currency: string;
  created: number;
  description: string | null;
  metadata: Record<string, string>;
  balanceTransaction: string;
}

export const OPEN_DISPUTE_STATUSES: readonly DisputeStatus[] = ['warning_needs_response', 'warning_under_review', 'needs_response', 'under_review'];

export interface Store {
  paymentIntents: Map<string, PaymentIntentRecord>;
  charges: Map<string, ChargeRecord>;
  refunds: Map<string, RefundRecord>;
  disputes: Map<string, DisputeRecord>;
  /** Creation order, oldest first: lists walk these backwards (newest first). */
  paymentIntentOrder: string[];
  chargeOrder: string[];
  refundOrder: string[];
  disputeOrder: string[];
  chargesByPaymentIntent: Map<string, string[]>;
  refundsByCharge: Map<string, string[]>;
  refundsByPaymentIntent: Map<string, string[]>;
  disputesByCharge: Map<string, string[]>;
  disputesByPaymentIntent: Map<string, string[]>;
  nextSeq: number;
}

export function createStore(): Store {
  return {
    paymentIntents: new Map(),
    charges: new Map(),
    refunds: new Map(),
    disputes: new Map(),
    paymentIntentOrder: [],
    chargeOrder: [],
    refundOrder: [],
    disputeOrder: [],
    chargesByPaymentIntent: new Map(),
    refundsByCharge: new Map(),
    refundsByPaymentIntent: new Map(),
    disputesByCharge: new Map(),
    disputesByPaymentIntent: new Map(),
    nextSeq: 1,
  };
}

export function pushIndex(index: Map<string, string[]>, key: string, id: string): void {
  const list = index.get(key);
  if (list) list.push(id);
  else index.set(key, [id]);
}

export function takeSeq(store: Store): number {
  const seq = store.nextSeq;
  store.nextSeq += 1;
  return seq;
}
