// The one error type of the gateway: a stable code, a human detail, and the fields the contract attaches to it.

export const ERROR_CODES = [
  'validation_error',
  'idempotency_key_missing',
  'invalid_signature',
  'unauthenticated',
  'forbidden',
  'not_found',
  'method_not_allowed',
  'amount_exceeds_refundable',
  'charge_already_refunded',
  'charge_disputed',
  'payment_intent_requires_capture',
  'payment_intent_not_refundable',
  'payment_intent_not_cancelable',
  'currency_mismatch',
  'payment_busy',
  'idempotency_request_in_progress',
  'payload_too_large',
  'unsupported_media_type',
  'idempotency_key_reused',
  'rate_limited',
  'upstream_error',
  'upstream_unavailable',
  'upstream_timeout',
  'overloaded',
  'not_ready',
  'webhooks_not_configured',
  'ledger_unavailable',
  'policy_limit_exceeded',
  'refund_request_not_pending',
  'approval_by_requester',
  'internal_error',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Extra members of a problem body, e.g. `refundable_amount`, `currency`, `payment_intent_status`, `errors`. */
export type ErrorFields = Record<string, unknown>;

export interface GatewayErrorOptions {
  fields?: ErrorFields;
  retryAfterSeconds?: number;
  replayOf?: string;
  cause?: unknown;
}

export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly fields: ErrorFields;
  /** Seconds a caller should wait before retrying; becomes the `retry-after` header. */
  readonly retryAfterSeconds: number | undefined;
  /** Set when this refusal is an idempotent replay: the request id the refusal was first sent with. */
  readonly replayOf: string | undefined;

  constructor(code: ErrorCode, detail: string, options: GatewayErrorOptions = {}) {
    super(detail, { cause: options.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.fields = options.fields ?? {};
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.replayOf = options.replayOf;
  }
}

export const isGatewayError = (value: unknown): value is GatewayError => value instanceof GatewayError;
