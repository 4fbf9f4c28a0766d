// The PaymentGateway on Stripe: the only place that calls the SDK, retries rate limits, logs and times each call.
import { AsyncLocalStorage } from 'node:async_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type Stripe from 'stripe';
import { GatewayError } from '../refunds/gateway-error.js';
import type { CallOptions, ChargeView, CreateRefundInput, IntentView, ListRefundsInput, PaymentGateway } from '../refunds/payment-gateway.js';
import type { ListProviderEventsInput, ProviderEvent, ProviderEventSource } from '../refunds/stripe-events.js';
import type { CancellationReason, Page, Refund } from '../refunds/types.js';
import { isRateLimited, mapStripeError, retryAfterSeconds, type StripeOperation } from './error-mapper.js';
import { toChargeView, toIntentView, toProviderEvent, toRefund } from './mappers.js';
import type { StripePacer } from './stripe-pacer.js';

/** One finished Stripe call, for the log line and the metrics. */
export interface StripeCallEvent {
  operation: string;
  outcome: 'ok' | 'error';
  durationMs: number;
  /** Stripe's `Request-Id` of the last attempt, when an answer came. */
  stripeRequestId: string | undefined;
  statusCode: number | undefined;
  /** HTTP requests sent for this call: the SDK's retries and the gateway's own 429 retries count (0: none was sent). */
  attempts: number;
  /** The gateway's code when the call failed. */
  code?: string;
}

/** Told when a call starts; the function it returns (if any) is told when that call ends (a trace span, for one). */
export type StripeCallObserver = (operation: string) => ((event: StripeCallEvent) => void) | undefined;

export interface StripeGatewayOptions {
  /** The SDK's retries of connection errors and 5xx; also how often the gateway retries a 429. */
  maxNetworkRetries: number;
  /** Per HTTP request to Stripe; cut shorter when a call's deadline is nearer. */
  timeoutMs: number;
  /** The longest the gateway waits for one 429 retry; a longer Retry-After is passed on to the caller instead. */
  maxRateLimitWaitMs?: number;
  /** Keeps calls under the rate limit; every attempt waits its turn (none: no pacing). */
  pacer?: StripePacer;
  onCall?: (event: StripeCallEvent) => void;
  onCallStart?: StripeCallObserver;
}

/** Dispute statuses in which the dispute is still open (Stripe's names). */
const OPEN_DISPUTE = new Set(['warning_needs_response', 'warning_under_review', 'needs_response', 'under_review']);
/** Below this, a call is not started: it could not get an answer back in time. */
const MIN_CALL_MS = 100;
/** The embedded lists in one read: the payment picture's refunds and the refund path's search for its own refund. */
const CHARGE_EXPAND = ['payment_intent', 'refunds'];
const INTENT_EXPAND = ['latest_charge.refunds'];

/** The worst time the SDK's own retries wait between attempts (0.5 s doubling, at most 5 s each). */
export const sdkBackoffMs = (retries: number): number =>
  Array.from({ length: retries }, (_, i) => Math.min(500 * 2 ** i, 5_000)).reduce((a, b) => a + b, 0);

/** What one logical call has seen so far; the SDK's `request` event, fired per HTTP request, runs inside the call's store. */
interface CallProgress {
  attempts: number;
}

export class StripeGateway implements PaymentGateway, ProviderEventSource {
  readonly #stripe: Stripe;
  readonly #options: Required<Omit<StripeGatewayOptions, 'onCall' | 'onCallStart' | 'pacer'>> &
    Pick<StripeGatewayOptions, 'onCall' | 'onCallStart' | 'pacer'>;
  readonly #progress = new AsyncLocalStorage<CallProgress>();

  constructor(stripe: Stripe, options: StripeGatewayOptions) {
    this.#stripe = stripe;
    this.#options = { maxRateLimitWaitMs: 5_000, ...options };
    // The SDK retries inside one promise and reports no count; it does announce every request it sends.
    stripe.on('request', () => {
      const progress = this.#progress.getStore();
      if (progress) progress.attempts += 1;
    });
  }

  async readCharge(id: string, options: CallOptions = {}): Promise<ChargeView> {
    return toChargeView(
      await this.#call('charges.retrieve', 'read', `Charge ${id}`, options, (o) => this.#stripe.charges.retrieve(id, { expand: CHARGE_EXPAND }, o)),
    );
  }

