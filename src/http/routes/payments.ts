// Routes of payments: the refund picture of a charge or PaymentIntent, and cancelling a PaymentIntent.
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { RefundServices } from '../../refunds/services.js';
import { paymentDto } from '../dto.js';
import { AUTHENTICATED, described, LEDGER, problemResponses, REPLAY_HEADER, UPSTREAM } from '../responses.js';
import { cancelBody, idempotencyKeyHeader, paymentId, paymentIntentId, paymentSchema } from '../schemas.js';
import { callerOf } from './caller.js';

export const paymentRoutes: FastifyPluginAsyncZod<Pick<RefundServices, 'payments'>> = async (app, { payments }) => {
  app.get(
    '/v1/payments/:id',
    {
      config: { scope: 'refunds:read' },
      schema: {
        operationId: 'getPayment',
        summary: 'What was paid, refunded and is left to refund',
        description: '`id` is a charge or a PaymentIntent. `next_step` says what to do to give the money back.',
        tags: ['payments'],
        security: [{ bearerAuth: [] }],
        params: z.strictObject({ id: paymentId }),
        response: { 200: described('The payment’s refund picture', paymentSchema), ...problemResponses([...AUTHENTICATED, 'not_found', ...UPSTREAM]) },
      },
    },
    async (request) => paymentDto(await payments.getPayment(request.params.id)),
  );

  app.post(
    '/v1/payment-intents/:id/cancel',
    {
      config: { scope: 'payment_intents:write', idempotencyKey: 'optional', operation: 'cancel' },
      schema: {
        operationId: 'cancelPaymentIntent',
        summary: 'Cancel a PaymentIntent (release an authorisation)',
        description:
          'Allowed in requires_payment_method, requires_capture, requires_confirmation and requires_action. ' +
          'The body is optional. An Idempotency-Key is optional and works as for refunds.',
        tags: ['payments'],
        security: [{ bearerAuth: [] }],
        headers: z.object({ 'idempotency-key': idempotencyKeyHeader.optional() }),
        params: z.strictObject({ id: paymentIntentId }),
        // No body, or an empty one, is `{}`.
        body: cancelBody.optional().transform((b) => b ?? {}),
        response: {
          200: described('PaymentIntent cancelled: its refund picture (or, with `idempotent-replayed: true`, the first answer to this key)', paymentSchema, REPLAY_HEADER),
          ...problemResponses([
            ...AUTHENTICATED,
            'payload_too_large',
            'unsupported_media_type',
            'not_found',
            'payment_intent_not_cancelable',
            'idempotency_request_in_progress',
            'idempotency_key_reused',
            ...LEDGER,
            ...UPSTREAM,
          ]),
        },
      },
    },
    async (request, reply) => {
      const { replayed, value } = await payments.cancelPaymentIntent(
        callerOf(request),
        request.params.id,
        request.body,
        request.headers['idempotency-key'],
      );
      if (replayed) reply.header('idempotent-replayed', 'true');
      return paymentDto(value);
    },
  );
};
