// Routes of /v1/refund-batches: send a batch (idempotent), read it, list its items, cancel what has not started.
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { BatchService } from '../../refunds/batch-service.js';
import { batchId, batchItemListQuery, batchItemListSchema, cancelBatchBody, createBatchBody } from '../batch-schemas.js';
import { batchDto, batchItemDto } from '../dto.js';
import { AUTHENTICATED, described, LEDGER, problemResponses, REPLAY_HEADER } from '../responses.js';
import { batchSchema, idempotencyKeyHeader } from '../schemas.js';
import { callerOf } from './caller.js';

export const batchRoutes: FastifyPluginAsyncZod<{ batches: BatchService }> = async (app, { batches }) => {
  app.post(
    '/v1/refund-batches',
    {
      config: { scope: 'refunds:write', idempotencyKey: 'required' },
      schema: {
        operationId: 'createRefundBatch',
        summary: 'Send many refunds as one job',
        description:
          '1 to 10 000 items, each a body of POST /v1/refunds with its own `key`. Every item is checked at once: a 400 lists ' +
          'each problem by JSON Pointer (`/items/17/amount`) and queues nothing. Each item then runs through exactly the path ' +
          'of POST /v1/refunds, its `key` as Idempotency-Key (scoped to your caller and the batch route), paced under ' +
          'Stripe’s limit behind interactive requests. The body is bound by BODY_LIMIT_BYTES (64 KiB by default, about ' +
          '600 items): a large batch needs a larger limit. Idempotency-Key is required: a retry with the same key and body ' +
          'replays the 202 with `idempotent-replayed: true`, the same batch.',
        tags: ['batches'],
        security: [{ bearerAuth: [] }],
        headers: z.object({ 'idempotency-key': idempotencyKeyHeader }),
        body: createBatchBody,
        response: {
          202: described('Batch accepted: every item checked and queued (or, with `idempotent-replayed: true`, the first answer to this key)', batchSchema, REPLAY_HEADER),
          ...problemResponses([
            ...AUTHENTICATED,
            'idempotency_key_missing',
            'payload_too_large',
            'unsupported_media_type',
            'idempotency_request_in_progress',
            'idempotency_key_reused',
            ...LEDGER,
          ]),
        },
      },
    },
    async (request, reply) => {
      const { replayed, value } = await batches.create(callerOf(request), request.headers['idempotency-key'], request.body.items);
      if (replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(202).send(batchDto(value));
    },
  );

  app.get(
    '/v1/refund-batches/:id',
    {
      config: { scope: 'refunds:read' },
      schema: {
        operationId: 'getRefundBatch',
        summary: 'A batch’s progress: its status and its items counted by status',
        tags: ['batches'],
        security: [{ bearerAuth: [] }],
        params: z.strictObject({ id: batchId }),
        response: { 200: described('The batch: its status and its items counted by status', batchSchema), ...problemResponses([...AUTHENTICATED, 'not_found', ...LEDGER]) },
      },
    },
    async (request) => batchDto(await batches.get(request.params.id)),
  );

  app.get(
    '/v1/refund-batches/:id/items',
    {
      config: { scope: 'refunds:read' },
      schema: {
        operationId: 'listRefundBatchItems',
        summary: 'A batch’s items in the order sent, each with its refund, refund request or problem',
        description: 'Filter with `status`; page with `starting_after` (the last item `key` you have).',
        tags: ['batches'],
        security: [{ bearerAuth: [] }],
        params: z.strictObject({ id: batchId }),
        querystring: batchItemListQuery,
        response: { 200: described('A page of the batch’s items, in the order sent', batchItemListSchema), ...problemResponses([...AUTHENTICATED, 'not_found', ...LEDGER]) },
      },
    },
    async (request) => {
      const { status, limit, starting_after: startingAfter } = request.query;
      const page = await batches.listItems({
        batchId: request.params.id,
        limit,
        ...(status !== undefined ? { status } : {}),
        ...(startingAfter !== undefined ? { startingAfter } : {}),
      });
      return { data: page.data.map(batchItemDto), has_more: page.hasMore };
    },
  );

  app.post(
    '/v1/refund-batches/:id/cancel',
    {
      config: { scope: 'refunds:write', idempotencyKey: 'optional' },
      schema: {
        operationId: 'cancelRefundBatch',
        summary: 'Cancel the items not started',
        description:
          'Items not started become `canceled` and never reach Stripe; items already started run to their answer. The batch ' +
          'is `canceled` once none is running. Canceling again, or canceling an ended batch, changes nothing and answers the ' +
          'batch as it is, so an Idempotency-Key is accepted but not needed. No body (or an empty one).',
        tags: ['batches'],
        security: [{ bearerAuth: [] }],
        headers: z.object({ 'idempotency-key': idempotencyKeyHeader.optional() }),
        params: z.strictObject({ id: batchId }),
        body: cancelBatchBody.optional().transform((b) => b ?? {}),
        response: {
          200: described('The batch after the cancel: `canceled`, or still `running` until its started items end', batchSchema),
          ...problemResponses([...AUTHENTICATED, 'payload_too_large', 'unsupported_media_type', 'not_found', ...LEDGER]),
        },
      },
    },
    async (request) => batchDto(await batches.cancel(request.params.id)),
  );
};
