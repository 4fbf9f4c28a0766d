// Builds the services of the refunds room from the two ports and the settings they share.
import { BatchService } from './batch-service.js';
import { DailyLimits } from './daily-limits.js';
import type { Ledger } from './ledger.js';
import type { LimitsOf } from './limits.js';
import type { PaymentGateway } from './payment-gateway.js';
import { PaymentService } from './payment-service.js';
import { RefundPreviews } from './refund-preview.js';
import { RefundReads } from './refund-reads.js';
import { RefundRequestService } from './refund-request-service.js';
import { RefundService } from './refund-service.js';

export interface RefundServicesDeps {
  gateway: PaymentGateway;
  ledger: Ledger;
  now: () => Date;
  /** How long a refund waits for its charge's turn before payment_busy. */
  lockWaitMs: number;
  /** The longest one attempt may run: its turn's wait and every Stripe call with its retries (see attemptBudgetMs). */
  attemptBudgetMs: number;
  /** Each caller's limits (API_KEYS `limits`); none by default. */
  limitsOf?: LimitsOf;
  /** How long a refund request waits for a decision (APPROVAL_TTL_HOURS); 72 h by default. */
  approvalTtlMs?: number;
  /** Told when the refund index could not be written (the answer to the caller does not change). */
  onIndexError?: (error: unknown, refundId: string) => void;
  /** Told when a daily reservation could not be given back (it stays counted). */
  onReleaseError?: (error: unknown, reservationId: string) => void;
  /** Told when a new batch is stored (the batch worker starts on it at once). */
  onBatchQueued?: () => void;
}

export interface RefundServices {
  refunds: RefundService;
  reads: RefundReads;
  payments: PaymentService;
  previews: RefundPreviews;
  requests: RefundRequestService;
  batches: BatchService;
}

const DEFAULT_APPROVAL_TTL_MS = 72 * 3_600_000;

export function createRefundServices(deps: RefundServicesDeps): RefundServices {
  const { gateway, ledger, now } = deps;
  const limitsOf: LimitsOf = deps.limitsOf ?? (() => undefined);
  const idempotency = { ledger, now, attemptBudgetMs: deps.attemptBudgetMs };
  const reads = new RefundReads({ gateway, ledger, now, ...(deps.onIndexError ? { onIndexError: deps.onIndexError } : {}) });
  const daily = new DailyLimits({ ledger, now, ...(deps.onReleaseError ? { onReleaseError: deps.onReleaseError } : {}) });
  const refunds = new RefundService({
    gateway,
    locks: ledger.paymentLocks,
    reads,
    idempotency,
    lockWaitMs: deps.lockWaitMs,
    ledger,
    limitsOf,
    daily,
    approvalTtlMs: deps.approvalTtlMs ?? DEFAULT_APPROVAL_TTL_MS,
    now,
  });
  return {
    reads,
    refunds,
    payments: new PaymentService({ gateway, idempotency }),
    previews: new RefundPreviews({ gateway, daily, limitsOf }),
    requests: new RefundRequestService({ ledger, refunds, idempotency, now, attemptBudgetMs: deps.attemptBudgetMs }),
    batches: new BatchService({ ledger, idempotency, now, ...(deps.onBatchQueued ? { onQueued: deps.onBatchQueued } : {}) }),
  };
}