  async readPaymentIntent(id: string, options: CallOptions = {}): Promise<IntentView> {
    return toIntentView(
      await this.#call('payment_intents.retrieve', 'read', `PaymentIntent ${id}`, options, (o) =>
        this.#stripe.paymentIntents.retrieve(id, { expand: INTENT_EXPAND }, o),
      ),
    );
  }

  async hasBlockingDispute(chargeId: string, options: CallOptions = {}): Promise<boolean> {
    const disputes = await this.#call('disputes.list', 'read', `Charge ${chargeId}`, options, (o) =>
      this.#stripe.disputes.list({ charge: chargeId, limit: 100 }, o),
    );
    return disputes.data.some((d) => OPEN_DISPUTE.has(d.status) && !d.is_charge_refundable);
  }

  async createRefund(input: CreateRefundInput, options: CallOptions = {}): Promise<Refund> {
    const subject = input.paymentIntent !== undefined ? `PaymentIntent ${input.paymentIntent}` : `Charge ${input.charge}`;
    // Exactly what the caller asked for, nothing derived from a read: every retry sends Stripe identical parameters.
    const params: Stripe.RefundCreateParams = {
      ...(input.paymentIntent !== undefined ? { payment_intent: input.paymentIntent } : { charge: input.charge }),
      ...(input.amount !== undefined ? { amount: input.amount } : {}),
      ...(input.reason !== undefined ? { reason: input.reason } : {}),
      metadata: input.metadata,
    };
    return toRefund(
      await this.#call('refunds.create', 'refund', subject, options, (o) =>
        this.#stripe.refunds.create(params, { ...o, idempotencyKey: input.idempotencyKey }),
      ),
    );
  }

  async getRefund(id: string, options: CallOptions = {}): Promise<Refund> {
    return toRefund(await this.#call('refunds.retrieve', 'read', `Refund ${id}`, options, (o) => this.#stripe.refunds.retrieve(id, {}, o)));
  }

  async listRefunds(input: ListRefundsInput, options: CallOptions = {}): Promise<Page<Refund>> {
    const subject = input.charge !== undefined ? `Charge ${input.charge}` : `PaymentIntent ${input.paymentIntent}`;
    const list = await this.#call('refunds.list', 'read', subject, options, (o) =>
      this.#stripe.refunds.list(
        {
          ...(input.charge !== undefined ? { charge: input.charge } : {}),
          ...(input.paymentIntent !== undefined ? { payment_intent: input.paymentIntent } : {}),
          limit: input.limit,
          ...(input.startingAfter !== undefined ? { starting_after: input.startingAfter } : {}),
        },
        o,
      ),
    );
    return { data: list.data.map(toRefund), hasMore: list.has_more };
  }

  async listEvents(input: ListProviderEventsInput, options: CallOptions = {}): Promise<Page<ProviderEvent>> {
    const params: Stripe.EventListParams = {
      types: [...input.types],
      limit: input.limit,
      ...(input.endingBefore !== undefined ? { ending_before: input.endingBefore } : {}),
      ...(input.startingAfter !== undefined ? { starting_after: input.startingAfter } : {}),
      ...(input.createdGte !== undefined ? { created: { gte: input.createdGte } } : {}),
    };
    const list = await this.#call('events.list', 'read', `Event ${input.endingBefore ?? input.startingAfter ?? 'list'}`, options, (o) => this.#stripe.events.list(params, o));
    return { data: list.data.map(toProviderEvent), hasMore: list.has_more };
  }

  async cancelPaymentIntent(
    id: string,
    input: { reason?: CancellationReason; idempotencyKey?: string },
    options: CallOptions = {},
  ): Promise<IntentView> {
    // The expansion is part of the request Stripe stores under the key; it is the same on every retry.
    const params: Stripe.PaymentIntentCancelParams = {
      ...(input.reason !== undefined ? { cancellation_reason: input.reason } : {}),
      expand: INTENT_EXPAND,
    };
    return toIntentView(
      await this.#call('payment_intents.cancel', 'cancel', `PaymentIntent ${id}`, options, (o) =>
        this.#stripe.paymentIntents.cancel(id, params, { ...o, ...(input.idempotencyKey !== undefined ? { idempotencyKey: input.idempotencyKey } : {}) }),
      ),
    );
  }

  async ping(): Promise<void> {
    await this.#call('refunds.list', 'read', 'The refund list', {}, (o) => this.#stripe.refunds.list({ limit: 1 }, o));
  }

  /**
   * One logical call: the SDK retries connection errors and 5xx with the same idempotency key; plain 429s it does not
   * retry, so they are retried here, honouring Retry-After, with the same request (and so the same key). A deadline
   * shortens each HTTP request's timeout so that all of the SDK's tries end before it, and stops a call (or a 429
   * retry) that could not. It runs in its own store, where the SDK's `request` events count its attempts.
   */
  async #call<T extends { lastResponse: { requestId: string; statusCode: number } }>(
    operation: string,
    kind: StripeOperation,
    subject: string,
    options: CallOptions,
    fn: (requestOptions: Stripe.RequestOptions) => Promise<T>,
  ): Promise<T> {
    const progress: CallProgress = { attempts: 0 };
    return this.#progress.run(progress, () => this.#callWithRetries(operation, kind, subject, options, fn, progress));
  }

  async #callWithRetries<T extends { lastResponse: { requestId: string; statusCode: number } }>(
    operation: string,
    kind: StripeOperation,
    subject: string,
    options: CallOptions,
    fn: (requestOptions: Stripe.RequestOptions) => Promise<T>,
    progress: CallProgress,
  ): Promise<T> {
    const started = performance.now();
    const onEnd = this.#options.onCallStart?.(operation);
    const report = (event: Omit<StripeCallEvent, 'operation' | 'durationMs' | 'attempts'>): void => {
      const full: StripeCallEvent = { operation, durationMs: performance.now() - started, attempts: progress.attempts, ...event };
      onEnd?.(full);
      this.#options.onCall?.(full);
    };
    const retries = this.#options.maxNetworkRetries;
    for (let attempt = 0; ; attempt++) {
      if (this.#options.pacer) {
        try {
          // The turn must come early enough to leave the call its minimum time before the deadline.
          await this.#options.pacer.take(options.priority, options.deadline === undefined ? undefined : options.deadline - MIN_CALL_MS);
        } catch (error) {
          report({ outcome: 'error', stripeRequestId: undefined, statusCode: undefined, code: (error as GatewayError).code });
          throw error;
        }
      }
      const requestOptions = this.#requestOptions(options.deadline, retries);
      if (requestOptions === undefined) {
        const error = new GatewayError('upstream_unavailable', `No time was left to ask Stripe about ${subject} within this request's budget; retry.`, {
          retryAfterSeconds: 1,
        });
        report({ outcome: 'error', stripeRequestId: undefined, statusCode: undefined, code: error.code });
        throw error;
      }
      try {
        const result = await fn(requestOptions);
        report({ outcome: 'ok', stripeRequestId: result.lastResponse.requestId, statusCode: result.lastResponse.statusCode });
        return result;
      } catch (error) {
        const waitMs = this.#rateLimitWait(error, attempt, options.deadline);
        if (waitMs !== undefined) {
          await sleep(waitMs);
          continue;
        }
        const mapped = mapStripeError(error, kind, subject);
        const wire = error as { requestId?: string; statusCode?: number };
        report({ outcome: 'error', stripeRequestId: wire.requestId, statusCode: wire.statusCode, code: mapped.code });
        throw mapped;
      }
    }
  }

  /** The SDK's per-request timeout, shortened so that every try and the backoff between them fit before the deadline. */
  #requestOptions(deadline: number | undefined, retries: number): Stripe.RequestOptions | undefined {
    if (deadline === undefined) return {};
    const left = deadline - Date.now() - sdkBackoffMs(retries);
    const timeout = Math.min(this.#options.timeoutMs, Math.floor(left / (retries + 1)));
    return timeout < MIN_CALL_MS ? undefined : { timeout };
  }

  #rateLimitWait(error: unknown, attempt: number, deadline: number | undefined): number | undefined {
    if (!isRateLimited(error) || attempt >= this.#options.maxNetworkRetries) return undefined;
    const backoff = Math.min(500 * 2 ** attempt, 5_000);
    const asked = retryAfterSeconds(error);
    const waitMs = asked !== undefined ? asked * 1000 : backoff;
    if (waitMs > this.#options.maxRateLimitWaitMs) return undefined;
    // A wait that would leave no time for the retry itself is not worth taking: the caller hears at once.
    if (deadline !== undefined && Date.now() + waitMs + MIN_CALL_MS > deadline) return undefined;
    return waitMs;
  }
}
