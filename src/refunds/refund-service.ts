// Making refunds: one caller request, at most one refund, never more than is left, serialised per charge.
import { GatewayError } from './gateway-error.js';
import { runIdempotent, type Attempt, type IdempotencyDeps } from './idempotency.js';
import type { CallOptions, ChargeView, PaymentGateway } from './payment-gateway.js';
import type { PaymentLocks } from './payment-locks.js';
import type { RefundReads } from './refund-reads.js';
import { assertPaymentIntentRefundable, decideRefund, refundableAmount } from './rules.js';
import { GATEWAY_METADATA, type Refund, type RequestableRefundReason } from './types.js';

const REFUNDS_ROUTE = 'POST /v1/refunds';
/** PaymentIntent → charge links remembered; a succeeded PaymentIntent's charge never changes. */
const INTENT_LINKS_MAX = 10_000;

export interface CreateRefundRequest {
  charge?: string;
  payment_intent?: string;
  amount?: number;
  currency?: string;
  reason?: RequestableRefundReason;
  metadata?: Record<string, string>;
}

type CallPriority = NonNullable<CallOptions['priority']>;

export interface CreateRefundOptions {
  route?: string;
  priority?: CallPriority;
}

export interface CallerContext {
  callerId: string;
  /** The request id the caller sees (`x-request-id`); stored refusals are replayed with it. */
  requestId: string;
}

export interface RefundServiceDeps {
  gateway: PaymentGateway;
  locks: PaymentLocks;
  reads: RefundReads;
  idempotency: IdempotencyDeps;
  lockWaitMs: number;
}

export class RefundService {
  readonly #deps: RefundServiceDeps;
  /** Insertion-ordered, so the oldest link is the first to go. */
  readonly #intentLinks = new Map<string, string>();

  constructor(deps: RefundServiceDeps) {
    this.#deps = deps;
  }

  /**
   * `options.route` scopes the key to another route than POST /v1/refunds (a batch's items have keys of their own);
   * `options.priority` background lets requests go first at Stripe's rate limit.
   */
  async createRefund(caller: CallerContext, idempotencyKey: string, request: CreateRefundRequest, options: CreateRefundOptions = {}) {
    return runIdempotent(
      this.#deps.idempotency,
      { callerId: caller.callerId, route: options.route ?? REFUNDS_ROUTE, key: idempotencyKey },
      { requestId: caller.requestId, body: request },
      async (attempt) => {
        const refund = await this.#refundOnce(caller.callerId, attempt, request, options.priority ?? 'interactive');
        return { value: refund, refund };
      },
    );
  }

  /**
   * Two Stripe calls in the usual case: the charge (with its PaymentIntent and newest refunds, in one read) under the
   * charge's turn, then the refund. A refund by PaymentIntent first needs the PaymentIntent's charge; once it
   * succeeded that link never changes, so it is read once per PaymentIntent and remembered.
   */
  async #refundOnce(callerId: string, attempt: Attempt, request: CreateRefundRequest, priority: CallPriority): Promise<Refund> {
    const { gateway, locks } = this.#deps;
    const options: CallOptions = { deadline: attempt.deadline, priority };
    const chargeId = request.payment_intent !== undefined ? await this.#chargeOf(request.payment_intent, options) : (request.charge ?? '');

    // The check and the Stripe call for one charge never interleave with another request's for the same charge.
    return locks.withTurn(chargeId, this.#deps.lockWaitMs, async (turn) => {
      const view = await gateway.readCharge(chargeId, options);
      // Made by an earlier attempt of this very request (a timeout, a crash, a lost ledger record): adopt it.
      const own = await this.#findOwnRefund(view, attempt, options);
      if (own) return own;
      const blockingDispute = view.charge.disputed ? await gateway.hasBlockingDispute(chargeId, options) : false;
      const check = { intent: view.intent, blockingDispute, amount: request.amount, currency: request.currency };
      const amount = decideRefund({ charge: view.charge, ...check });
      // Money moves only while the turn is certainly ours and the record's lease has time left.
      turn.assertHeld();
      try {
        return await gateway.createRefund(
          {
            ...(request.payment_intent !== undefined ? { paymentIntent: request.payment_intent } : { charge: chargeId }),
            // An omitted amount stays omitted at Stripe too: Stripe then refunds exactly what it still holds.
            ...(request.amount !== undefined ? { amount } : {}),
            ...(request.reason !== undefined ? { reason: request.reason } : {}),
            metadata: { ...request.metadata, [GATEWAY_METADATA.caller]: callerId, [GATEWAY_METADATA.requestId]: attempt.requestId },
            idempotencyKey: attempt.stripeKey,
          },
          options,
        );
      } catch (error) {
        // Stripe stays the authority: when it refuses more than is left (someone refunded outside the gateway in the
        // meantime), the rules on a fresh read say why, with what is left, in the gateway's own codes.
        if (error instanceof GatewayError && error.code === 'amount_exceeds_refundable') {
          const fresh = await gateway.readCharge(chargeId, options);
          decideRefund({ charge: fresh.charge, ...check });
          throw new GatewayError('amount_exceeds_refundable', error.message, {
            fields: { refundable_amount: refundableAmount(fresh.charge), currency: fresh.charge.currency },
            cause: error,
          });
        }
        throw error;
      }
    });
  }

  /** The charge of a refundable PaymentIntent; a PaymentIntent that is not refundable is refused here, before any turn. */
  async #chargeOf(paymentIntentId: string, options: CallOptions): Promise<string> {
    const known = this.#intentLinks.get(paymentIntentId);
    if (known !== undefined) return known;
    const { intent } = await this.#deps.gateway.readPaymentIntent(paymentIntentId, options);
    assertPaymentIntentRefundable(intent);
    if (!intent.latestCharge) {
      throw new GatewayError('payment_intent_not_refundable', `PaymentIntent ${intent.id} has no charge.`, { fields: { payment_intent_status: intent.status } });
    }
    if (this.#intentLinks.size >= INTENT_LINKS_MAX) this.#intentLinks.delete(this.#intentLinks.keys().next().value as string);
    this.#intentLinks.set(paymentIntentId, intent.latestCharge);
    return intent.latestCharge;
  }

  /**
   * The refund carrying this request's derived id, if one exists. The charge read embeds its newest refunds (ten at
   * Stripe), which costs nothing to look through and covers a record the ledger lost. A resumed attempt — whose first
   * attempt surely got as far as it got — also searches the older refunds, one page of a hundred per call.
   */
  async #findOwnRefund(view: ChargeView, attempt: Attempt, options: CallOptions): Promise<Refund | null> {
    const embedded = view.refunds.data.find((r) => r.gatewayRequestId === attempt.requestId);
    if (embedded) return embedded;
    if (!attempt.resumed || !view.refunds.hasMore) return null;
    return this.#deps.reads.findRefundOfAttempt(view.charge.id, attempt.requestId, options);
  }
}
