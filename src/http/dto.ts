// Mappers from domain objects to the contract's JSON (snake_case, RFC 3339 timestamps).
import type { BatchItem, RefundBatch } from '../refunds/batch.js';
import type { EventObjectType, GatewayEvent } from '../refunds/events.js';
import { GatewayError } from '../refunds/gateway-error.js';
import type { PaymentPicture } from '../refunds/payment-picture.js';
import type { RefundPreview } from '../refunds/refund-preview.js';
import type { RefundRequest, StoredProblem } from '../refunds/refund-request.js';
import type { Refund } from '../refunds/types.js';
import { problemBody } from './problem.js';

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

/** A refusal kept as data (a refund request's outcome), as the very problem+json it was first answered with. */
const storedProblemDto = (p: StoredProblem) => problemBody(new GatewayError(p.code, p.detail, { fields: p.fields }), p.requestId);

export const refundRequestDto = (r: RefundRequest) => ({
  id: r.id,
  status: r.status,
  request: r.request,
  amount: r.amount,
  currency: r.currency,
  requested_by: r.requestedBy,
  decided_by: r.decidedBy,
  decision_note: r.decisionNote,
  refund: r.refund === null ? null : refundDto(r.refund),
  problem: r.problem === null ? null : storedProblemDto(r.problem),
  created: rfc3339(r.created),
  decided_at: r.decidedAt === null ? null : rfc3339(r.decidedAt),
  expires_at: rfc3339(r.expiresAt),
});

/** A preview's problem is the one the real request would answer with, under this request's id. */
export const previewDto = (p: RefundPreview, requestId: string) => ({
  would: p.would,
  amount: p.amount,
  currency: p.currency,
  refundable_amount: p.refundableAmount,
  refundable_amount_after: p.refundableAmountAfter,
  charge: p.charge,
  payment_intent: p.paymentIntent,
  problem: p.problem === null ? null : problemBody(p.problem, requestId),
});

export const batchDto = (b: RefundBatch) => ({
  id: b.id,
  status: b.status,
  counts: { ...b.counts },
  created: rfc3339(b.created),
  completed_at: b.completedAt === null ? null : rfc3339(b.completedAt),
  requested_by: b.requestedBy,
});

/** An item with what was asked (the payment, the amount if one was given) and its answer: a refund, a refund request or a problem. */
export const batchItemDto = (item: BatchItem) => ({
  key: item.key,
  status: item.status,
  charge: item.request.charge ?? null,
  payment_intent: item.request.payment_intent ?? null,
  amount: item.request.amount ?? null,
  currency: item.request.currency ?? null,
  refund: item.refund === null ? null : refundDto(item.refund),
  // The refund path's own answer for it, as POST /v1/refunds gave it (202): the request as it was then.
  refund_request: item.refundRequest === null ? null : refundRequestDto(item.refundRequest),
  problem:
    item.problem === null
      ? null
      : problemBody(new GatewayError(item.problem.code, item.problem.detail, { fields: item.problem.fields, replayOf: item.problem.requestId }), item.problem.requestId),
});

/** Each kind of object an event can be about, to its contract JSON (an event keeps the object as it was then). */
type EventObjectDto = ReturnType<typeof refundDto> | ReturnType<typeof refundRequestDto> | ReturnType<typeof batchDto>;
const EVENT_OBJECT_DTO: Record<EventObjectType, (object: never) => EventObjectDto> = {
  refund: (object: Refund) => refundDto(object),
  refund_request: (object: RefundRequest) => refundRequestDto(object),
  refund_batch: (object: RefundBatch) => batchDto(object),
};

/** An event as callers receive it, pushed or pulled: the same JSON either way. */
export const eventDto = (event: GatewayEvent) => ({
  id: event.id,
  type: event.type,
  created: event.created.toISOString().replace(/\.\d{3}Z$/, 'Z'),
  sequence: event.sequence,
  data: { object: EVENT_OBJECT_DTO[event.objectType](event.object as never), previous_status: event.previousStatus },
});
