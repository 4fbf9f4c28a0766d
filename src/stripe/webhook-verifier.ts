// Stripe's webhook signature, checked with the SDK's own verifier over the exact bytes received.
import Stripe from 'stripe';
import { GatewayError } from '../refunds/gateway-error.js';
import type { ProviderEvent, WebhookVerifier } from '../refunds/stripe-events.js';
import { toProviderEvent } from './mappers.js';

/** The contract's 5 minutes (Stripe's default): an older signature may be a replay of a captured delivery. */
const TOLERANCE_SECONDS = 300;

const invalid = (detail: string): GatewayError => new GatewayError('invalid_signature', detail);

const notAnEvent = (): GatewayError =>
  new GatewayError('validation_error', 'The signed body is not a Stripe event.', {
    fields: { errors: [{ in: 'body', path: '', message: 'expected a Stripe event (id, type, created, data.object)' }] },
  });

export class StripeWebhookVerifier implements WebhookVerifier {
  readonly #secret: string;

  constructor(secret: string) {
    this.#secret = secret;
  }

  verify(rawBody: Buffer, signature: string | undefined): ProviderEvent {
    if (signature === undefined || signature.trim() === '') throw invalid('The Stripe-Signature header is missing.');
    let event: Stripe.Event;
    try {
      event = Stripe.webhooks.constructEvent(rawBody, signature, this.#secret, TOLERANCE_SECONDS);
    } catch (error) {
      // The SDK's error carries the header and the payload: neither goes further than this line.
      if (error instanceof Stripe.errors.StripeSignatureVerificationError) {
        throw invalid('The Stripe-Signature header does not verify: it is malformed, signed with another secret, over another body, or older than 5 minutes.');
      }
      // Signed correctly, but not JSON: only someone holding the secret could send it.
      throw notAnEvent();
    }
    const shape = event as unknown as Record<string, unknown>;
    if (typeof shape.id !== 'string' || typeof shape.type !== 'string' || typeof shape.created !== 'number' || typeof shape.data !== 'object' || shape.data === null) {
      throw notAnEvent();
    }
    return toProviderEvent(event);
  }
}
