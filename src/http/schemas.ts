// The zod schemas of the HTTP contract: ids, request bodies and queries, the Refund, the payment picture, problems.
import { z } from 'zod';
import { BATCH_STATUSES } from '../refunds/batch.js';
import { EVENT_TYPES } from '../refunds/events.js';
import { REFUND_REQUEST_STATUSES } from '../refunds/refund-request.js';
import { CANCELLATION_REASONS, REFUND_REASONS, REFUND_STATUSES, REQUESTABLE_REFUND_REASONS } from '../refunds/types.js';

const idOf = (prefixes: readonly string[], what: string) =>
  z
    .string()
    .regex(new RegExp(`^(${prefixes.join('|')})_[A-Za-z0-9]{1,250}$`), `must be a ${what} id (${prefixes.map((p) => `${p}_…`).join(' or ')})`);

export const chargeId = idOf(['ch', 'py'], 'charge').meta({ example: 'ch_3PdemoCharge' });
export const paymentIntentId = idOf(['pi'], 'PaymentIntent').meta({ example: 'pi_DemoSucceeded' });
export const refundId = idOf(['re', 'pyr'], 'refund').meta({ example: 're_3PdemoRefund' });
export const paymentId = idOf(['ch', 'py', 'pi'], 'charge or PaymentIntent').meta({ example: 'pi_DemoPartlyRefunded' });
export const refundRequestId = idOf(['rr'], 'refund request').meta({ example: 'rr_6c1e0f3a9b2d4e5f6a7b8c9d' });
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
    limit: z.number().int().optional().meta({ description: 'policy_limit_exceeded: the limit that would be passed.' }),
    window: z.enum(['refund', 'day']).optional().meta({ description: 'policy_limit_exceeded: `refund` (max_amount) or `day` (daily_amount, UTC).' }),
    remaining: z.number().int().optional().meta({ description: 'policy_limit_exceeded: what is left within the limit.' }),
    refund_request_status: z.enum(REFUND_REQUEST_STATUSES).optional(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details; `code` is the stable, machine-readable part.' });

export const healthSchema = z.object({ status: z.literal('ok') });
export const readySchema = z.object({ checks: z.record(z.string(), z.string()) });

export const previewSchema = z
  .object({
    would: z.enum(['refund', 'request_approval', 'refuse']).meta({
      description: '`refund`: POST /v1/refunds would make it (201); `request_approval`: a refund request (202); `refuse`: `problem`.',
    }),
    amount: z.number().int().meta({ description: 'What was asked for, or what an omitted amount resolves to.' }),
    currency: z.string(),
    refundable_amount: z.number().int().meta({ description: 'What can be refunded now (0 when the payment cannot be refunded).' }),
    refundable_amount_after: z.number().int().meta({
      description: 'What is left once this refund is made; equal to refundable_amount unless `would` is `refund`.',
    }),
    charge: z.string().nullable(),
    payment_intent: z.string().nullable(),
    problem: problemSchema.nullable().meta({ description: 'The problem+json the real request would get, or null.' }),
  })
  .meta({
    id: 'RefundPreview',
    example: {
      would: 'refund',
      amount: 2500,
      currency: 'usd',
      refundable_amount: 7500,
      refundable_amount_after: 5000,
      charge: 'ch_DemoPartlyRefunded',
      payment_intent: 'pi_DemoPartlyRefunded',
      problem: null,
    },
  });

export const refundRequestSchema = z
  .object({
    id: z.string(),
    status: z.enum(REFUND_REQUEST_STATUSES).meta({ description: '`expired`: undecided for APPROVAL_TTL_HOURS.' }),
    request: createRefundBody.meta({ description: 'The body of POST /v1/refunds as sent.' }),
    amount: z.number().int().meta({ description: 'What the refund is for; an approval refunds exactly this.' }),
    currency: z.string(),
    requested_by: z.string(),
    decided_by: z.string().nullable(),
    decision_note: z.string().nullable(),
    refund: refundSchema.nullable().meta({ description: 'The refund made on approval (its requested_by is the requester).' }),
    problem: problemSchema.nullable().meta({
      description: 'Why the approved refund was refused (the payment changed, the requester’s limits). Both refund and problem null on an approved request: its refund has no known outcome yet; approving it again settles it.',
    }),
    created: timestamp,
    decided_at: timestamp.nullable(),
    expires_at: timestamp,
  })
  .meta({
    id: 'RefundRequest',
    example: {
      id: 'rr_6c1e0f3a9b2d4e5f6a7b8c9d',
      status: 'awaiting_approval',
      request: { payment_intent: 'pi_DemoPartlyRefunded' },
      amount: 7500,
      currency: 'usd',
      requested_by: 'support-desk',
      decided_by: null,
      decision_note: null,
      refund: null,
      problem: null,
      created: '2026-11-27T17:48:07Z',
      decided_at: null,
      expires_at: '2026-11-30T17:48:07Z',
    },
  });

export const refundRequestListQuery = z.strictObject({
  status: z.enum(REFUND_REQUEST_STATUSES).optional(),
  requested_by: callerId.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(10),
  starting_after: refundRequestId.optional().meta({ description: 'A refund request id: the page after it.' }),
});

export const refundRequestListSchema = z
  .object({ data: z.array(refundRequestSchema), has_more: z.boolean() })
  .meta({ id: 'RefundRequestList' });

export const decisionBody = z
  .strictObject({ note: z.string().min(1).max(1_000).optional().meta({ description: 'Why; kept with the decision.' }) })
  .meta({ id: 'RefundRequestDecision', example: { note: 'Checked with the customer: duplicate charge.' } });

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
      object: z
        .union([refundSchema, refundRequestSchema, batchSchema])
        .meta({ description: 'A Refund (refund.*), a RefundRequest (refund_request.*) or a RefundBatch (refund_batch.completed).' }),
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
