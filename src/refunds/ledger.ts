// The ledger as the rules see it: idempotency records, the refund index and the per-payment lock; src/ledger/ implements it.
import type { Page, Refund, RefundStatus } from './types.js';

/** What `beginIdempotent` found for a namespaced key. */
export type IdempotencyBegin =
  /** No record yet: one is now `in_progress` under this attempt's request id. */
  | { kind: 'started'; requestId: string }
  /**
   * A record whose first attempt ended without a known outcome (504, 502/503, a crash, an expired lease): it is
   * `in_progress` again, and `requestId` is the first attempt's, so the refund it may have made can be found.
   */
  | { kind: 'resumed'; requestId: string }
  /** A completed record with the same fingerprint: replay its outcome. */
  | { kind: 'replay'; outcome: unknown }
  /** Another attempt holds the record and its lease has not run out. */
  | { kind: 'in_progress' }
  /** The key was used with a different request. */
  | { kind: 'mismatch' };

export interface BeginIdempotentInput {
  /** Caller id, route and the caller's key, joined: the namespaced key. */
  scope: string;
  /** sha-256 of the canonical request body. */
  fingerprint: string;
  /** This attempt's gateway request id; also its holder token while it holds the record. */
  requestId: string;
  /** How long this attempt may hold the record before another may take it over (crash recovery). */
  leaseMs: number;
  now: Date;
}

export interface CompleteIdempotentInput {
  scope: string;
  /** The request id the attempt began with: only the attempt that holds the record may complete it. */
  holder: string;
  /** Opaque JSON, replayed exactly as stored. */
  outcome: unknown;
  refundId: string | null;
  now: Date;
}

export interface IndexedRefundQuery {
  status?: RefundStatus;
  requestedBy?: string;
  limit: number;
  /** A refund id: return what comes after it in the list order (newest first). */
  startingAfter?: string;
}

export interface Ledger {
  beginIdempotent(input: BeginIdempotentInput): Promise<IdempotencyBegin>;
  /**
   * Stores the answer if `holder` still holds the record; false when another attempt took it over after this one's
   * lease ran out (the record then keeps whatever that attempt stores: the first final answer wins).
   */
  completeIdempotent(input: CompleteIdempotentInput): Promise<boolean>;
  /**
   * The attempt ends without a stored answer: the record stays (fingerprint, first request id) but is free to resume.
   * Only the holder releases; a late attempt cannot free a record another attempt now holds.
   */
  releaseIdempotent(scope: string, holder: string): Promise<void>;
  /**
   * Deletes completed records created before `before`; returns how many. Records whose outcome is unknown (open, in
   * progress) are kept: a late retry must still resume them and find the refund the first attempt may have made.
   */
  pruneIdempotency(before: Date): Promise<number>;

  /** Upserts a refund into the index. A refund never goes back from a final status to a non-final one. */
  recordRefund(refund: Refund, now: Date): Promise<void>;
  getIndexedRefund(id: string): Promise<Refund | null>;
  /** Newest first (by `created`, then by the order they were first recorded, newest first). */
  listIndexedRefunds(query: IndexedRefundQuery): Promise<Page<Refund>>;

  /**
   * Runs `fn` while holding the cross-process lock for one payment. Throws GatewayError `payment_busy` when the lock
   * is not had within `waitMs`. In-process serialisation is the refund service's job; this is for several replicas.
   */
  withPaymentLock<T>(paymentKey: string, waitMs: number, fn: () => Promise<T>): Promise<T>;

  /** Proves the database answers. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
