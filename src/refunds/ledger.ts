// The ledger as the rules see it: idempotency records, the refund index and per-payment turns; src/ledger/ implements it.
import type { BatchItem, BatchItemInput, BatchItemQuery, ItemResult, RefundBatch } from './batch.js';
import type { DeliveryBacklog, DeliveryResult, EventDelivery, EventQuery, GatewayEvent } from './events.js';
import type { PaymentLocks } from './payment-locks.js';
import type { RefundRequest, RefundRequestQuery } from './refund-request.js';
import type { EventSource } from './stripe-events.js';
import type { Page, Refund, RefundStatus } from './types.js';

/** What `beginIdempotent` found for a namespaced key. */
export type IdempotencyBegin =
  /** No record yet: one is now `in_progress` under the given request id, held by this attempt. */
  | { kind: 'started'; requestId: string }
  /**
   * A record whose first attempt ended without a known outcome (504, 502/503, a crash, an expired lease): it is
   * `in_progress` again, held by this attempt, and `requestId` is the record's, so the refund it may have made is found.
   */
  | { kind: 'resumed'; requestId: string }
  /** A completed record with the same fingerprint: replay its outcome. */
  | { kind: 'replay'; outcome: unknown }
  /** Another attempt holds the record until `leaseExpiresAt` (then a retry may take it over). */
  | { kind: 'in_progress'; leaseExpiresAt: Date }
  /** The key was used with a different request. */
  | { kind: 'mismatch' };

export interface BeginIdempotentInput {
  /** Caller id, route and the caller's key, joined: the namespaced key. */
  scope: string;
  /** sha-256 of the canonical request body. */
  fingerprint: string;
  /** The request id a NEW record is stored with (derived from the scope, so a lost record comes back the same). */
  requestId: string;
  /** This attempt's own token: only the holder may complete or release the record. */
  holder: string;
  /** How long this attempt may hold the record before another may take it over (crash recovery). */
  leaseMs: number;
  now: Date;
}

export interface CompleteIdempotentInput {
  scope: string;
  /** Only the attempt that holds the record may complete it. */
  holder: string;
  /** Opaque JSON, replayed exactly as stored. */
  outcome: unknown;
  /** The refund the answer is about, if any: it is written to the refund index in the same write. */
  refund: Refund | null;
  now: Date;
}

export interface IndexedRefundQuery {
  status?: RefundStatus;
  requestedBy?: string;
  limit: number;
  /** A refund id: return what comes after it in the list order (newest first). */
  startingAfter?: string;
}

export interface ReserveDailyInput {
  /** The reservation's id: the request's derived id, the same on every retry of it. */
  id: string;
  caller: string;
  currency: string;
  /** The UTC day counted in, `YYYY-MM-DD`. */
  day: string;
  amount: number;
  /** The caller's daily cap in this currency: the day's reservations may add up to it, never more. */
  cap: number;
  now: Date;
}

export type ReserveDailyResult =
  /** Reserved now, or (`already`) held since an earlier attempt of the same request: nothing was added twice. */
  | { reserved: true; already: boolean }
  /** The cap would be passed; `used` is what the day held when the statement ran. */
  | { reserved: false; used: number };

/** The lease of the approval attempt making an approved request's refund: one attempt at a time, across replicas. */
export interface SettlementLease {
  holder: string;
  until: Date;
}

/** A Stripe event to apply: its id (stored once), and the refunds it reports, as they are to be indexed. */
export interface StripeEventRecord {
  id: string;
  type: string;
  /** Unix seconds, Stripe's clock. */
  created: number;
  source: EventSource;
  refunds: readonly Refund[];
  now: Date;
}

/** A job's row as a run finds it: its saved progress (opaque JSON, `{}` at first) and its last successful run. */
export interface JobState {
  state: Record<string, unknown>;
  lastSuccessAt: Date | null;
  nextRunAt: Date;
  /** Who holds the lease right now, if anyone. */
  holder: string | null;
}

export type JobTake =
  | { kind: 'taken'; job: JobState }
  /** Another holder's lease has not run out. */
  | { kind: 'busy'; job: JobState }
  /** Nobody holds it, but its next run is later. */
  | { kind: 'not_due'; job: JobState };

export interface ConnectionPoolUsage {
  /** Which pool: `queries`, or `locks` (connections that hold a payment's lock during its Stripe call). */
  pool: string;
  max: number;
  /** Open connections, busy or idle. */
  total: number;
  idle: number;
  /** Callers waiting for a connection. */
  waiting: number;
}

/** An item taken to run, with the caller its batch belongs to (the refund is made in that caller's name). */
export interface ClaimedBatchItem extends BatchItem {
  requestedBy: string;
}

