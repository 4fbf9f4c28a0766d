// Routes of /v1/refunds: create (idempotent; a refund or a refund request), preview, read one, list.
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { RefundServices } from '../../refunds/services.js';
import { previewDto, refundDto, refundRequestDto } from '../dto.js';
import { AUTHENTICATED, described, LEDGER, problemResponses, REPLAY_HEADER, UPSTREAM } from '../responses.js';
import {
  createRefundBody,
  idempotencyKeyHeader,
  previewSchema,
  refundId,
  refundListQuery,
  refundListSchema,
  refundRequestSchema,
  refundSchema,
} from '../schemas.js';
import { RULE_REFUSALS } from '../../refunds/refusals.js';
import { callerOf } from './caller.js';

export const refundRoutes: FastifyPluginAsyncZod<Pick<RefundServices, 'refunds' | 'reads' | 'previews'>> = async (app, { refunds, reads, previews }) => {
  app.post(
    '/v1/refunds',
    {
      config: { scope: 'refunds:write', idempotencyKey: 'required', operation: 'refund' },
      schema: {
        operationId: 'createRefund',
        summary: 'Refund a charge or a PaymentIntent',
        description:
          'Full refund by default, or part of one. Never more in total than was captured, even under concurrent requests. ' +
          'Idempotency-Key is required: a retry with the same key and body replays the first answer with `idempotent-replayed: true`. ' +
          'Within the caller’s limits: over `max_amount` or what is left of `daily_amount` today, 403 `policy_limit_exceeded`; ' +
          'over `approval_above`, nothing goes to Stripe and the answer is 202 with a refund request that another caller approves.',
        tags: ['refunds'],
        security: [{ bearerAuth: [] }],
        headers: z.object({ 'idempotency-key': idempotencyKeyHeader }),
        body: createRefundBody,
        response: {
          201: described('Refund created (or, with `idempotent-replayed: true`, the first answer to this key)', refundSchema, REPLAY_HEADER),
          202: described(
            'Over the caller’s approval_above: a refund request awaiting approval, nothing sent to Stripe (or, with `idempotent-replayed: true`, the first answer to this key)',
            refundRequestSchema,
            REPLAY_HEADER,
          ),
          ...problemResponses([
            ...AUTHENTICATED,
            'idempotency_key_missing',
            'payload_too_large',
            'unsupported_media_type',
            ...RULE_REFUSALS,
            'policy_limit_exceeded',
            'payment_busy',
            'idempotency_request_in_progress',
            'idempotency_key_reused',
            ...LEDGER,
            ...UPSTREAM,
          ]),
        },
      },
    },
    async (request, reply) => {
      const { replayed, value } = await refunds.createRefund(callerOf(request), request.headers['idempotency-key'], request.body);
      if (replayed) reply.header('idempotent-replayed', 'true');
      if (value.kind === 'refund_request') return reply.code(202).send(refundRequestDto(value.request));
      return reply.code(201).send(refundDto(value.refund));
    },
  );

  app.post(
    '/v1/refunds/preview',
    {
      config: { scope: 'refunds:read' },
      schema: {
        operationId: 'previewRefund',
        summary: 'What POST /v1/refunds would do with this body, without doing it',
        description:
          'The body of POST /v1/refunds (no Idempotency-Key). Every check the real request runs — the rules, the currency ' +
          'guard, your limits including what is left of today’s — on one fresh read from Stripe; nothing is created. ' +
          '`problem` is exactly the problem+json the real request would answer. An unknown payment is 404, as for the real request.',
        tags: ['refunds'],
        security: [{ bearerAuth: [] }],
        body: createRefundBody,
        response: {
          200: described('What the real request would do; nothing was created', previewSchema),
          ...problemResponses([...AUTHENTICATED, 'payload_too_large', 'unsupported_media_type', 'not_found', ...LEDGER, ...UPSTREAM]),
        },
      },
    },
    async (request) => previewDto(await previews.preview(callerOf(request).callerId, request.body), request.id),
  );

  app.get(
    '/v1/refunds/:id',
    {
      config: { scope: 'refunds:read' },
      schema: {
        operationId: 'getRefund',
        summary: 'Read one refund',
        tags: ['refunds'],
        security: [{ bearerAuth: [] }],
        params: z.strictObject({ id: refundId }),
        response: { 200: described('The refund', refundSchema), ...problemResponses([...AUTHENTICATED, 'not_found', ...UPSTREAM]) },
      },
    },
    async (request) => refundDto(await reads.getRefund(request.params.id)),
  );

  app.get(
    '/v1/refunds',
    {
      config: { scope: 'refunds:read' },
      schema: {
        operationId: 'listRefunds',
        summary: 'List refunds, newest first',
        description:
          'With `charge` or `payment_intent`: Stripe’s list for that payment. Without: every refund made through the gateway. ' +
          '`status=pending` is the pending-refunds view.',
        tags: ['refunds'],
        security: [{ bearerAuth: [] }],
        querystring: refundListQuery,
        response: { 200: described('A page of refunds, newest first', refundListSchema), ...problemResponses([...AUTHENTICATED, 'not_found', ...LEDGER, ...UPSTREAM]) },
      },
    },
    async (request) => {
      const q = request.query;
      const page = await reads.listRefunds({
        charge: q.charge,
        paymentIntent: q.payment_intent,
        status: q.status,
        requestedBy: q.requested_by,
        limit: q.limit,
        startingAfter: q.starting_after,
      });
      return { data: page.data.map(refundDto), has_more: page.hasMore };
    },
  );
};
