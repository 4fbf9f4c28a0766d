// The PaymentGateway on Stripe: the only place that calls the SDK, retries rate limits, logs and times each call.
import { setTimeout as sleep } from 'node:timers/promises';
import type Stripe from 'stripe';
import type { CreateRefundInput, ListRefundsInput, PaymentGateway } from '../refunds/payment-gateway.js';
import type { CancellationReason, Charge, Page, PaymentIntent, Refund } from '../refunds/types.js';
import { isRateLimited, mapStripeError, retryAfterSeconds, type StripeOperation } from './error-mapper.js';
import { toCharge, toPaymentIntent, toRefund } from './mappers.js';

/** One finished Stripe call, for the log line and the metrics. */
export interface StripeCallEvent {
  operation: string;
  outcome: 'ok' | 'error';
  durationMs: number;
  /** Stripe's `Request-Id` of the last attempt, when an answer came. */
  stripeRequestId: string | undefined;
  statusCode: number | undefined;
  /** The gateway's code when the call failed. */
  code?: string;
}

export interface StripeGatewayOptions {
  /** How often a 429 is retried by the gateway (the SDK does not retry plain 429s). */
  maxRateLimitRetries: number;
  /** The longest the gateway waits for one 429 retry; a longer Retry-After is passed on to the caller instead. */
  maxRateLimitWaitMs?: number;
  onCall?: (event: StripeCallEvent) => void;
}

/** Dispute statuses in which the dispute is still open (Stripe's names). */
const OPEN_DISPUTE = new Set(['warning_needs_response', 'warning_under_review', 'needs_response', 'under_review']);

export class StripeGateway implements PaymentGateway {
  readonly #stripe: Stripe;
  readonly #options: Required<Omit<StripeGatewayOptions, 'onCall'>> & Pick<StripeGatewayOptions, 'onCall'>;

  constructor(stripe: Stripe, options: StripeGatewayOptions) {
    this.#stripe = stripe;
    this.#options = { maxRateLimitWaitMs: 5_000, ...options };
  }

  async getCharge(id: string): Promise<Charge> {
    return toCharge(await this.#call('charges.retrieve', 'read', `Charge ${id}`, () => this.#stripe.charges.retrieve(id)));
  }

  async getPaymentIntent(id: string): Promise<PaymentIntent> {
    return toPaymentIntent(
      await this.#call('payment_intents.retrieve', 'read', `PaymentIntent ${id}`, () => this.#stripe.paymentIntents.retrieve(id)),
    );
  }

  async hasBlockingDispute(chargeId: string): Promise<boolean> {
    const disputes = await this.#call('disputes.list', 'read', `Charge ${chargeId}`, () =>
      this.#stripe.disputes.list({ charge: chargeId, limit: 100 }),
    );
    return disputes.data.some((d) => OPEN_DISPUTE.has(d.status) && !d.is_charge_refundable);
  }

  async createRefund(input: CreateRefundInput): Promise<Refund> {
    const subject = input.paymentIntent !== undefined ? `PaymentIntent ${input.paymentIntent}` : `Charge ${input.charge}`;
    const params: Stripe.RefundCreateParams = {
      ...(input.paymentIntent !== undefined ? { payment_intent: input.paymentIntent } : { charge: input.charge }),
      ...(input.amount !== undefined ? { amount: input.amount } : {}),
      ...(input.reason !== undefined ? { reason: input.reason } : {}),
      metadata: input.metadata,
    };
    return toRefund(
      await this.#call('refunds.create', 'refund', subject, () => this.#stripe.refunds.create(params, { idempotencyKey: input.idempotencyKey })),
    );
  }

  async getRefund(id: string): Promise<Refund> {
    return toRefund(await this.#call('refunds.retrieve', 'read', `Refund ${id}`, () => this.#stripe.refunds.retrieve(id)));
  }

  async listRefunds(input: ListRefundsInput): Promise<Page<Refund>> {
    const subject = input.charge !== undefined ? `Charge ${input.charge}` : `PaymentIntent ${input.paymentIntent}`;
    const list = await this.#call('refunds.list', 'read', subject, () =>
      this.#stripe.refunds.list({
        ...(input.charge !== undefined ? { charge: input.charge } : {}),
        ...(input.paymentIntent !== undefined ? { payment_intent: input.paymentIntent } : {}),
        limit: input.limit,
        ...(input.startingAfter !== undefined ? { starting_after: input.startingAfter } : {}),
      }),
    );
    return { data: list.data.map(toRefund), hasMore: list.has_more };
  }

  async cancelPaymentIntent(id: string, options: { reason?: CancellationReason; idempotencyKey?: string }): Promise<PaymentIntent> {
    const params: Stripe.PaymentIntentCancelParams = options.reason !== undefined ? { cancellation_reason: options.reason } : {};
    return toPaymentIntent(
      await this.#call('payment_intents.cancel', 'cancel', `PaymentIntent ${id}`, () =>
        this.#stripe.paymentIntents.cancel(id, params, options.idempotencyKey !== undefined ? { idempotencyKey: options.idempotencyKey } : {}),
      ),
    );
  }

  async ping(): Promise<void> {
    await this.#call('refunds.list', 'read', 'The refund list', () => this.#stripe.refunds.list({ limit: 1 }));
  }

  /**
   * One logical call: the SDK retries connection errors and 5xx with the same idempotency key; plain 429s it does not
   * retry, so they are retried here, honouring Retry-After, with the same request (and so the same key).
   */
  async #call<T extends { lastResponse: { requestId: string; statusCode: number } }>(
    operation: string,
    kind: StripeOperation,
    subject: string,
    fn: () => Promise<T>,
  ): Promise<T> {
    const started = performance.now();
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await fn();
        this.#report(operation, started, { outcome: 'ok', stripeRequestId: result.lastResponse.requestId, statusCode: result.lastResponse.statusCode });
        return result;
      } catch (error) {
        const waitMs = this.#rateLimitWait(error, attempt);
        if (waitMs !== undefined) {
          await sleep(waitMs);
          continue;
        }
        const mapped = mapStripeError(error, kind, subject);
        const wire = error as { requestId?: string; statusCode?: number };
        this.#report(operation, started, { outcome: 'error', stripeRequestId: wire.requestId, statusCode: wire.statusCode, code: mapped.code });
        throw mapped;
      }
    }
  }

  #rateLimitWait(error: unknown, attempt: number): number | undefined {
    if (!isRateLimited(error) || attempt >= this.#options.maxRateLimitRetries) return undefined;
    const backoff = Math.min(500 * 2 ** attempt, 5_000);
    const asked = retryAfterSeconds(error);
    const waitMs = asked !== undefined ? asked * 1000 : backoff;
    return waitMs <= this.#options.maxRateLimitWaitMs ? waitMs : undefined;
  }

  #report(operation: string, started: number, event: Omit<StripeCallEvent, 'operation' | 'durationMs'>): void {
    this.#options.onCall?.({ operation, durationMs: performance.now() - started, ...event });
  }
}