export interface Ledger {
  beginIdempotent(input: BeginIdempotentInput): Promise<IdempotencyBegin>;
  /**
   * Stores the answer if `holder` still holds the record (and indexes `refund` either way, in the same write); false
   * when another attempt took it over after this one's lease ran out (the first final answer wins).
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

  /**
   * Upserts a refund into the index. A refund never goes back from a final status to a non-final one, and never leaves
   * failed or canceled (Stripe has no way out of them: a report saying otherwise is older news). When the refund is new
   * to the index, or changed, a `refund.created` / `refund.updated` event is stored in the same write.
   */
  recordRefund(refund: Refund, now: Date): Promise<void>;
  getIndexedRefund(id: string): Promise<Refund | null>;
  /** Newest first (by `created`, then by the order they were first recorded, newest first). */
  listIndexedRefunds(query: IndexedRefundQuery): Promise<Page<Refund>>;

  /** Whether this Stripe event id was already applied (webhooks come more than once; reconciliation reads them again). */
  hasStripeEvent(id: string): Promise<boolean>;
  /**
   * Stores the event's id and records each of its refunds (recordRefund's rules and events), all in one transaction:
   * true when the id was new; false when it was already stored, and then nothing is written.
   */
  applyStripeEvent(event: StripeEventRecord): Promise<boolean>;
  /** Forgets Stripe event ids received before `before`; returns how many. */
  pruneStripeEvents(before: Date): Promise<number>;
  /** Refunds still pending or requires_action that were neither changed nor checked since `before`, the longest first. */
  listUnsettledRefunds(input: { before: Date; limit: number }): Promise<Refund[]>;
  /** Notes that Stripe was just asked about these refunds (whether or not they changed). */
  markRefundsChecked(ids: readonly string[], now: Date): Promise<void>;

  /**
   * Takes a job's lease for `leaseMs` when the job is due (its first time, or `nextRunAt` passed) and no other holder's
   * lease is running: across every process sharing this ledger, one holder at a time.
   */
  takeJob(input: { job: string; holder: string; now: Date; leaseMs: number }): Promise<JobTake>;
  /** Saves a run's progress and extends its lease; false when `holder` no longer holds it (the run must stop). */
  saveJob(input: { job: string; holder: string; now: Date; leaseMs: number; state: Record<string, unknown> }): Promise<boolean>;
  /** Ends a run: frees the lease and sets the next run; a success also saves `state` and the time. False: not the holder. */
  finishJob(input: { job: string; holder: string; now: Date; nextRunAt: Date; succeeded: boolean; state?: Record<string, unknown> }): Promise<boolean>;
  /** The job's row, or null before its first run. */
  jobStatus(job: string): Promise<JobState | null>;

  /** The events a caller may see, oldest first; `validation_error` for an unknown `startingAfter`. */
  listEvents(query: EventQuery): Promise<Page<GatewayEvent>>;
  /**
   * Makes the deliveries of up to `limit` events recorded since the last fan-out: one per listening caller (the owner
   * of the event's object, or every caller that listens to all). Each event is fanned out once, whoever does it:
   * a caller that starts listening is sent what happens from then on. Returns how many deliveries were made.
   */
  fanOutEvents(input: { listeners: readonly { caller: string; all: boolean }[]; now: Date; limit: number }): Promise<number>;
  /**
   * Takes up to `limit` deliveries that are due and not held by another sender (or whose sender's lease ran out), and
   * holds them for `leaseMs`: across replicas, each is being sent by one at a time.
   */
  claimDeliveries(input: { holder: string; now: Date; limit: number; leaseMs: number }): Promise<EventDelivery[]>;
  /** Records how a held delivery went; a sender that no longer holds it changes nothing. */
  settleDelivery(input: { eventId: string; caller: string; holder: string; now: Date; result: DeliveryResult }): Promise<void>;
  deliveryBacklog(now: Date): Promise<DeliveryBacklog>;

  /**
   * Adds `amount` to the caller's day in ONE conditional statement, only if the day stays within `cap` (across
   * replicas: the total's row is the point of contention). An `id` that already holds a reservation adds nothing.
   */
  reserveDaily(input: ReserveDailyInput): Promise<ReserveDailyResult>;
  /** Gives a held reservation back to its day (one statement); a released or unknown id changes nothing. */
  releaseDaily(id: string, now: Date): Promise<boolean>;
  /** What the caller's day holds in a currency (made and in-flight refunds). */
  dailyUsed(input: { caller: string; currency: string; day: string }): Promise<number>;
  /** Deletes reservations and day totals of days before `beforeDay` (`YYYY-MM-DD`); returns how many reservations went. */
  pruneDailyLimits(beforeDay: string): Promise<number>;

