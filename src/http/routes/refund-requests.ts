// Routes of /v1/refund-requests: refunds over a caller's approval threshold, read, listed, approved or rejected by another caller.
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { RefundServices } from '../../refunds/services.js';
import { refundRequestDto } from '../dto.js';
import { AUTHENTICATED, described, LEDGER, problemResponses, REPLAY_HEADER, UPSTREAM } from '../responses.js';
import { decisionBody, idempotencyKeyHeader, refundRequestId, refundRequestListQuery, refundRequestListSchema, refundRequestSchema } from '../schemas.js';
import { callerOf } from './caller.js';

const DECISION_PROBLEMS = [
  ...AUTHENTICATED,
  'payload_too_large',
  'unsupported_media_type',
  'not_found',
  'approval_by_requester',
  'refund_request_not_pending',
  'idempotency_request_in_progress',
  'idempotency_key_reused',
  ...LEDGER,
] as const;

export const refundRequestRoutes: FastifyPluginAsyncZod<Pick<RefundServices, 'requests'>> = async (app, { requests }) => {
  app.get(
    '/v1/refund-requests/:id',
    {
      config: { scope: 'refunds:read' },
      schema: {
        operationId: 'getRefundRequest',
        summary: 'Read one refund request',
        tags: ['refund requests'],
        security: [{ bearerAuth: [] }],
        params: z.strictObject({ id: refundRequestId }),
        response: { 200: described('The refund request', refundRequestSchema), ...problemResponses([...AUTHENTICATED, 'not_found', ...LEDGER]) },
      },
    },
    async (request) => refundRequestDto(await requests.get(request.params.id)),
  );

  app.get(
    '/v1/refund-requests',
    {
      config: { scope: 'refunds:read' },
      schema: {
        operationId: 'listRefundRequests',
        summary: 'List refund requests, newest first',
        description: '`status=awaiting_approval` is what waits for a decision now; `expired` ones waited longer than APPROVAL_TTL_HOURS.',
        tags: ['refund requests'],
        security: [{ bearerAuth: [] }],
        querystring: refundRequestListQuery,
        response: { 200: described('A page of refund requests, newest first', refundRequestListSchema), ...problemResponses([...AUTHENTICATED, ...LEDGER]) },
      },
    },
    async (request) => {
      const q = request.query;
      const page = await requests.list({
        limit: q.limit,
        ...(q.status !== undefined ? { status: q.status } : {}),
        ...(q.requested_by !== undefined ? { requestedBy: q.requested_by } : {}),
        ...(q.starting_after !== undefined ? { startingAfter: q.starting_after } : {}),
      });
      return { data: page.data.map(refundRequestDto), has_more: page.hasMore };
    },
  );

  app.post(
    '/v1/refund-requests/:id/approve',
    {
      config: { scope: 'refunds:approve', idempotencyKey: 'optional', operation: 'approval' },
      schema: {
        operationId: 'approveRefundRequest',
        summary: 'Approve a refund request: the refund is made now',
        description:
          'Only a caller other than the requester. The refund runs now, exactly as POST /v1/refunds would for the requester ' +
          '(fresh read, the rules, the requester’s max_amount and daily_amount), for the request’s amount, with a Stripe ' +
          'key derived from the request: two approvals never refund twice. 200 with the request, its `refund` or, when ' +
          'the refund was refused (the payment changed meanwhile), its `problem`. When Stripe does not answer (504), the ' +
          'request stays approved with neither: approving it again settles it. The body is optional; an Idempotency-Key is optional.',
        tags: ['refund requests'],
        security: [{ bearerAuth: [] }],
        headers: z.object({ 'idempotency-key': idempotencyKeyHeader.optional() }),
        params: z.strictObject({ id: refundRequestId }),
        body: decisionBody.optional().transform((b) => b ?? {}),
        response: {
          200: described(
            'Approved: the request with its refund, or the problem the refund got (or, with `idempotent-replayed: true`, the first answer to this key)',
            refundRequestSchema,
            REPLAY_HEADER,
          ),
          ...problemResponses([...DECISION_PROBLEMS, 'payment_busy', ...UPSTREAM]),
        },
      },
    },
    async (request, reply) => {
      const { replayed, value } = await requests.approve(callerOf(request), request.params.id, request.body, request.headers['idempotency-key']);
      if (replayed) reply.header('idempotent-replayed', 'true');
      return refundRequestDto(value);
    },
  );

  app.post(
    '/v1/refund-requests/:id/reject',
    {
      config: { scope: 'refunds:approve', idempotencyKey: 'optional' },
      schema: {
        operationId: 'rejectRefundRequest',
        summary: 'Reject a refund request',
        description: 'Only a caller other than the requester; nothing goes to Stripe. The body is optional; an Idempotency-Key is optional.',
        tags: ['refund requests'],
        security: [{ bearerAuth: [] }],
        headers: z.object({ 'idempotency-key': idempotencyKeyHeader.optional() }),
        params: z.strictObject({ id: refundRequestId }),
        body: decisionBody.optional().transform((b) => b ?? {}),
        response: {
          200: described('Rejected (or, with `idempotent-replayed: true`, the first answer to this key)', refundRequestSchema, REPLAY_HEADER),
          ...problemResponses(DECISION_PROBLEMS),
        },
      },
    },
    async (request, reply) => {
      const { replayed, value } = await requests.reject(callerOf(request), request.params.id, request.body, request.headers['idempotency-key']);
      if (replayed) reply.header('idempotent-replayed', 'true');
      return refundRequestDto(value);
    },
  );
};
