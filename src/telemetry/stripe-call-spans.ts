// A child span per Stripe call: operation, Stripe's request id, the attempts it took, how it ended.
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { StripeCallEvent, StripeCallObserver } from '../stripe/stripe-gateway.js';
import type { Tracing } from './tracing.js';

/** The observer the Stripe gateway calls as each call starts; the span ends with the call (its retries and waits in it). */
export function stripeCallSpans(tracing: Tracing): StripeCallObserver {
  return (operation) => {
    const span = tracing.startChild(`stripe ${operation}`, { 'stripe.operation': operation, 'server.address': 'stripe' }, SpanKind.CLIENT);
    if (span === undefined) return undefined;
    return (event: StripeCallEvent) => {
      span.setAttributes({
        'stripe.outcome': event.outcome,
        'stripe.attempts': event.attempts,
        ...(event.stripeRequestId !== undefined ? { 'stripe.request_id': event.stripeRequestId } : {}),
        ...(event.statusCode !== undefined ? { 'http.response.status_code': event.statusCode } : {}),
      });
      if (event.outcome === 'error') {
        span.setAttribute('gateway.error_code', event.code ?? 'internal_error');
        span.setStatus({ code: SpanStatusCode.ERROR, message: event.code ?? 'internal_error' });
      }
      span.end();
    };
  };
}
