// Stripe's error envelope: one error class carrying HTTP status, wire type, code, param and extra members.
export type StripeErrorType = 'api_error' | 'card_error' | 'idempotency_error' | 'invalid_request_error';

export interface StripeErrorInit {
  status: number;
  type: StripeErrorType;
  message: string;
  code?: string;
  param?: string;
  /** Extra members of the `error` object (`payment_intent`, `charge`, `decline_code`, …). */
  extra?: Record<string, unknown>;
  /** Extra response headers (`Stripe-Should-Retry`). */
  headers?: Record<string, string>;
}

export class StripeError extends Error {
  readonly status: number;
  readonly type: StripeErrorType;
  readonly code: string | undefined;
  readonly param: string | undefined;
  readonly extra: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(init: StripeErrorInit) {
    super(init.message);
    this.name = 'StripeError';
    this.status = init.status;
    this.type = init.type;
    this.code = init.code;
    this.param = init.param;
    this.extra = init.extra ?? {};
    this.headers = init.headers ?? {};
  }
}

/** The body Stripe sends: `{error: {type, code, message, param, doc_url, request_log_url, …}}`. */
export function errorBody(err: StripeError, requestId: string): { error: Record<string, unknown> } {
  const error: Record<string, unknown> = { type: err.type, message: err.message };
  if (err.code !== undefined) {
    error['code'] = err.code;
    error['doc_url'] = `https://stripe.com/docs/error-codes/${err.code.replaceAll('_', '-')}`;
  }
  if (err.param !== undefined) error['param'] = err.param;
  error['request_log_url'] = `https://dashboard.stripe.com/test/logs/${requestId}`;
  Object.assign(error, err.extra);
  return { error };
}

export const invalidRequest = (message: string, options: { code?: string; param?: string; extra?: Record<string, unknown> } = {}): StripeError =>
  new StripeError({ status: 400, type: 'invalid_request_error', message, ...options });

export const resourceMissing = (kind: string, id: string, param = 'id'): StripeError =>
  new StripeError({ status: 404, type: 'invalid_request_error', code: 'resource_missing', param, message: `No such ${kind}: '${id}'` });

export const parameterUnknown = (name: string): StripeError =>
  invalidRequest(`Received unknown parameter: ${name}`, { code: 'parameter_unknown', param: name });

export const parameterMissing = (name: string): StripeError =>
  invalidRequest(`Missing required param: ${name}.`, { code: 'parameter_missing', param: name });

export const unrecognizedUrl = (method: string, path: string): StripeError =>
  new StripeError({
    status: 404,
    type: 'invalid_request_error',
    message: `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
  });

/** Stripe's 429 for going over a rate limit (the message is UNCONFIRMED). No `Stripe-Should-Retry`: the SDK does not retry it. */
export const RATE_LIMIT_MESSAGE = 'Request rate limit exceeded. You can learn more about rate limits here https://stripe.com/docs/rate-limits.';

export const rateLimited = (headers: Record<string, string> = {}, message = RATE_LIMIT_MESSAGE): StripeError =>
  new StripeError({ status: 429, type: 'invalid_request_error', code: 'rate_limit', message, headers });
