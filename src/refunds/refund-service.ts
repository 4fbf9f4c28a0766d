// Making refunds: one caller request, at most one refund, never more than is left, serialised per charge.
import { GatewayError } from './gateway-error.js';
import { runIdempotent, type IdempotencyDeps } from './idempotency.js';
import { KeyedMutex } from './keyed-mutex.js';
import type { Ledger } from './ledger.js';
import type { PaymentGateway } from './payment-gateway.js';
import type { RefundReads } from './refund-reads.js';
import { assertPaymentIntentRefundable, chargeNeedsIntentCheck, decideRefund } from './rules.js';
import { GATEWAY_METADATA, type PaymentIntent, type Refund, type RequestableRefundReason } from './types.js';

const REFUNDS_ROUTE = 'POST /v1/refunds';

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

export interface RefundServiceDeps {
  gateway: PaymentGateway;
  ledger: Ledger;
  reads: RefundReads;
  idempotency: IdempotencyDeps;
  lockWaitMs: number;
}

export class RefundService {
  readonly #deps: RefundServiceDeps;
  readonly #mutex = new KeyedMutex();

  constructor(deps: RefundServiceDeps) {
    this.#deps = deps;
  }

  async createRefund(caller: CallerContext, idempotencyKey: string, request: CreateRefundRequest) {
    return runIdempotent(
      this.#deps.idempotency,
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
          const adopted = await this.#deps.reads.findRefundOfAttempt(chargeId, attempt.requestId);
          if (adopted) return this.#deps.reads.remember(adopted);
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
          return this.#deps.reads.remember(refund);
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

}
