// Small builders for ledger tests: refunds, refund requests and idempotency inputs with sensible defaults.
import type { BeginIdempotentInput } from '../../src/refunds/ledger.js';
import type { RefundRequest } from '../../src/refunds/refund-request.js';
import type { Refund } from '../../src/refunds/types.js';

export const T0 = new Date('2026-11-27T12:00:00Z');
export const at = (ms: number): Date => new Date(T0.getTime() + ms);

/** The attempt's holder token is its request id unless a test says otherwise, so each attempt is told apart by one name. */
export const beginInput = (overrides: Partial<BeginIdempotentInput> = {}): BeginIdempotentInput => {
  const requestId = overrides.requestId ?? 'req_first';
  return { scope: 'billing\nPOST /v1/refunds\nkey-1', fingerprint: 'fp-1', requestId, holder: requestId, leaseMs: 30_000, now: T0, ...overrides };
};

export const refund = (overrides: Partial<Refund> = {}): Refund => ({
  id: 're_1',
  amount: 2500,
  currency: 'usd',
  status: 'pending',
  charge: 'ch_1',
  paymentIntent: 'pi_1',
  reason: 'requested_by_customer',
  failureReason: null,
  metadata: { order: '42' },
  requestedBy: 'billing',
  gatewayRequestId: 'req_1',
  created: 1_795_000_000,
  ...overrides,
});

/** A refund request awaiting approval, made at T0 and expiring an hour later. */
export const refundRequest = (overrides: Partial<RefundRequest> = {}): RefundRequest => ({
  id: 'rr_1',
  status: 'awaiting_approval',
  request: { payment_intent: 'pi_1', amount: 30_000, metadata: { order: '42' } },
  amount: 30_000,
  currency: 'usd',
  requestedBy: 'support',
  decidedBy: null,
  decisionNote: null,
  refund: null,
  problem: null,
  created: T0.getTime() / 1000,
  decidedAt: null,
  expiresAt: T0.getTime() / 1000 + 3_600,
  ...overrides,
});
