// Previews: what POST /v1/refunds would do with a body — every check it runs, on a fresh read — without making anything.
import type { DailyLimits } from './daily-limits.js';
import { GatewayError, type ErrorCode } from './gateway-error.js';
import { assertWithinMaxAmount, needsApproval, policyLimitExceeded, type LimitsOf } from './limits.js';
import type { ChargeView, PaymentGateway } from './payment-gateway.js';
import { assertPaymentIntentRefundable, decideRefund, noChargeError, refundableAmount } from './rules.js';
import type { CreateRefundRequest, PaymentIntent } from './types.js';
import { REFUND_REFUSALS } from './refusals.js';

export interface RefundPreview {
  would: 'refund' | 'request_approval' | 'refuse';
  /** What the refund is for: the amount asked, or what an omitted amount resolves to. */
  amount: number;
  currency: string;
  /** What could be refunded now (0 when the payment cannot be refunded at all), as GET /v1/payments says. */
  refundableAmount: number;
  /** What would be left once this refund is made; the same as refundableAmount unless `would` is `refund`. */
  refundableAmountAfter: number;
  charge: string | null;
  paymentIntent: string | null;
  /** The refusal the real request would get (rendered as its problem+json), or null. */
  problem: GatewayError | null;
}

/** Refusals a preview reports as `refuse` with their problem; anything else (404, Stripe or ledger failing) is its own answer. */
const PREVIEWED: ReadonlySet<ErrorCode> = new Set<ErrorCode>(REFUND_REFUSALS.filter((code) => code !== 'not_found'));

export interface RefundPreviewsDeps {
  gateway: PaymentGateway;
  daily: DailyLimits;
  limitsOf: LimitsOf;
}

export class RefundPreviews {
  readonly #deps: RefundPreviewsDeps;

  constructor(deps: RefundPreviewsDeps) {
    this.#deps = deps;
  }

  /**
   * One Stripe read — a PaymentIntent with its latest charge and that charge's refunds, or a charge with its
   * PaymentIntent — plus, as for the real request, the dispute list when the charge is disputed. Then the real
   * request's checks in its order: the PaymentIntent, the rules (currency guard included), `max_amount`,
   * `approval_above`, and what is left of `daily_amount` today (read, not reserved).
   */
  async preview(callerId: string, request: CreateRefundRequest): Promise<RefundPreview> {
    const { gateway, daily } = this.#deps;
    const limits = this.#deps.limitsOf(callerId);
    let intent: PaymentIntent | null;
    let view: ChargeView | null;
    if (request.payment_intent !== undefined) {
      const read = await gateway.readPaymentIntent(request.payment_intent);
      intent = read.intent;
      view = read.charge;
    } else {
      view = await gateway.readCharge(request.charge ?? '');
      intent = view.intent;
    }
    const charge = view?.charge ?? null;
    const blockingDispute = charge?.disputed ? await gateway.hasBlockingDispute(charge.id) : false;
    const left = charge ? refundableAmount(charge) : 0;
    const open = charge !== null && charge.captured && charge.status === 'succeeded' && (intent === null || intent.status === 'succeeded') && !blockingDispute;
    const refundable = open ? left : 0;
    const currency = charge?.currency ?? intent?.currency ?? '';
    const answer = (would: RefundPreview['would'], amount: number, problem: GatewayError | null): RefundPreview => ({
      would,
      amount,
      currency,
      refundableAmount: refundable,
      refundableAmountAfter: would === 'refund' ? refundable - amount : refundable,
      charge: charge?.id ?? null,
      paymentIntent: intent?.id ?? null,
      problem,
    });

    try {
      // As the real request: a PaymentIntent is judged before its charge's turn is even asked for.
      if (request.payment_intent !== undefined && intent !== null) assertPaymentIntentRefundable(intent);
      if (view === null) throw noChargeError(intent as PaymentIntent);
      const amount = decideRefund({ charge: view.charge, intent: view.intent, blockingDispute, amount: request.amount, currency: request.currency });
      assertWithinMaxAmount(limits, amount, currency);
      if (needsApproval(limits, amount, currency)) return answer('request_approval', amount, null);
      const day = await daily.remaining(limits, callerId, currency);
      if (day !== null && amount > day.remaining) {
        throw policyLimitExceeded({ window: 'day', amount, currency, limit: day.cap, remaining: day.remaining });
      }
      return answer('refund', amount, null);
    } catch (error) {
      if (!(error instanceof GatewayError && PREVIEWED.has(error.code))) throw error;
      return answer('refuse', request.amount ?? left, error);
    }
  }
}
