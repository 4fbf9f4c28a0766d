// The zod schemas of refund batches: the body of thousands of items checked at once, the items list and its query.
import { z } from 'zod';
import { BATCH_ITEM_STATUSES, MAX_BATCH_ITEMS } from '../refunds/batch.js';
import { exactlyOnePayment, problemSchema, refundBodyFields, refundRequestSchema, refundSchema } from './schemas.js';

export const batchId = z
  .string()
  .regex(/^rb_[A-Za-z0-9]{1,250}$/, 'must be a refund batch id (rb_…)')
  .meta({ example: 'rb_5d1f0c2a9b8e7d6c5b4a3f2e' });

const itemKey = z.string().regex(/^[\x20-\x7e]{1,255}$/, 'an item key is 1–255 printable ASCII characters');

/**
 * As POST /v1/refunds's amount, but a fraction does not stop zod from checking the rest of the batch (an integer
 * check aborts its whole parse, and the duplicate keys would go unreported in the same answer).
 */
const itemAmount = z
  .number()
  .multipleOf(1, 'must be an integer in minor units')
  .min(1)
  .max(99_999_999)
  .optional()
  .meta({ type: 'integer', description: 'Minor units. Omitted: everything still refundable.', example: 2500 } as Record<string, unknown>);

const batchItemBody = z
  .strictObject({
    key: itemKey.meta({
      description:
        'The item’s own idempotency key, scoped to your caller id and the batch route: across all your batches, one key makes at most one refund.',
      example: 'order-42-refund',
    }),
    ...refundBodyFields,
    amount: itemAmount,
  })
  .superRefine(exactlyOnePayment);

/** Every item checked at once; a key used twice is reported at each later use, with where it was first used. */
export const createBatchBody = z
  .strictObject({
    items: z
      .array(batchItemBody)
      .min(1, 'a batch has at least one item')
      .max(MAX_BATCH_ITEMS, `a batch has at most ${MAX_BATCH_ITEMS} items`)
      .superRefine(
        (items, ctx) => {
          // It runs whatever came before it: `items` may not even be an array.
          if (!Array.isArray(items)) return;
          const first = new Map<string, number>();
          items.forEach((item: { key?: unknown } | undefined, index) => {
            // An item that is not an object has no key here (its own problem is reported by the item schema).
            if (typeof item?.key !== 'string') return;
            const seen = first.get(item.key);
            if (seen === undefined) first.set(item.key, index);
            else ctx.addIssue({ code: 'custom', path: [index, 'key'], message: `the key "${item.key}" is already used by /items/${seen}` });
          });
        },
        // Even when some items failed: every problem is listed at once.
        { when: () => true },
      ),
  })
  .meta({
    id: 'CreateRefundBatchRequest',
    example: {
      items: [
        { key: 'order-41-refund', payment_intent: 'pi_DemoSucceeded', amount: 1000 },
        { key: 'order-42-refund', charge: 'ch_DemoPartlyRefunded', reason: 'duplicate', metadata: { order: '42' } },
      ],
    },
  });

export const batchItemSchema = z
  .object({
    key: z.string(),
    status: z.enum(BATCH_ITEM_STATUSES),
    charge: z.string().nullable(),
    payment_intent: z.string().nullable(),
    amount: z.number().int().nullable().meta({ description: 'As sent; null when it was omitted (everything still refundable).' }),
    currency: z.string().nullable().meta({ description: 'As sent; null when it was omitted.' }),
    refund: refundSchema.nullable().meta({ description: 'The refund made (refunded), as POST /v1/refunds answered it.' }),
    refund_request: refundRequestSchema
      .nullable()
      .meta({ description: 'The refund request the item became (awaiting_approval: above your approval_above), as it was then; read it by id for its decision.' }),
    problem: problemSchema.nullable().meta({ description: 'Why no refund was made (refused, failed), as POST /v1/refunds would answer it.' }),
  })
  .meta({ id: 'RefundBatchItem' });

export const batchItemListQuery = z.strictObject({
  status: z.enum(BATCH_ITEM_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(10),
  starting_after: itemKey.optional().meta({ description: 'An item key: the page after it, in the order sent.' }),
});

export const batchItemListSchema = z.object({ data: z.array(batchItemSchema), has_more: z.boolean() }).meta({ id: 'RefundBatchItemList' });

export const cancelBatchBody = z.strictObject({}).meta({ id: 'CancelRefundBatchRequest' });
