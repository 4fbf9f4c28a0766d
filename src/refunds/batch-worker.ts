// Runs batch items beside the request path: claims a few at a time from the ledger, each through the refund path.
import { randomUUID } from 'node:crypto';
import { BATCH_ITEM_ROUTE, itemRequestId, type ItemProblem, type ItemResult } from './batch.js';
import { GatewayError, type ErrorCode } from './gateway-error.js';
import type { ClaimedBatchItem, Ledger } from './ledger.js';
import type { CallerContext, CreateRefundOptions, CreateRefundRequest, RefundOutcome } from './refund-service.js';
import { isRefundRefusal } from './refusals.js';
import type { Refund } from './types.js';

/** What POST /v1/refunds answers: a refund (201) or, above the caller's approval threshold, a refund request (202). */
export type RefundAnswer = RefundOutcome;

/** The refund path, exactly as POST /v1/refunds runs it. */
export interface BatchRefunds {
  createRefund(
    caller: CallerContext,
    idempotencyKey: string,
    request: CreateRefundRequest,
    options: CreateRefundOptions,
  ): Promise<{ replayed: boolean; value: RefundAnswer }>;
}

/** Failures that say nothing final about the refund: the item runs again later, with the same key. */
const RETRYABLE: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'upstream_error',
  'upstream_unavailable',
  'upstream_timeout',
  'ledger_unavailable',
  'payment_busy',
  'idempotency_request_in_progress',
  'overloaded',
  'internal_error',
]);

/** Runs per item before a failure that says nothing final becomes its answer (a crash mid-run counts as one). */
export const MAX_ITEM_ATTEMPTS = 8;
const FIRST_RETRY_MS = 1_000;
/** After a failed look at the ledger, the next one waits this many polls. */
const ERROR_BACKOFF_POLLS = 10;
const LAST_RETRY_MS = 60_000;

/** 1 s doubling to 60 s after each run that failed, or later if the failure said when to come back. */
export const itemRetryDelayMs = (attempts: number, retryAfterSeconds?: number): number =>
  Math.max(Math.min(FIRST_RETRY_MS * 2 ** Math.max(0, attempts - 1), LAST_RETRY_MS), (retryAfterSeconds ?? 0) * 1000);

export type RunDecision = { kind: 'settle'; result: ItemResult } | { kind: 'retry'; afterMs: number; problem: ItemProblem };

const problemOf = (error: GatewayError, requestId: string): ItemProblem => ({
  code: error.code,
  detail: error.message,
  fields: error.fields,
  requestId: error.replayOf ?? requestId,
});

/** What an item's run ended with: an answer to store, or a failure to try again after a while. */
export function decide(item: Pick<ClaimedBatchItem, 'batchId' | 'position' | 'attempts'>, outcome: { value: RefundAnswer } | { error: unknown }, maxAttempts = MAX_ITEM_ATTEMPTS): RunDecision {
  if ('value' in outcome) {
    const answer = outcome.value;
    if (answer.kind === 'refund') return { kind: 'settle', result: { status: 'refunded', refund: answer.refund } };
    return { kind: 'settle', result: { status: 'awaiting_approval', refundRequest: answer.request } };
  }
  const requestId = itemRequestId(item.batchId, item.position);
  const error =
    outcome.error instanceof GatewayError
      ? outcome.error
      : new GatewayError('internal_error', 'Something went wrong on our side while making this refund; the request id helps us find it.');
  const problem = problemOf(error, requestId);
  // A rule's refusal is the item's answer, as it would be the answer of POST /v1/refunds. A caller's limit refuses too:
  // it is not stored under the key (a retry another day may pass), but running the item again in this batch cannot.
  if (isRefundRefusal(error.code)) return { kind: 'settle', result: { status: 'refused', problem } };
  if (RETRYABLE.has(error.code) && item.attempts < maxAttempts) {
    return { kind: 'retry', afterMs: itemRetryDelayMs(item.attempts, error.retryAfterSeconds), problem };
  }
  return { kind: 'settle', result: { status: 'failed', problem } };
}

export interface ItemRun {
  batchId: string;
  key: string;
  /** The batch's caller, in whose name the refund was asked for. */
  caller: string;
  attempts: number;
  outcome: ItemResult['status'] | 'retry';
  code?: ErrorCode;
  /** The refund made (refunded), and whether it was the stored answer of an earlier run of the same key. */
  refund?: Refund;
  replayed: boolean;
  /** False when the item's lease ran out first and another run took it (that run stores the same answer). */
  stored: boolean;
}

export interface BatchWorkerOptions {
  ledger: Ledger;
  refunds: BatchRefunds;
  /** Items run at once by this process (BATCH_CONCURRENCY). */
  concurrency: number;
  /** How long a run holds its item: longer than one refund attempt's idempotency lease, so a take-over finds the key free. */
  leaseMs: number;
  now?: () => Date;
  /** How often the ledger is looked at when there is nothing to run. */
  pollMs?: number;
  maxAttempts?: number;
  onRun?: (run: ItemRun) => void;
  onError?: (error: unknown) => void;
  /** Wraps each item's run, from the refund attempt to its stored answer (tracing gives each a trace of its own). */
  aroundItem?: (item: ClaimedBatchItem, run: () => Promise<ItemRun>) => Promise<ItemRun>;
}

