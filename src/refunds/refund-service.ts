// The refund service: creates, reads and lists refunds, and cancels PaymentIntents, by the rules in rules.ts.
import { GatewayError } from './gateway-error.js';
import { runIdempotent, type IdempotencyDeps } from './idempotency.js';
import { KeyedMutex } from './keyed-mutex.js';
import type { Ledger } from './ledger.js';
import type { PaymentGateway } from './payment-gateway.js';
import { buildPaymentPicture, type PaymentPicture } from './payment-picture.js';
import { assertCancelable, assertPaymentIntentRefundable, chargeNeedsIntentCheck, decideRefund } from './rules.js';
import { mapWithConcurrency } from './concurrency.js';
import {
  FINAL_REFUND_STATUSES,
  GATEWAY_METADATA,
  type CancellationReason,
  type Charge,
  type Page,
  type PaymentIntent,
  type Refund,
  type RefundStatus,
  type RequestableRefundReason,
} from './types.js';

export const REFUNDS_ROUTE = 'POST /v1/refunds';
export const CANCEL_ROUTE = 'POST /v1/payment-intents/{id}/cancel';

export interface CreateRefundRequest {
  charge?: string;
  payment_intent?: string;
  amount?: number;
  currency?: string;
  reason?: RequestableRefundReason;
  metadata?: Record<string, string>;
}

export interface CallerContext {
  callerId: string;
  /** The request id the caller sees (`x-request-id`); stored refusals are replayed with it. */
  requestId: string;
}

export interface ListRefundsQuery {
  charge?: string;
  paymentIntent?: string;
  status?: RefundStatus;
  requestedBy?: string;
  limit: number;
  startingAfter?: string;
}

export interface RefundServiceDeps {
  gateway: PaymentGateway;
  ledger: Ledger;
  now: () => Date;
  lockWaitMs: number;
  /** See IdempotencyDeps.leaseMs. */
  idempotencyLeaseMs: number;
  /** Told when the refund index could not be written (the answer to the caller does not change). */
  onIndexError?: (error: unknown, refundId: string) => void;
}

/** Stripe pages hold at most 100; a filtered list reads at most this many pages before it answers. */
const MAX_FILTER_PAGES = 10;
/** How many non-final refunds of an index page are re-read from Stripe at once. */
const REFRESH_CONCURRENCY = 5;

export class RefundService {
  readonly #deps: RefundServiceDeps;
  readonly #idempotency: IdempotencyDeps;
  readonly #mutex = new KeyedMutex();

  constructor(deps: RefundServiceDeps) {
    this.#deps = deps;
    this.#idempotency = { ledger: deps.ledger, now: deps.now, leaseMs: deps.idempotencyLeaseMs };
  }

  /** Payments being refunded right now in this process. */
  get paymentsInFlight(): number {
    return this.#mutex.size;
  }

  async createRefund(caller: CallerContext, idempotencyKey: string, request: CreateRefundRequest) {
    return runIdempotent(
      this.#idempotency,
      { callerId: caller.callerId, route: REFUNDS_ROUTE, key: idempotencyKey },
      { requestId: caller.requestId, body: request },
      async (attempt) => {
        const refund = await this.#refundOnce(caller.callerId, attempt, request);
        return { value: refund, refundId: refund.id };
      },
    );
  }

