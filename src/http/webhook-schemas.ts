// The zod schemas of Stripe's webhook route: the Stripe event it receives (documentation only: the raw bytes are what is verified) and the acknowledgement.
import { z } from 'zod';

/** Stripe's Event envelope, as far as the gateway reads it; Stripe sends more, and all of it is accepted. */
export const stripeEventBody = z
  .looseObject({
    id: z.string().meta({ example: 'evt_1PdemoEvent' }),
    object: z.literal('event'),
    type: z.string().meta({
      description:
        'refund.created, refund.updated, refund.failed, charge.refund.updated (a Refund) and charge.refunded (a Charge) update the refund index; every other type is acknowledged and ignored.',
    }),
    created: z.number().int().meta({ description: 'Unix seconds.' }),
    data: z.looseObject({ object: z.looseObject({ id: z.string(), object: z.string() }) }),
  })
  .meta({
    id: 'StripeEvent',
    description:
      'A Stripe event exactly as Stripe sends it. The Stripe-Signature header is checked over these exact bytes (5-minute tolerance) before anything is read.',
    example: {
      id: 'evt_1PdemoEvent',
      object: 'event',
      type: 'refund.updated',
      created: 1795000000,
      data: { object: { id: 're_3PdemoRefund', object: 'refund', status: 'failed', amount: 2500, currency: 'usd' } },
    },
  });

export const stripeSignatureHeader = z.string().meta({
  description: 'Stripe’s signature of the body: `t=<unix seconds>,v1=<hex HMAC-SHA256>`; missing, stale or wrong is 400 invalid_signature.',
  example: 't=1795000000,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd',
});

export const webhookAckSchema = z
  .object({
    received: z.literal(true),
    id: z.string().meta({ description: 'The Stripe event id.' }),
    type: z.string(),
    outcome: z.enum(['recorded', 'duplicate', 'ignored']).meta({
      description: 'recorded: applied now; duplicate: this event id was applied before (nothing changed); ignored: not about refunds.',
    }),
  })
  .meta({ id: 'WebhookAck', example: { received: true, id: 'evt_1PdemoEvent', type: 'refund.updated', outcome: 'recorded' } });
