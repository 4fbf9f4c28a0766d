// OpenAPI response maps for routes: the success schema plus every problem a route can answer, with examples.
import { STATUS_CODES } from 'node:http';
import type { ErrorCode } from '../refunds/gateway-error.js';
import { ERROR_EXAMPLES, ERROR_STATUS } from './error-status.js';
import { PROBLEM_CONTENT_TYPE } from './problem.js';
import { problemSchema } from './schemas.js';

/** A success response with what it means, so the document says "Refund created" rather than "Default Response". */
export const described = <T>(description: string, schema: T, headers?: Record<string, { type: 'string'; description: string }>) => ({
  description,
  ...(headers ? { headers } : {}),
  content: { 'application/json': { schema } },
});

/** The header on every answer that is a replay of an earlier one with the same Idempotency-Key. */
export const REPLAY_HEADER = {
  'idempotent-replayed': { type: 'string' as const, description: '`true` when this is the stored answer to an earlier request with the same Idempotency-Key.' },
};

/** Problems every authenticated /v1 route can answer (`overloaded`: while an instance drains at shutdown). */
export const AUTHENTICATED: readonly ErrorCode[] = ['validation_error', 'unauthenticated', 'forbidden', 'rate_limited', 'overloaded', 'internal_error'];
/** Problems of every route that reads or writes the ledger. */
export const LEDGER: readonly ErrorCode[] = ['ledger_unavailable'];
/** Problems of every route that calls Stripe. */
export const UPSTREAM: readonly ErrorCode[] = ['upstream_error', 'upstream_unavailable', 'upstream_timeout'];

const exampleBody = (code: ErrorCode) => ({
  type: 'about:blank',
  title: STATUS_CODES[ERROR_STATUS[code]] ?? 'Error',
  status: ERROR_STATUS[code],
  code,
  detail: ERROR_EXAMPLES[code],
  request_id: 'req_7f3c9a',
  ...(code === 'amount_exceeds_refundable' ? { refundable_amount: 5000, currency: 'usd' } : {}),
  ...(code === 'currency_mismatch' ? { currency: 'usd' } : {}),
  ...(code.startsWith('payment_intent_') ? { payment_intent_status: code === 'payment_intent_requires_capture' ? 'requires_capture' : 'succeeded' } : {}),
  ...(code === 'policy_limit_exceeded' ? { limit: 50_000, window: 'refund', currency: 'usd', remaining: 50_000 } : {}),
  ...(code === 'refund_request_not_pending' ? { refund_request_status: 'approved' } : {}),
  ...(code === 'validation_error' ? { errors: [{ in: 'body', path: '/amount', message: 'Too small: expected number to be >=1' }] } : {}),
});

/** Groups codes by status into OpenAPI responses, one named example per code. */
export function problemResponses(codes: readonly ErrorCode[]) {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set(codes)) {
    const status = ERROR_STATUS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses: Record<number, unknown> = {};
  for (const [status, group] of [...byStatus].sort(([a], [b]) => a - b)) {
    responses[status] = {
      description: `${STATUS_CODES[status]}: ${group.map((c) => `\`${c}\``).join(', ')}`,
      content: {
        [PROBLEM_CONTENT_TYPE]: {
          schema: problemSchema,
          examples: Object.fromEntries(group.map((code) => [code, { value: exampleBody(code) }])),
        },
      },
    };
  }
  return responses;
}
