// Payments as callers see them: the refund picture of a charge or PaymentIntent, and cancelling authorisations.
import { GatewayError } from './gateway-error.js';
import { runIdempotent, type IdempotencyDeps } from './idempotency.js';
import type { PaymentGateway } from './payment-gateway.js';
import { buildPaymentPicture, type PaymentPicture } from './payment-picture.js';
import type { CallerContext } from './refund-service.js';
import { assertCancelable } from './rules.js';
import type { CancellationReason, Charge, Page, PaymentIntent, Refund } from './types.js';

const CANCEL_ROUTE = 'POST /v1/payment-intents/{id}/cancel';

export class PaymentService {
  readonly #gateway: PaymentGateway;
  readonly #idempotency: IdempotencyDeps;

  constructor(deps: { gateway: PaymentGateway; idempotency: IdempotencyDeps }) {
    this.#gateway = deps.gateway;
    this.#idempotency = deps.idempotency;
  }

  async getPayment(id: string): Promise<PaymentPicture> {
    const gateway = this.#gateway;
    if (id.startsWith('pi_')) return this.#pictureOfIntent(await gateway.getPaymentIntent(id));
    const charge = await gateway.getCharge(id);
    const intent = charge.paymentIntent ? await gateway.getPaymentIntent(charge.paymentIntent) : null;
    return this.#picture('charge', intent, charge);
  }

  async #pictureOfIntent(intent: PaymentIntent): Promise<PaymentPicture> {
    const charge = intent.latestCharge ? await this.#gateway.getCharge(intent.latestCharge) : null;
    return this.#picture('payment_intent', intent, charge);
  }

  async #picture(asked: 'payment_intent' | 'charge', intent: PaymentIntent | null, charge: Charge | null): Promise<PaymentPicture> {
    const gateway = this.#gateway;
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
    const gateway = this.#gateway;
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
