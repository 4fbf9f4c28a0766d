// Builds the services of the refunds room from the two ports and the settings they share.
import { BatchService } from './batch-service.js';
import type { Ledger } from './ledger.js';
import type { PaymentGateway } from './payment-gateway.js';
import { PaymentService } from './payment-service.js';
import { RefundReads } from './refund-reads.js';
import { RefundService } from './refund-service.js';

export interface RefundServicesDeps {
  gateway: PaymentGateway;
  ledger: Ledger;
  now: () => Date;
  /** How long a refund waits for its charge's turn before payment_busy. */
  lockWaitMs: number;
  /** The longest one attempt may run: its turn's wait and every Stripe call with its retries (see attemptBudgetMs). */
  attemptBudgetMs: number;
  /** Told when the refund index could not be written (the answer to the caller does not change). */
  onIndexError?: (error: unknown, refundId: string) => void;
  /** Told when a new batch is stored (the batch worker starts on it at once). */
  onBatchQueued?: () => void;
}

export interface RefundServices {
  refunds: RefundService;
  reads: RefundReads;
  payments: PaymentService;
  batches: BatchService;
}

export function createRefundServices(deps: RefundServicesDeps): RefundServices {
  const { gateway, ledger, now } = deps;
  const idempotency = { ledger, now, attemptBudgetMs: deps.attemptBudgetMs };
  const reads = new RefundReads({ gateway, ledger, now, ...(deps.onIndexError ? { onIndexError: deps.onIndexError } : {}) });
  return {
    reads,
    refunds: new RefundService({ gateway, locks: ledger.paymentLocks, reads, idempotency, lockWaitMs: deps.lockWaitMs }),
    payments: new PaymentService({ gateway, idempotency }),
    batches: new BatchService({ ledger, idempotency, now, ...(deps.onBatchQueued ? { onQueued: deps.onBatchQueued } : {}) }),
  };
}
