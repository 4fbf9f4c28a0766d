// The zod schemas of the HTTP contract: ids, request bodies and queries, the Refund, the payment picture, problems.
import { z } from 'zod';
import { BATCH_STATUSES } from '../refunds/batch.js';
import { EVENT_TYPES } from '../refunds/events.js';
import { CANCELLATION_REASONS, REFUND_REASONS, REFUND_STATUSES, REQUESTABLE_REFUND_REASONS } from '../refunds/types.js';

const idOf = (prefixes: readonly string[], what: string) =>
  z
    .string()
    .regex(new RegExp(`^(${prefixes.join('|')})_[A-Za-z0-9]{1,250}$`), `must be a ${what} id (${prefixes.map((p) => `${p}_…`).join(' or ')})`);

export const chargeId = idOf(['ch', 'py'], 'charge').meta({ example: 'ch_3PdemoCharge' });
export const paymentIntentId = idOf(['pi'], 'PaymentIntent').meta({ example: 'pi_DemoSucceeded' });
export const refundId = idOf(['re', 'pyr'], 'refund').meta({ example: 're_3PdemoRefund' });
export const paymentId = idOf(['ch', 'py', 'pi'], 'charge or PaymentIntent').meta({ example: 'pi_DemoPartlyRefunded' });
export const callerId = z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, 'must be a caller id');

const currency = z.string().regex(/^[a-z]{3}$/, 'must be a lower-case ISO 4217 code').meta({ example: 'usd' });
const timestamp = z.string().meta({ description: 'RFC 3339, UTC', example: '2026-11-27T17:48:07Z' });

export const metadataSchema = z
  .record(
    z
      .string()
      .max(40, 'a metadata key is at most 40 characters')
      .regex(/^[^[\]]+$/, 'a metadata key has no [ or ]')
      .refine((key) => !key.startsWith('gateway_'), 'keys beginning gateway_ are reserved for the gateway'),
    z.string().max(500, 'a metadata value is at most 500 characters'),
  )
  .refine((m) => Object.keys(m).length <= 48, 'at most 48 metadata keys')
  .meta({
    description:
      'Strings only; at most 48 keys (Stripe allows 50, the gateway keeps two). The keys `__proto__`, `constructor` and `prototype` are refused.',
    example: { order: '42' },
  });

export const idempotencyKeyHeader = z
  .string()
  .regex(/^[\x20-\x7e]{1,255}$/, 'Idempotency-Key is 1–255 printable ASCII characters')
  .meta({ description: 'Makes retries safe: the same key with the same body replays the first answer.', example: 'order-42-refund-1' });

/** The fields of a refund's body, shared by POST /v1/refunds and each item of a batch. */
export const refundBodyFields = {
  charge: chargeId.optional(),
  payment_intent: paymentIntentId.optional(),
  amount: z.number().int('must be an integer in minor units').min(1).max(99_999_999).optional().meta({
    description: 'Minor units. Omitted: everything still refundable.',
    example: 2500,
  }),
  currency: currency.optional().meta({ description: 'When given, must be the payment’s currency (guards against ×100 mistakes).' }),
  reason: z.enum(REQUESTABLE_REFUND_REASONS).optional(),
  metadata: metadataSchema.optional(),
};

export const exactlyOnePayment = (body: { charge?: string; payment_intent?: string }, ctx: z.RefinementCtx): void => {
  if ((body.charge === undefined) === (body.payment_intent === undefined)) {
    ctx.addIssue({ code: 'custom', path: [], message: 'exactly one of charge and payment_intent is required' });
  }
};

export const createRefundBody = z
  .strictObject(refundBodyFields)
  .superRefine(exactlyOnePayment)
  .meta({ id: 'CreateRefundRequest', example: { payment_intent: 'pi_DemoSucceeded', amount: 2500, metadata: { order: '42' } } });

export const cancelBody = z
  .strictObject({ cancellation_reason: z.enum(CANCELLATION_REASONS).optional() })
  .meta({ id: 'CancelPaymentIntentRequest', example: { cancellation_reason: 'requested_by_customer' } });

export const refundSchema = z
  .object({
    id: z.string(),
    amount: z.number().int(),
    currency: z.string(),
    status: z.enum(REFUND_STATUSES),
    charge: z.string().nullable(),
    payment_intent: z.string().nullable(),
    reason: z.enum(REFUND_REASONS).nullable(),
    failure_reason: z.string().nullable(),
    metadata: z.record(z.string(), z.string()),
    requested_by: z.string().nullable().meta({ description: 'The caller that made it; null: not made through the gateway.' }),
    created: timestamp,
  })
  .meta({
    id: 'Refund',
    example: {
      id: 're_3PdemoRefund',
      amount: 2500,
      currency: 'usd',
      status: 'succeeded',
      charge: 'ch_DemoSucceeded',
      payment_intent: 'pi_DemoSucceeded',
      reason: null,
      failure_reason: null,
      metadata: { order: '42' },
      requested_by: 'billing',
      created: '2026-11-27T17:48:07Z',
    },
  });