  async #refundOnce(
    callerId: string,
    attempt: { requestId: string; resumed: boolean; stripeKey: string },
    request: CreateRefundRequest,
  ): Promise<Refund> {
    const { gateway, ledger, lockWaitMs } = this.#deps;
    let intent: PaymentIntent | null = null;
    let chargeId: string;
    if (request.payment_intent !== undefined) {
      intent = await gateway.getPaymentIntent(request.payment_intent);
      assertPaymentIntentRefundable(intent);
      if (!intent.latestCharge) throw new GatewayError('payment_intent_not_refundable', `PaymentIntent ${intent.id} has no charge.`, { fields: { payment_intent_status: intent.status } });
      chargeId = intent.latestCharge;
    } else {
      chargeId = request.charge ?? '';
    }

    // The check and the Stripe call for one charge never interleave with another request's for the same charge.
    const started = Date.now();
    return this.#mutex.run(chargeId, lockWaitMs, () =>
      ledger.withPaymentLock(chargeId, Math.max(0, lockWaitMs - (Date.now() - started)), async () => {
        if (attempt.resumed) {
          const adopted = await this.#findRefundOfAttempt(chargeId, attempt.requestId);
          if (adopted) return this.#remember(adopted);
        }
        const charge = await gateway.getCharge(chargeId);
        if (!intent && chargeNeedsIntentCheck(charge)) intent = await gateway.getPaymentIntent(charge.paymentIntent ?? '');
        const blockingDispute = charge.disputed ? await gateway.hasBlockingDispute(charge.id) : false;
        const check = { intent, blockingDispute, amount: request.amount, currency: request.currency };
        const amount = decideRefund({ charge, ...check });
        try {
          const refund = await gateway.createRefund({
            ...(request.payment_intent !== undefined ? { paymentIntent: request.payment_intent } : { charge: chargeId }),
            // An omitted amount stays omitted at Stripe too: Stripe then refunds exactly what it still holds.
            ...(request.amount !== undefined ? { amount } : {}),
            ...(request.reason !== undefined ? { reason: request.reason } : {}),
            metadata: { ...request.metadata, [GATEWAY_METADATA.caller]: callerId, [GATEWAY_METADATA.requestId]: attempt.requestId },
            idempotencyKey: attempt.stripeKey,
          });
          return this.#remember(refund);
        } catch (error) {
          // Stripe stays the authority: when it refuses more than is left (someone refunded outside the gateway in the
          // meantime), the rules on a fresh read say why, with what is left, in the gateway's own codes.
          if (error instanceof GatewayError && error.code === 'amount_exceeds_refundable') {
            decideRefund({ charge: await gateway.getCharge(chargeId), ...check });
          }
          throw error;
        }
      }),
    );
  }

  /** After a timeout or crash, the refund the first attempt may have made carries its request id in metadata. */
  async #findRefundOfAttempt(chargeId: string, requestId: string): Promise<Refund | null> {
    let startingAfter: string | undefined;
    for (let page = 0; page < MAX_FILTER_PAGES; page++) {
      const found = await this.#deps.gateway.listRefunds({ charge: chargeId, limit: 100, startingAfter });
      const match = found.data.find((r) => r.gatewayRequestId === requestId);
      if (match) return match;
      const last = found.data.at(-1);
      if (!found.hasMore || !last) return null;
      startingAfter = last.id;
    }
    return null;
  }

  /**
   * Keeps the refund index current. Best effort: the refund exists at Stripe whatever the index says, and a failed
   * write must not turn a made refund into an error (the next read or list of it writes it again).
   */
  async #remember(refund: Refund): Promise<Refund> {
    if (refund.requestedBy === null) return refund;
    await this.#deps.ledger.recordRefund(refund, this.#deps.now()).catch((error: unknown) => this.#deps.onIndexError?.(error, refund.id));
    return refund;
  }

  async getRefund(id: string): Promise<Refund> {
    return this.#remember(await this.#deps.gateway.getRefund(id));
  }

  async listRefunds(query: ListRefundsQuery): Promise<Page<Refund>> {
    if (query.charge !== undefined || query.paymentIntent !== undefined) return this.#listFromStripe(query);
    return this.#listFromIndex(query);
  }

  /** Stripe's list for one payment is the truth; it has no status or caller filter, so those apply here. */
  async #listFromStripe(query: ListRefundsQuery): Promise<Page<Refund>> {
    const matches = (r: Refund) =>
      (query.status === undefined || r.status === query.status) && (query.requestedBy === undefined || r.requestedBy === query.requestedBy);
    const filtered = query.status !== undefined || query.requestedBy !== undefined;
    const out: Refund[] = [];
    let startingAfter = query.startingAfter;
    for (let page = 0; page < MAX_FILTER_PAGES; page++) {
      const found = await this.#deps.gateway.listRefunds({
        ...(query.charge !== undefined ? { charge: query.charge } : { paymentIntent: query.paymentIntent ?? '' }),
        limit: filtered ? 100 : query.limit + 1,
        startingAfter,
      });
      for (const refund of found.data) {
        if (!matches(refund)) continue;
        if (out.length === query.limit) return { data: out, hasMore: true };
        out.push(refund);
      }
      const last = found.data.at(-1);
      if (!found.hasMore || !last) return { data: out, hasMore: false };
      startingAfter = last.id;
    }
    // The scan stopped before Stripe's list ended: more may match, so say so (the caller pages on from the last one).
    return { data: out, hasMore: true };
  }

  /** The index knows every refund made through the gateway; non-final ones are re-read so no status is stale. */
  async #listFromIndex(query: ListRefundsQuery): Promise<Page<Refund>> {
    const out: Refund[] = [];
    let startingAfter = query.startingAfter;
    for (let round = 0; round < MAX_FILTER_PAGES; round++) {
      const page = await this.#deps.ledger.listIndexedRefunds({
        status: query.status,
        requestedBy: query.requestedBy,
        limit: query.limit - out.length,
        startingAfter,
      });
      // A few at a time: a page of 100 pending refunds must not spend Stripe's rate limit in one burst.
      const fresh = await mapWithConcurrency(page.data, REFRESH_CONCURRENCY, (r) =>
        FINAL_REFUND_STATUSES.includes(r.status) ? Promise.resolve(r) : this.getRefund(r.id),
      );
      // A refund that moved on (pending → succeeded) while we looked no longer matches its status filter.
      out.push(...fresh.filter((r) => query.status === undefined || r.status === query.status));
      const last = page.data.at(-1);
      if (!page.hasMore || !last) return { data: out, hasMore: false };
      if (out.length >= query.limit) return { data: out, hasMore: true };
      startingAfter = last.id;
    }
    return { data: out, hasMore: true };
  }

  async getPayment(id: string): Promise<PaymentPicture> {
    const { gateway } = this.#deps;
    if (id.startsWith('pi_')) return this.#pictureOfIntent(await gateway.getPaymentIntent(id));
    const charge = await gateway.getCharge(id);
    const intent = charge.paymentIntent ? await gateway.getPaymentIntent(charge.paymentIntent) : null;
    return this.#picture('charge', intent, charge);
  }

  async #pictureOfIntent(intent: PaymentIntent): Promise<PaymentPicture> {
    const charge = intent.latestCharge ? await this.#deps.gateway.getCharge(intent.latestCharge) : null;
    return this.#picture('payment_intent', intent, charge);
  }

  async #picture(asked: 'payment_intent' | 'charge', intent: PaymentIntent | null, charge: Charge | null): Promise<PaymentPicture> {
    const { gateway } = this.#deps;
    const [blockingDispute, refunds] = await Promise.all([
      charge?.disputed ? gateway.hasBlockingDispute(charge.id) : Promise.resolve(false),
      charge ? gateway.listRefunds({ charge: charge.id, limit: 100 }) : Promise.resolve<Page<Refund>>({ data: [], hasMore: false }),
    ]);
    return buildPaymentPicture({ asked, intent, charge, blockingDispute, refunds });
  }

  async cancelPaymentIntent(
    caller: CallerContext,
    id: string,
    body: { cancellation_reason?: CancellationReason },
    idempotencyKey: string | undefined,
  ): Promise<{ replayed: boolean; value: PaymentPicture }> {
    const { gateway } = this.#deps;
    const cancel = async (attempt: { stripeKey?: string; resumed: boolean }) => {
      // A resumed attempt may have cancelled already (504, crash): it skips the status check and asks Stripe again
      // with the same key, so Stripe replays what it did instead of the gateway refusing its own cancellation.
      if (!attempt.resumed) assertCancelable(await gateway.getPaymentIntent(id));
      let intent: PaymentIntent;
      try {
        intent = await gateway.cancelPaymentIntent(id, {
          ...(body.cancellation_reason !== undefined ? { reason: body.cancellation_reason } : {}),
          ...(attempt.stripeKey !== undefined ? { idempotencyKey: attempt.stripeKey } : {}),
        });
      } catch (error) {
        // Past Stripe's 24 h memory of the key, the earlier cancellation shows as a PaymentIntent already canceled.
        const alreadyDone = error instanceof GatewayError && error.fields.payment_intent_status === 'canceled';
        if (!(attempt.resumed && alreadyDone)) throw error;
        intent = await gateway.getPaymentIntent(id);
      }
      // The picture starts from the PaymentIntent the cancel returned: one read fewer, one failure fewer after the fact.
      return { value: await this.#pictureOfIntent(intent), refundId: null };
    };
    if (idempotencyKey === undefined) return { replayed: false, value: (await cancel({ resumed: false })).value };
    return runIdempotent(
      this.#idempotency,
      { callerId: caller.callerId, route: CANCEL_ROUTE, key: idempotencyKey },
      { requestId: caller.requestId, body: { payment_intent: id, ...body } },
      (attempt) => cancel(attempt),
    );
  }
}
