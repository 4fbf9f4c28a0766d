// The refund and cancel rules as pure functions: what may be refunded or cancelled, and how much.
import { GatewayError } from './gateway-error.js';
import { CANCELABLE_PAYMENT_INTENT_STATUSES, type Charge, type PaymentIntent } from './types.js';

/**
 * What is left to refund on a captured charge. After a partial capture Stripe releases the uncaptured rest as a refund
 * that `amount_refunded` already counts, so `amount − amount_refunded` is right and `amount_captured − amount_refunded`
 * (the formula in architecture.md) would count that release twice. Never negative, never more than was captured.
 */
export const refundableAmount = (charge: Charge): number =>
  Math.max(0, Math.min(charge.amountCaptured, charge.amount - charge.amountRefunded));

export const isCancelable = (intent: PaymentIntent): boolean => CANCELABLE_PAYMENT_INTENT_STATUSES.includes(intent.status);

/** Refusals that depend on the PaymentIntent alone: only a `succeeded` one has money to give back. */
export function assertPaymentIntentRefundable(intent: PaymentIntent): void {
  if (intent.status === 'succeeded') return;
  const fields = { payment_intent_status: intent.status };
  if (intent.status === 'requires_capture') {
    throw new GatewayError(
      'payment_intent_requires_capture',
      `PaymentIntent ${intent.id} is only authorised (requires_capture): cancel it with POST /v1/payment-intents/${intent.id}/cancel instead of refunding.`,
      { fields },
    );
  }
  throw new GatewayError(
    'payment_intent_not_refundable',
    `PaymentIntent ${intent.id} has no successful charge to refund (status ${intent.status}).`,
    { fields },
  );
}

/** A succeeded PaymentIntent without a charge: nothing Stripe could refund. */
export const noChargeError = (intent: PaymentIntent): GatewayError =>
  new GatewayError('payment_intent_not_refundable', `PaymentIntent ${intent.id} has no charge.`, { fields: { payment_intent_status: intent.status } });

export interface RefundCheck {
  charge: Charge;
  /** The PaymentIntent behind the charge, if it has one (read together with the charge). */
  intent: PaymentIntent | null;
  /** An open dispute that Stripe would refuse the refund for. */
  blockingDispute: boolean;
  /** Omitted: everything still refundable. */
  amount?: number;
  currency?: string;
}

/**
 * Decides whether a refund may go to Stripe and returns the amount it will be for. The order is the contract's:
 * the payment's state first, then the guard on currency, then the dispute, then the money.
 */
export function decideRefund(check: RefundCheck): number {
  const { charge, intent } = check;
  if (intent) assertPaymentIntentRefundable(intent);
  if (!charge.captured || charge.status !== 'succeeded') {
    throw new GatewayError('payment_intent_not_refundable', `Charge ${charge.id} has not succeeded (status ${charge.status}).`, {
      fields: { payment_intent_status: intent?.status ?? null },
    });
  }
  if (check.currency !== undefined && check.currency !== charge.currency) {
    throw new GatewayError(
      'currency_mismatch',
      `The request names ${check.currency}, but ${charge.id} is in ${charge.currency}; amounts are never converted.`,
      { fields: { currency: charge.currency } },
    );
  }
  if (check.blockingDispute) {
    throw new GatewayError('charge_disputed', `Charge ${charge.id} has an open dispute; money goes back through the dispute.`);
  }
  const left = refundableAmount(charge);
  if (left === 0) {
    throw new GatewayError('charge_already_refunded', `Charge ${charge.id} has already been refunded in full.`);
  }
  if (check.amount !== undefined && check.amount > left) {
    throw new GatewayError(
      'amount_exceeds_refundable',
      `Refund of ${check.amount} exceeds the ${left} ${charge.currency} still refundable on ${charge.id}.`,
      { fields: { refundable_amount: left, currency: charge.currency } },
    );
  }
  return check.amount ?? left;
}

export function assertCancelable(intent: PaymentIntent): void {
  if (isCancelable(intent)) return;
  throw new GatewayError(
    'payment_intent_not_cancelable',
    `PaymentIntent ${intent.id} is ${intent.status}; only ${CANCELABLE_PAYMENT_INTENT_STATUSES.join(', ')} can be cancelled.`,
    { fields: { payment_intent_status: intent.status } },
  );
}
