// POST /v1/webhooks/stripe: Stripe's events in, verified by signature over the raw body (no API key), applied once by id.
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { GatewayError } from '../../refunds/gateway-error.js';
import type { RefundLifecycle } from '../../refunds/refund-lifecycle.js';
import type { WebhookVerifier } from '../../refunds/stripe-events.js';
import { described, LEDGER, problemResponses, UPSTREAM } from '../responses.js';
import { stripeEventBody, stripeSignatureHeader, webhookAckSchema } from '../webhook-schemas.js';

/** Stripe gives up on a webhook after some seconds and sends it again; a read that waits longer helps nobody. */
const STRIPE_READ_BUDGET_MS = 10_000;

export interface WebhookRoutesOptions {
  /** Undefined without STRIPE_WEBHOOK_SECRET: the route then answers 503 webhooks_not_configured. */
  verifier: WebhookVerifier | undefined;
  lifecycle: RefundLifecycle;
  onInvalidSignature?: () => void;
}

declare module 'fastify' {
  interface FastifySchema {
    /** A body that is documented but never parsed nor validated: the route reads the raw bytes (see openapi.ts). */
    rawBody?: unknown;
  }
}

export const webhookRoutes: FastifyPluginAsyncZod<WebhookRoutesOptions> = async (app, options) => {
  // Stripe signs the exact bytes it sent, so in this plugin (and only here) a JSON body stays a Buffer: re-serialising
  // parsed JSON would not give them back. Other types still fall to the app's parser (415 unless empty).
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.post(
    '/v1/webhooks/stripe',
    {
      config: { public: true },
      schema: {
        operationId: 'receiveStripeWebhook',
        summary: 'Stripe events in (point Stripe’s webhook endpoint here)',
        description:
          'No API key: Stripe proves itself with the Stripe-Signature header, checked against STRIPE_WEBHOOK_SECRET over the raw ' +
          'body with a 5-minute tolerance. Refund events update the refund index (Dashboard refunds included, `requested_by: null`); ' +
          'an event id is applied once, so redeliveries change nothing, and out-of-order events never move a refund back. ' +
          '200 once the event is stored; Stripe retries anything else.',
        tags: ['webhooks'],
        security: [],
        consumes: ['application/json'],
        headers: z.object({ 'stripe-signature': stripeSignatureHeader.optional() }),
        rawBody: stripeEventBody,
        response: {
          200: described('The event is stored (or was already): Stripe need not send it again', webhookAckSchema),
          ...problemResponses([
            'invalid_signature',
            'validation_error',
            'payload_too_large',
            'unsupported_media_type',
            'webhooks_not_configured',
            'overloaded',
            'internal_error',
            ...LEDGER,
            ...UPSTREAM,
          ]),
        },
      },
    },
    async (request) => {
      if (!options.verifier) {
        throw new GatewayError('webhooks_not_configured', 'This gateway has no STRIPE_WEBHOOK_SECRET, so it cannot tell Stripe’s events from forgeries.');
      }
      const signature = request.headers['stripe-signature'];
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      let event;
      try {
        event = options.verifier.verify(raw, typeof signature === 'string' ? signature : undefined);
      } catch (error) {
        if (error instanceof GatewayError && error.code === 'invalid_signature') options.onInvalidSignature?.();
        throw error;
      }
      // charge.refunded's read of the charge's refunds gives way to callers' requests at the rate limit, but not for
      // longer than Stripe waits for an answer: past that, 503 and Stripe delivers the event again.
      const { outcome, refunds } = await options.lifecycle.apply(event, 'webhook', { priority: 'background', deadline: Date.now() + STRIPE_READ_BUDGET_MS });
      request.log.info({ stripe_event: event.id, type: event.type, outcome, refunds: refunds.map((r) => r.id) }, 'stripe event');
      return { received: true as const, id: event.id, type: event.type, outcome };
    },
  );
};