/**
 * One loop per process: it takes due items from the ledger (which holds each for one run at a time across replicas),
 * runs each through the refund path as a background caller — its Stripe calls wait behind interactive requests — and
 * stores the answer. An item run twice (its holder died after Stripe answered) reaches Stripe with the same key and
 * finds the same refund: at most one refund per item.
 */
export class BatchWorker {
  readonly #options: Required<Omit<BatchWorkerOptions, 'onRun' | 'onError' | 'aroundItem'>> &
    Pick<BatchWorkerOptions, 'onRun' | 'onError' | 'aroundItem'>;
  readonly #holder = `batcher_${randomUUID()}`;
  readonly #inFlight = new Set<Promise<void>>();
  #timer: NodeJS.Timeout | undefined;
  #stopped = true;
  /** One look at a time, so two never both see room and take more than `concurrency`. */
  #looking = false;
  /** A slot freed (or a batch arrived) while a look ran: look again at once after it. */
  #soon = false;

  constructor(options: BatchWorkerOptions) {
    this.#options = { now: () => new Date(), pollMs: 500, maxAttempts: MAX_ITEM_ATTEMPTS, ...options };
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#schedule(0);
  }

  /** Looks for items now rather than at the next poll (a batch was just stored). */
  wake(): void {
    if (this.#looking) this.#soon = true;
    else this.#schedule(0);
  }

  /**
   * Stops taking items and waits for those running (each ends within its refund attempt's budget). Called when the
   * gateway starts to close, and again when the ledger is about to close: both wait for the same runs.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await Promise.all([...this.#inFlight]);
  }

  #schedule(ms: number): void {
    if (this.#stopped || this.#looking) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#look(), ms);
    this.#timer.unref();
  }

  async #look(): Promise<void> {
    this.#looking = true;
    let nextMs = this.#options.pollMs;
    try {
      nextMs = await this.#takeAndRun();
    } catch (error) {
      this.#options.onError?.(error);
      // The ledger is down or slow: look again later rather than every poll (and log every poll).
      nextMs = this.#options.pollMs * ERROR_BACKOFF_POLLS;
    } finally {
      this.#looking = false;
      this.#schedule(this.#soon ? 0 : nextMs);
      this.#soon = false;
    }
  }

  /** Starts what is due and room allows; returns when to look again. */
  async #takeAndRun(): Promise<number> {
    const room = this.#options.concurrency - this.#inFlight.size;
    if (room <= 0 || this.#stopped) return this.#options.pollMs;
    const { ledger, now, leaseMs } = this.#options;
    const claimed = await ledger.claimBatchItems({ holder: this.#holder, now: now(), limit: room, leaseMs });
    for (const item of claimed) {
      const run = () => this.#run(item);
      const { aroundItem } = this.#options;
      const running = (aroundItem ? aroundItem(item, run) : run()).then(
        () => undefined,
        (error: unknown) => this.#options.onError?.(error),
      );
      this.#inFlight.add(running);
      void running.finally(() => {
        this.#inFlight.delete(running);
        this.wake();
      });
    }
    // When the claim filled every slot, more may be waiting: each slot that frees looks again at once (wake).
    return this.#options.pollMs;
  }

  async #run(item: ClaimedBatchItem): Promise<ItemRun> {
    const { ledger, refunds, now } = this.#options;
    const caller: CallerContext = { callerId: item.requestedBy, requestId: itemRequestId(item.batchId, item.position) };
    let outcome: { value: RefundAnswer } | { error: unknown };
    let replayed = false;
    try {
      const answer = await refunds.createRefund(caller, item.key, item.request, { route: BATCH_ITEM_ROUTE, priority: 'background' });
      outcome = { value: answer.value };
      replayed = answer.replayed;
    } catch (error) {
      if (!(error instanceof GatewayError)) this.#options.onError?.(error);
      outcome = { error };
    }
    const decision = decide(item, outcome, this.#options.maxAttempts);
    const at = now();
    const stored =
      decision.kind === 'settle'
        ? await ledger.settleBatchItem({ batchId: item.batchId, position: item.position, holder: this.#holder, now: at, result: decision.result })
        : await ledger.retryBatchItem({ batchId: item.batchId, position: item.position, holder: this.#holder, at: new Date(at.getTime() + decision.afterMs) });
    const code = decision.kind === 'retry' ? decision.problem.code : 'problem' in decision.result ? decision.result.problem.code : undefined;
    const run: ItemRun = {
      batchId: item.batchId,
      key: item.key,
      caller: item.requestedBy,
      attempts: item.attempts,
      outcome: decision.kind === 'retry' ? 'retry' : decision.result.status,
      ...(code !== undefined ? { code } : {}),
      ...(decision.kind === 'settle' && decision.result.status === 'refunded' ? { refund: decision.result.refund } : {}),
      replayed,
      stored,
    };
    this.#options.onRun?.(run);
    return run;
  }
}
