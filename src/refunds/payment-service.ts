// Payments as callers see them: the refund picture of a charge or PaymentIntent, and cancelling authorisations.
import { GatewayError } from './gateway-error.js';
import { runIdempotent, type IdempotencyDeps } from './idempotency.js';
import type { CallOptions, ChargeView, IntentView, PaymentGateway } from './payment-gateway.js';
import { buildPaymentPicture, type PaymentPicture } from './payment-picture.js';
import type { CallerContext } from './refund-service.js';
import { assertCancelable } from './rules.js';
import type { CancellationReason, Page, PaymentIntent, Refund } from './types.js';

const CANCEL_ROUTE = 'POST /v1/payment-intents/{id}/cancel';
/** The picture lists this many newest refunds (the contract's number). */
const PICTURE_REFUNDS = 100;

export class PaymentService {
  readonly #gateway: PaymentGateway;
  readonly #idempotency: IdempotencyDeps;

  constructor(deps: { gateway: PaymentGateway; idempotency: IdempotencyDeps }) {
    this.#gateway = deps.gateway;
    this.#idempotency = deps.idempotency;
  }

  /** One Stripe read (the payment with its charge, or charge with its PaymentIntent, and the newest refunds). */
  async getPayment(id: string): Promise<PaymentPicture> {
    if (id.startsWith('pi_')) return this.#pictureOfIntent(await this.#gateway.readPaymentIntent(id));
    const view = await this.#gateway.readCharge(id);
    return this.#picture('charge', view.intent, view);
  }

  #pictureOfIntent(view: IntentView, options: CallOptions = {}): Promise<PaymentPicture> {
    return this.#picture('payment_intent', view.intent, view.charge, options);
  }

  async #picture(asked: 'payment_intent' | 'charge', intent: PaymentIntent | null, view: ChargeView | null, options: CallOptions = {}): Promise<PaymentPicture> {
    const gateway = this.#gateway;
    const charge = view?.charge ?? null;
    // Only what one read could not tell costs another call: an open dispute, and refunds beyond the embedded ones.
    const [blockingDispute, refunds] = await Promise.all([
      charge?.disputed ? gateway.hasBlockingDispute(charge.id, options) : Promise.resolve(false),
      view?.refunds.hasMore && charge
        ? gateway.listRefunds({ charge: charge.id, limit: PICTURE_REFUNDS }, options)
        : Promise.resolve<Page<Refund>>(view?.refunds ?? { data: [], hasMore: false }),
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
    const cancel = async (attempt: { stripeKey?: string; resumed: boolean; deadline?: number }) => {
      const options: CallOptions = attempt.deadline !== undefined ? { deadline: attempt.deadline } : {};
      // A resumed attempt may have cancelled already (504, crash): it skips the status check and asks Stripe again
      // with the same key, so Stripe replays what it did instead of the gateway refusing its own cancellation.
      if (!attempt.resumed) assertCancelable((await gateway.readPaymentIntent(id, options)).intent);
      let view: IntentView;
      try {
        view = await gateway.cancelPaymentIntent(
          id,
          {
            ...(body.cancellation_reason !== undefined ? { reason: body.cancellation_reason } : {}),
            ...(attempt.stripeKey !== undefined ? { idempotencyKey: attempt.stripeKey } : {}),
          },
          options,
        );
      } catch (error) {
        // Past Stripe's 24 h memory of the key, the earlier cancellation shows as a PaymentIntent already canceled.
        const alreadyDone = error instanceof GatewayError && error.fields.payment_intent_status === 'canceled';
        if (!(attempt.resumed && alreadyDone)) throw error;
        view = await gateway.readPaymentIntent(id, options);
      }
      // The cancel answers the PaymentIntent with its charge and refunds: the picture needs no further read.
      return { value: await this.#pictureOfIntent(view, options), refund: null };
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