  /**
   * Stores a new refund request with its `refund_request.created` event, in one write. An id already stored is left
   * as it is (every attempt of one caller request derives the same id); what is stored is returned.
   */
  createRefundRequest(request: RefundRequest, now: Date): Promise<RefundRequest>;
  /** As stored (status never `expired`; see presented()). */
  getRefundRequest(id: string): Promise<RefundRequest | null>;
  /** Newest first; `validation_error` for an unknown `startingAfter`. */
  listRefundRequests(query: RefundRequestQuery): Promise<Page<RefundRequest>>;
  /**
   * Writes `after`'s decision (approved or rejected: who, when, note) if the request still awaits one and has not
   * expired at `now`; false otherwise (another decision came first, or it expired). A rejection is written with its
   * `refund_request.rejected` event; an approval takes `settlement` (its event comes with the outcome).
   */
  decideRefundRequest(input: { after: RefundRequest; now: Date; settlement?: SettlementLease }): Promise<boolean>;
  /** Takes over an approved request whose refund has no outcome and whose lease is free (or ran out); null otherwise. */
  takeRefundRequestSettlement(input: { id: string; settlement: SettlementLease; now: Date }): Promise<RefundRequest | null>;
  /**
   * Stores the approved refund's outcome (`after.refund` or `after.problem`) if `holder` still holds the settlement,
   * with the `refund_request.approved` event and the refund's index row and event, in one write (the refund is indexed
   * either way: it exists at Stripe). false when another attempt holds it now.
   */
  settleRefundRequest(input: { after: RefundRequest; holder: string; now: Date }): Promise<boolean>;
  /** The settlement ends without an outcome (Stripe did not answer): another approval attempt may take it. */
  releaseRefundRequestSettlement(id: string, holder: string): Promise<void>;

  /**
   * Says this process is alive and returns how many processes share the ledger (itself included), counting those seen
   * within `staleAfterMs`. The embedded ledger is one process's alone: always 1.
   */
  heartbeat(input: { replica: string; now: Date; staleAfterMs: number }): Promise<number>;

  /**
   * Stores a new batch with its items, all pending, in one transaction. A batch id already stored is left as it is
   * (every attempt of one POST derives the same id): what is stored is returned.
   */
  createBatch(input: { batch: RefundBatch; items: readonly BatchItemInput[]; now: Date }): Promise<RefundBatch>;
  getBatch(id: string): Promise<RefundBatch | null>;
  /** In the order sent; `validation_error` for a `startingAfter` that is no item key of the batch. */
  listBatchItems(query: BatchItemQuery): Promise<Page<BatchItem>>;
  /**
   * Takes up to `limit` pending items that are due and not held (or whose holder's lease ran out), oldest batch first
   * and in the order sent, counts a run for each and holds it for `leaseMs`: across replicas, one run of an item at a
   * time. A queued batch becomes running.
   */
  claimBatchItems(input: { holder: string; now: Date; limit: number; leaseMs: number }): Promise<ClaimedBatchItem[]>;
  /**
   * Stores a held item's final answer and moves the batch's counts, in one write; when it was the batch's last pending
   * item, the batch ends (completed, or canceled after a cancel) with its `refund_batch.completed` event in the same
   * write. false when `holder` no longer holds the item (its lease ran out and another run took it).
   */
  settleBatchItem(input: { batchId: string; position: number; holder: string; now: Date; result: ItemResult }): Promise<boolean>;
  /** Frees a held item to run again from `at` (a retry after a failure that said nothing final). */
  retryBatchItem(input: { batchId: string; position: number; holder: string; at: Date }): Promise<boolean>;
  /**
   * Cancels every item not started yet (never run) and marks the batch so; it is `canceled` at once when nothing else
   * is pending, otherwise when its last started item ends. Ending writes the completion event. A batch already ended
   * is returned as it is; null for an unknown id.
   */
  cancelBatch(id: string, now: Date): Promise<RefundBatch | null>;
  /** Deletes batches (and their items) that ended before `before`; returns how many. */
  pruneBatches(before: Date): Promise<number>;

  /** Per-payment turns that hold across every process sharing this ledger. */
  readonly paymentLocks: PaymentLocks;

  /** Proves the database answers. */
  ping(): Promise<void>;
  /** How full its connection pools are, for the metrics; absent where there are none (an embedded database). */
  connectionPools?(): readonly ConnectionPoolUsage[];
  close(): Promise<void>;
}
