// Mappers from domain objects to the contract's JSON (snake_case, RFC 3339 timestamps).
import type { EventObjectType, GatewayEvent } from '../refunds/events.js';
import type { PaymentPicture } from '../refunds/payment-picture.js';
import type { Refund } from '../refunds/types.js';

export const rfc3339 = (unixSeconds: number): string => new Date(unixSeconds * 1000).toISOString().replace('.000Z', 'Z');

export const refundDto = (r: Refund) => ({
  id: r.id,
  amount: r.amount,
  currency: r.currency,
  status: r.status,
  charge: r.charge,
  payment_intent: r.paymentIntent,
  reason: r.reason,
  failure_reason: r.failureReason,
  metadata: r.metadata,
  requested_by: r.requestedBy,
  created: rfc3339(r.created),
});

export const paymentDto = (p: PaymentPicture) => ({
  id: p.id,
  type: p.type,
  status: p.status,
  amount: p.amount,
  amount_captured: p.amountCaptured,
  amount_refunded: p.amountRefunded,
  refundable_amount: p.refundableAmount,
  currency: p.currency,
  charge: p.charge,
  payment_intent: p.paymentIntent,
  refundable: p.refundable,
  cancelable: p.cancelable,
  next_step: p.nextStep,
  refunds: p.refunds.map(refundDto),
  has_more_refunds: p.hasMoreRefunds,
});

/** Each kind of object an event can be about, to its contract JSON. */
type EventObjectDto = ReturnType<typeof refundDto>;
const EVENT_OBJECT_DTO: Record<EventObjectType, (object: never) => EventObjectDto> = {
  refund: (object: Refund) => refundDto(object),
};

/** An event as callers receive it, pushed or pulled: the same JSON either way. */
export const eventDto = (event: GatewayEvent) => ({
  id: event.id,
  type: event.type,
  created: event.created.toISOString().replace(/\.\d{3}Z$/, 'Z'),
  sequence: event.sequence,
  data: { object: EVENT_OBJECT_DTO[event.objectType](event.object as never), previous_status: event.previousStatus },
});