export const refundListQuery = z.strictObject({
  charge: chargeId.optional(),
  payment_intent: paymentIntentId.optional(),
  status: z.enum(REFUND_STATUSES).optional().meta({ description: '`pending` is the pending-refunds view.' }),
  requested_by: callerId.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(10),
  starting_after: refundId.optional().meta({ description: 'A refund id: the page after it.' }),
});

export const refundListSchema = z
  .object({ data: z.array(refundSchema), has_more: z.boolean() })
  .meta({ id: 'RefundList' });

export const batchSchema = z
  .object({
    id: z.string(),
    status: z.enum(BATCH_STATUSES),
    counts: z
      .object({
        total: z.number().int(),
        pending: z.number().int().meta({ description: 'Not answered yet: waiting, running, or to be retried.' }),
        refunded: z.number().int(),
        refused: z.number().int(),
        awaiting_approval: z.number().int(),
        failed: z.number().int(),
        canceled: z.number().int(),
      })
      .meta({ description: 'Items by status; they add up to `total`.' }),
    created: timestamp,
    completed_at: timestamp.nullable().meta({ description: 'When its last item ended (completed, or canceled).' }),
    requested_by: z.string(),
  })
  .meta({
    id: 'RefundBatch',
    example: {
      id: 'rb_5d1f0c2a9b8e7d6c5b4a3f2e',
      status: 'running',
      counts: { total: 3, pending: 1, refunded: 1, refused: 1, awaiting_approval: 0, failed: 0, canceled: 0 },
      created: '2026-11-27T17:48:07Z',
      completed_at: null,
      requested_by: 'billing',
    },
  });

export const eventId = z.string().regex(/^evt_[A-Za-z0-9]{1,250}$/, 'must be an event id (evt_…)').meta({ example: 'evt_5d1f0c2a9b8e7d6c5b4a3f2e' });

export const eventSchema = z
  .object({
    id: z.string(),
    type: z.enum(EVENT_TYPES),
    created: timestamp,
    sequence: z.number().int().meta({ description: 'Rises by one per object: keep the highest you have seen.' }),
    data: z.object({
      object: z.union([refundSchema, batchSchema]).meta({ description: 'The Refund (refund.*) or the refund batch (refund_batch.completed).' }),
      previous_status: z.string().nullable().meta({ description: 'The object’s status before this change; null when it is new.' }),
    }),
  })
  .meta({
    id: 'Event',
    example: {
      id: 'evt_5d1f0c2a9b8e7d6c5b4a3f2e',
      type: 'refund.updated',
      created: '2026-11-27T17:48:07Z',
      sequence: 2,
      data: {
        object: {
          id: 're_3PdemoRefund',
          amount: 2500,
          currency: 'usd',
          status: 'failed',
          charge: 'ch_DemoRefundFails',
          payment_intent: 'pi_DemoRefundFails',
          reason: null,
          failure_reason: 'expired_or_canceled_card',
          metadata: {},
          requested_by: 'billing',
          created: '2026-11-27T17:40:00Z',
        },
        previous_status: 'succeeded',
      },
    },
  });

export const eventListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(10),
  starting_after: eventId.optional().meta({ description: 'An event id: the page after it (oldest first).' }),
});

export const eventListSchema = z.object({ data: z.array(eventSchema), has_more: z.boolean() }).meta({ id: 'EventList' });

export const paymentSchema = z
  .object({
    id: z.string(),
    type: z.enum(['payment_intent', 'charge']),
    status: z.string(),
    amount: z.number().int(),
    amount_captured: z.number().int(),
    amount_refunded: z.number().int(),
    refundable_amount: z.number().int(),
    currency: z.string(),
    charge: z.string().nullable(),
    payment_intent: z.string().nullable(),
    refundable: z.boolean(),
    cancelable: z.boolean(),
    next_step: z.enum(['refund', 'cancel', 'none']),
    refunds: z.array(refundSchema).meta({ description: 'The 100 newest refunds.' }),
    has_more_refunds: z.boolean(),
  })
  .meta({
    id: 'Payment',
    example: {
      id: 'pi_DemoPartlyRefunded',
      type: 'payment_intent',
      status: 'succeeded',
      amount: 10000,
      amount_captured: 10000,
      amount_refunded: 2500,
      refundable_amount: 7500,
      currency: 'usd',
      charge: 'ch_DemoPartlyRefunded',
      payment_intent: 'pi_DemoPartlyRefunded',
      refundable: true,
      cancelable: false,
      next_step: 'refund',
      refunds: [],
      has_more_refunds: false,
    },
  });

export const problemSchema = z
  .looseObject({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    code: z.string(),
    detail: z.string(),
    request_id: z.string(),
    errors: z
      .array(z.object({ in: z.enum(['body', 'query', 'path', 'header']), path: z.string(), message: z.string() }))
      .optional(),
    refundable_amount: z.number().int().optional(),
    currency: z.string().optional(),
    payment_intent_status: z.string().nullable().optional(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details; `code` is the stable, machine-readable part.' });

export const healthSchema = z.object({ status: z.literal('ok') });
export const readySchema = z.object({ checks: z.record(z.string(), z.string()) });
