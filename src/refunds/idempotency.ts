// Durable idempotency: one record per caller+route+key, its fingerprint, and the first final answer, replayed.
import { createHash, randomUUID } from 'node:crypto';
import { GatewayError, type ErrorCode, type ErrorFields } from './gateway-error.js';
import type { Ledger } from './ledger.js';

/** Refusals that say something final about the request; they are stored and replayed like a success. */
const STORED_REFUSALS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'not_found',
  'amount_exceeds_refundable',
  'charge_already_refunded',
  'charge_disputed',
  'payment_intent_requires_capture',
  'payment_intent_not_refundable',
  'payment_intent_not_cancelable',
  'currency_mismatch',
]);

/** What a record holds once the first attempt has a final answer. */
type StoredOutcome<T> =
  | { ok: true; value: T }
  | { ok: false; code: ErrorCode; detail: string; fields: ErrorFields; requestId: string };

export interface IdempotencyKey {
  callerId: string;
  /** The route template, e.g. `POST /v1/refunds`: a key is scoped to one route. */
  route: string;
  key: string;
}

export interface Attempt {
  /** The gateway request id of the FIRST attempt: what goes into Stripe metadata as `gateway_request_id`. */
  requestId: string;
  /** A previous attempt ended without a known outcome; the refund it may have made should be looked for. */
  resumed: boolean;
  /** The key Stripe sees, the same for every attempt. */
  stripeKey: string;
}

/** A gateway request id: what Stripe metadata carries as `gateway_request_id`. */
export const newAttemptId = (): string => `gwr_${randomUUID().replaceAll('-', '')}`;

export const scopeOf = (k: IdempotencyKey): string => `${k.callerId}\n${k.route}\n${k.key}`;

/**
 * The key sent to Stripe: a hash of the namespaced key, so any caller key up to 255 characters fits and every retry
 * (the SDK's, the caller's, after a crash) reaches Stripe with the same one.
 */
export const stripeKeyOf = (k: IdempotencyKey): string => `gw_${createHash('sha256').update(scopeOf(k)).digest('hex')}`;

/** JSON with object keys sorted at every depth, so key order never changes a fingerprint. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export const fingerprintOf = (request: unknown): string => createHash('sha256').update(canonicalJson(request)).digest('hex');

export interface IdempotencyDeps {
  ledger: Ledger;
  now: () => Date;
  /** How long one attempt may hold its record before a retry may take over (a crashed attempt never releases it). */
  leaseMs: number;
}

/**
 * Runs `work` at most once per key and fingerprint. A replay returns the stored value or throws the stored refusal
 * (with `replayOf` set); answers that say nothing final (upstream failures, `payment_busy`, bugs) release the record so
 * that a retry runs again under the first attempt's request id.
 */
export async function runIdempotent<T>(
  deps: IdempotencyDeps,
  key: IdempotencyKey,
  /** `requestId` is the caller-facing request id that a stored refusal is replayed with. */
  request: { requestId: string; body: unknown },
  work: (attempt: Attempt) => Promise<{ value: T; refundId: string | null }>,
): Promise<{ replayed: boolean; value: T }> {
  const scope = scopeOf(key);
  const begun = await deps.ledger.beginIdempotent({
    scope,
    fingerprint: fingerprintOf(request.body),
    // The gateway's own id for this attempt; never the caller's x-request-id, which callers may reuse.
    requestId: newAttemptId(),
    leaseMs: deps.leaseMs,
    now: deps.now(),
  });
  switch (begun.kind) {
    case 'replay':
      return { replayed: true, value: replayed<T>(begun.outcome as StoredOutcome<T>) };
    case 'in_progress':
      throw new GatewayError('idempotency_request_in_progress', `A request with Idempotency-Key '${key.key}' is still being processed; retry shortly.`, {
        retryAfterSeconds: 1,
      });
    case 'mismatch':
      throw new GatewayError(
        'idempotency_key_reused',
        `Idempotency-Key '${key.key}' was already used with a different request; use a new key for a new request.`,
      );
    case 'started':
    case 'resumed':
      break;
  }

  const attempt: Attempt = { requestId: begun.requestId, resumed: begun.kind === 'resumed', stripeKey: stripeKeyOf(key) };
  let result: { value: T; refundId: string | null };
  try {
    result = await work(attempt);
  } catch (error) {
    if (error instanceof GatewayError && STORED_REFUSALS.has(error.code)) {
      const outcome: StoredOutcome<T> = { ok: false, code: error.code, detail: error.message, fields: error.fields, requestId: request.requestId };
      await deps.ledger.completeIdempotent({ scope, outcome, refundId: null, now: deps.now() });
    } else {
      // If even the release fails, the lease runs out and a retry resumes then; the original error matters more.
      await deps.ledger.releaseIdempotent(scope).catch(() => undefined);
    }
    throw error;
  }
  const outcome: StoredOutcome<T> = { ok: true, value: result.value };
  await deps.ledger.completeIdempotent({ scope, outcome, refundId: result.refundId, now: deps.now() });
  return { replayed: false, value: result.value };
}

function replayed<T>(outcome: StoredOutcome<T>): T {
  if (outcome.ok) return outcome.value;
  throw new GatewayError(outcome.code, outcome.detail, { fields: outcome.fields, replayOf: outcome.requestId });
}
