// Durable idempotency: one record per caller+route+key, its fingerprint, and the first final answer, replayed.
import { createHash, randomUUID } from 'node:crypto';
import { GatewayError, type ErrorCode, type ErrorFields } from './gateway-error.js';
import type { IdempotencyBegin, Ledger } from './ledger.js';

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
const newAttemptId = (): string => `gwr_${randomUUID().replaceAll('-', '')}`;

const scopeOf = (k: IdempotencyKey): string => `${k.callerId}\n${k.route}\n${k.key}`;

/**
 * The key sent to Stripe: a hash of the namespaced key, so any caller key up to 255 characters fits and every retry
 * (the SDK's, the caller's, after a crash) reaches Stripe with the same one.
 */
const stripeKeyOf = (k: IdempotencyKey): string => `gw_${createHash('sha256').update(scopeOf(k)).digest('hex')}`;

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

const fingerprintOf = (request: unknown): string => createHash('sha256').update(canonicalJson(request)).digest('hex');

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
  const fingerprint = fingerprintOf(request.body);
  // Each attempt has its own id: the gateway's, never the caller's x-request-id (callers may reuse theirs). It is the
  // record's request id when the attempt is the first, and the attempt's holder token in any case.
  const begin = (attemptId: string) =>
    deps.ledger.beginIdempotent({ scope, fingerprint, requestId: attemptId, leaseMs: deps.leaseMs, now: deps.now() });
  const holder = newAttemptId();
  const begun = await begin(holder);
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
  let outcome: StoredOutcome<T>;
  let refundId: string | null = null;
  let refusal: GatewayError | undefined;
  try {
    const result = await work(attempt);
    outcome = { ok: true, value: result.value };
    refundId = result.refundId;
  } catch (error) {
    if (!(error instanceof GatewayError && STORED_REFUSALS.has(error.code))) {
      // If even the release fails, the lease runs out and a retry resumes then; the original error matters more.
      await deps.ledger.releaseIdempotent(scope, holder).catch(() => undefined);
      throw error;
    }
    refusal = error;
    outcome = { ok: false, code: error.code, detail: error.message, fields: error.fields, requestId: request.requestId };
  }

  const holding = await store(deps, { scope, holder, outcome, refundId }, begin);
  if (holding !== outcome) return { replayed: true, value: replayed<T>(holding as StoredOutcome<T>) };
  if (refusal) throw refusal;
  return { replayed: false, value: (outcome as { ok: true; value: T }).value };
}

/**
 * Stores this attempt's final answer and returns the answer that holds: this one, or, when this attempt's lease ran
 * out and another attempt took the record over and finished first, that one (the first final answer wins, so a late
 * refusal can never overwrite a success a retry already stored).
 */
async function store(
  deps: IdempotencyDeps,
  answer: { scope: string; holder: string; outcome: StoredOutcome<unknown>; refundId: string | null },
  begin: (attemptId: string) => Promise<IdempotencyBegin>,
): Promise<StoredOutcome<unknown>> {
  const complete = (holder: string) =>
    deps.ledger.completeIdempotent({ scope: answer.scope, holder, outcome: answer.outcome, refundId: answer.refundId, now: deps.now() });
  try {
    if (await complete(answer.holder)) return answer.outcome;
  } catch {
    // The answer is true even if it could not be stored: give it, and free the record so that a retry resumes (and
    // finds the same refund) instead of waiting out the lease with 409s.
    await deps.ledger.releaseIdempotent(answer.scope, answer.holder).catch(() => undefined);
    return answer.outcome;
  }
  // Lost the record: see what holds now. Free again (released or lease run out): take it and store ours.
  const retaker = newAttemptId();
  const found = await begin(retaker);
  if (found.kind === 'replay') return found.outcome as StoredOutcome<unknown>;
  if (found.kind === 'started' || found.kind === 'resumed') await complete(retaker);
  // Still held by the attempt that took over: it stores its own answer, which Stripe's replay makes the same refund.
  return answer.outcome;
}

function replayed<T>(outcome: StoredOutcome<T>): T {
  if (outcome.ok) return outcome.value;
  throw new GatewayError(outcome.code, outcome.detail, { fields: outcome.fields, replayOf: outcome.requestId });
}
