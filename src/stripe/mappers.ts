// Pure mappers from Stripe's wire objects to the gateway's domain types.
import type Stripe from 'stripe';
import type { ChargeView, IntentView } from '../refunds/payment-gateway.js';
import type { ProviderEvent } from '../refunds/stripe-events.js';
import { GATEWAY_METADATA, type Charge, type Page, type PaymentIntent, type PaymentIntentStatus, type Refund, type RefundReason, type RefundStatus } from '../refunds/types.js';

const idOf = (value: string | { id: string } | null | undefined): string | null =>
  value == null ? null : typeof value === 'string' ? value : value.id;

const objectOf = <T extends { id: string }>(value: string | T | null | undefined): T | null =>
  value != null && typeof value === 'object' ? value : null;

export function toRefund(refund: Stripe.Refund): Refund {
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(refund.metadata ?? {})) {
    if (!key.startsWith('gateway_')) metadata[key] = value;
  }
  return {
    id: refund.id,
    amount: refund.amount,
    currency: refund.currency,
    // Stripe types status as nullable; a refund without one has not settled, which is what pending means to callers.
    status: (refund.status ?? 'pending') as RefundStatus,
    charge: idOf(refund.charge),
    paymentIntent: idOf(refund.payment_intent),
    reason: (refund.reason ?? null) as RefundReason | null,
    failureReason: refund.failure_reason ?? null,
    metadata,
    requestedBy: refund.metadata?.[GATEWAY_METADATA.caller] ?? null,
    gatewayRequestId: refund.metadata?.[GATEWAY_METADATA.requestId] ?? null,
    created: refund.created,
  };
}

export function toCharge(charge: Stripe.Charge): Charge {
  return {
    id: charge.id,
    amount: charge.amount,
    amountCaptured: charge.amount_captured,
    amountRefunded: charge.amount_refunded,
    currency: charge.currency,
    status: charge.status as Charge['status'],
    captured: charge.captured,
    disputed: charge.disputed,
    paymentIntent: idOf(charge.payment_intent),
    created: charge.created,
  };
}

export function toPaymentIntent(intent: Stripe.PaymentIntent): PaymentIntent {
  return {
    id: intent.id,
    status: intent.status as PaymentIntentStatus,
    amount: intent.amount,
    amountCapturable: intent.amount_capturable,
    amountReceived: intent.amount_received,
    currency: intent.currency,
    latestCharge: idOf(intent.latest_charge),
    created: intent.created,
  };
}

const refundsOf = (charge: Stripe.Charge): Page<Refund> =>
  charge.refunds ? { data: charge.refunds.data.map(toRefund), hasMore: charge.refunds.has_more } : { data: [], hasMore: false };

/** A charge read with `expand: ['payment_intent', 'refunds']`. */
export const toChargeView = (charge: Stripe.Charge): ChargeView => {
  const intent = objectOf(charge.payment_intent);
  return { charge: toCharge(charge), intent: intent ? toPaymentIntent(intent) : null, refunds: refundsOf(charge) };
};

/** A PaymentIntent read with `expand: ['latest_charge.refunds']`: its charge's own PaymentIntent is this one. */
export const toIntentView = (raw: Stripe.PaymentIntent): IntentView => {
  const intent = toPaymentIntent(raw);
  const charge = objectOf(raw.latest_charge);
  return { intent, charge: charge ? { charge: toCharge(charge), intent, refunds: refundsOf(charge) } : null };
};

/** Refund-carrying event types whose `data.object` is a Refund (charge.refunded carries the Charge). */
const REFUND_OBJECT_EVENTS = new Set(['refund.created', 'refund.updated', 'refund.failed', 'charge.refund.updated']);

/**
 * A Stripe event as the rules see it. Lenient about the object: an event whose object is not what its type promises
 * carries neither refund nor charge (the rules then ignore it), so one odd event never stops the event list's reading.
 */
export function toProviderEvent(event: Stripe.Event): ProviderEvent {
  const object = (event.data as { object?: { object?: unknown; id?: unknown } } | undefined)?.object;
  const refund = REFUND_OBJECT_EVENTS.has(event.type) && object?.object === 'refund' ? toRefund(object as unknown as Stripe.Refund) : null;
  const chargeId = event.type === 'charge.refunded' && object?.object === 'charge' && typeof object.id === 'string' ? object.id : null;
  return { id: event.id, type: event.type, created: event.created, refund, chargeId };
}
