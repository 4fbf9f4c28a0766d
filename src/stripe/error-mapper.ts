// Translates Stripe's errors into the gateway's codes, keyed on the wire type, code and status, never on message text.
import type Stripe from 'stripe';
import { GatewayError } from '../refunds/gateway-error.js';

export type StripeOperation = 'read' | 'refund' | 'cancel';

/** Connection failures where the request surely never reached Stripe; anything else may have been processed. */
const UNREACHED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

interface WireError {
  type?: string;
  rawType?: string;
  statusCode?: number;
  code?: string;
  param?: string;
  detail?: unknown;
  headers?: Record<string, string>;
  payment_intent?: { id?: string; status?: string };
}

const isStripeError = (error: unknown): error is Stripe.errors.StripeError =>
  typeof error === 'object' && error !== null && typeof (error as { type?: unknown }).type === 'string' && 'rawType' in error;

/** Seconds from a `Retry-After` header, when it is a plain number. */
export function retryAfterSeconds(error: unknown): number | undefined {
  const value = (error as WireError).headers?.['retry-after'];
  const seconds = value === undefined ? NaN : Number(value);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}

export const isRateLimited = (error: unknown): boolean =>
  isStripeError(error) && (error.statusCode === 429 || (error as WireError).code === 'rate_limit');

export function mapStripeError(error: unknown, operation: StripeOperation, subject: string): GatewayError {
  if (error instanceof GatewayError) return error;
  if (!isStripeError(error)) {
    return new GatewayError('upstream_error', 'The call to Stripe failed unexpectedly.', { cause: error });
  }
  const e = error as unknown as WireError;

  if (e.type === 'StripeConnectionError') {
    const cause = (e.detail ?? {}) as { code?: string };
    if (cause.code && UNREACHED.has(cause.code)) {
      return new GatewayError('upstream_unavailable', 'Stripe could not be reached; retry later.', { retryAfterSeconds: 5, cause: error });
    }
    return new GatewayError(
      'upstream_timeout',
      'Stripe did not answer in time; whether the operation happened is unknown. Retry with the same Idempotency-Key to find out.',
      { cause: error },
    );
  }
  if (isRateLimited(error)) {
    return new GatewayError('upstream_unavailable', 'Stripe kept rate-limiting the gateway; retry later.', {
      retryAfterSeconds: Math.max(1, Math.ceil(retryAfterSeconds(error) ?? 2)),
      cause: error,
    });
  }
  if (e.statusCode === 404 || e.code === 'resource_missing') {
    return new GatewayError('not_found', `${subject} does not exist (or is not visible to this Stripe account).`, { cause: error });
  }
  if (e.code === 'idempotency_key_in_use') {
    return new GatewayError('idempotency_request_in_progress', 'Stripe is still processing this request; retry shortly.', {
      retryAfterSeconds: 1,
      cause: error,
    });
  }
  if (e.rawType === 'idempotency_error') {
    return new GatewayError('idempotency_key_reused', 'This Idempotency-Key was already used with a different request.', { cause: error });
  }
  if (e.statusCode === 400) {
    const mapped = mapRefusal(e, operation, subject);
    if (mapped) return new GatewayError(mapped.code, mapped.detail, { fields: mapped.fields, cause: error });
  }
  return new GatewayError('upstream_error', 'Stripe answered with an error the gateway cannot map.', { cause: error });
}

type Refusal = { code: GatewayError['code']; detail: string; fields?: Record<string, unknown> };

function mapRefusal(e: WireError, operation: StripeOperation, subject: string): Refusal | undefined {
  if (e.code === 'charge_already_refunded') return { code: 'charge_already_refunded', detail: `${subject} has already been refunded in full.` };
  if (e.code === 'charge_disputed') return { code: 'charge_disputed', detail: `${subject} has an open dispute; money goes back through the dispute.` };
  const status = e.payment_intent?.status ?? null;
  if (e.code === 'payment_intent_unexpected_state' || e.code === 'charge_not_refundable') {
    if (operation === 'cancel') {
      return { code: 'payment_intent_not_cancelable', detail: `${subject} cannot be cancelled in its status.`, fields: { payment_intent_status: status } };
    }
    if (status === 'requires_capture') {
      return { code: 'payment_intent_requires_capture', detail: `${subject} is only authorised: cancel it instead.`, fields: { payment_intent_status: status } };
    }
    return { code: 'payment_intent_not_refundable', detail: `${subject} has no successful charge to refund.`, fields: { payment_intent_status: status } };
  }
  // Stripe's over-refund refusal carries no code, only `param: amount`; the gateway adds what is left.
  if (operation === 'refund' && e.param === 'amount' && (e.code === undefined || e.code === 'amount_too_large')) {
    return { code: 'amount_exceeds_refundable', detail: `The refund is more than is left to refund on ${subject}.` };
  }
  return undefined;
}
