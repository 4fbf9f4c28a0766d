// Durable idempotency: one record per caller+route+key, its fingerprint, and the first final answer, replayed.
import { createHash, randomUUID } from 'node:crypto';
import { GatewayError, type ErrorCode, type ErrorFields } from './gateway-error.js';
import type { IdempotencyBegin, Ledger } from './ledger.js';
import type { Refund } from './types.js';
import { RULE_REFUSALS } from './refusals.js';

/** Refusals that say something final about the request; they are stored and replayed like a success. */
const STORED_REFUSALS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  ...RULE_REFUSALS,
  'payment_intent_not_cancelable',
  // An approval or rejection of a request that was already decided: final for that call (contract v1.1).
  'refund_request_not_pending',
]);

/** Whether a refusal is final for its request (stored and replayed), as opposed to one a retry may get past. */
export const isStoredRefusal = (code: ErrorCode): boolean => STORED_REFUSALS.has(code);

/** How much longer than its budget an attempt may hold its record: time to store the answer once Stripe gave it. */
export const LEASE_MARGIN_MS = 5_000;

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
  /** Derived from the namespaced key: what Stripe metadata carries as `gateway_request_id`, the same on every retry. */
  requestId: string;
  /** A previous attempt ended without a known outcome; the refund it may have made should be looked for. */
  resumed: boolean;
  /** The key Stripe sees, the same for every attempt. */
  stripeKey: string;
  /** Epoch ms after which the attempt must not start another Stripe call: its record's lease ends soon after. */
  deadline: number;
}

const scopeOf = (k: IdempotencyKey): string => `${k.callerId}\n${k.route}\n${k.key}`;
const digest = (text: string): string => createHash('sha256').update(text).digest('hex');

/**
 * The key sent to Stripe: a hash of the namespaced key, so any caller key up to 255 characters fits and every retry
 * (the SDK's, the caller's, after a crash) reaches Stripe with the same one.
 */
const stripeKeyOf = (scope: string): string => `gw_${digest(scope)}`;

/**
 * The request id Stripe metadata carries, derived like the Stripe key and never from an attempt: a retry whose record
 * the ledger lost (a deleted file, a restored backup) still sends Stripe identical parameters, so Stripe replays
 * instead of refusing the key — and after Stripe forgot the key, the refund is still found by this id.
 */
export const requestIdOf = (k: IdempotencyKey): string => `gwr_${digest(`gateway_request_id\n${scopeOf(k)}`).slice(0, 32)}`;

/**
 * An attempt whose keys are derived from a name of the gateway's own instead of a caller's Idempotency-Key (the
 * approval of a refund request derives them from the request): every attempt — two approvals racing, a retried
 * approval — reaches Stripe with the same key and metadata, so at most one refund is ever made for it.
 */
export const derivedAttempt = (k: IdempotencyKey, options: { resumed: boolean; deadline: number }): Attempt => ({
  requestId: requestIdOf(k),
  stripeKey: stripeKeyOf(scopeOf(k)),
  ...options,
});

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

export interface IdempotencyDeps {
  ledger: Ledger;
  now: () => Date;
  /** The longest one attempt may run (lock wait + every Stripe call with its retries); its lease adds LEASE_MARGIN_MS. */
  attemptBudgetMs: number;
}

export interface AttemptResult<T> {
  value: T;
  /** The refund the answer is about, indexed together with the stored answer. */
  refund: Refund | null;
}

/**
 * Runs `work` at most once per key and fingerprint. A replay returns the stored value or throws the stored refusal
 * (with `replayOf` set); answers that say nothing final (upstream failures, `payment_busy`, bugs) release the record so
 * that a retry runs again with the same request id and the same Stripe key.
 */
export async function runIdempotent<T>(
  deps: IdempotencyDeps,
  key: IdempotencyKey,
  /** `requestId` is the caller-facing request id that a stored refusal is replayed with. */
  request: { requestId: string; body: unknown },
  work: (attempt: Attempt) => Promise<AttemptResult<T>>,
): Promise<{ replayed: boolean; value: T }> {
  const scope = scopeOf(key);
  const fingerprint = digest(canonicalJson(request.body));
  const leaseMs = deps.attemptBudgetMs + LEASE_MARGIN_MS;
  const begin = (holder: string, now: Date) =>
    deps.ledger.beginIdempotent({ scope, fingerprint, requestId: requestIdOf(key), holder, leaseMs, now });
  // Each attempt holds the record under a token of its own; the caller's x-request-id is never trusted for it.
  const holder = newHolder();
  const startedAt = deps.now();
  const begun = await begin(holder, startedAt);
  if (begun.kind === 'replay') return { replayed: true, value: replayed<T>(begun.outcome as StoredOutcome<T>) };
  if (begun.kind === 'in_progress') throw inProgress(key.key, begun.leaseExpiresAt, startedAt);
  if (begun.kind === 'mismatch') {
    throw new GatewayError(
      'idempotency_key_reused',
      `Idempotency-Key '${key.key}' was already used with a different request; use a new key for a new request.`,
    );
  }

  const attempt: Attempt = {
    requestId: begun.requestId,
    resumed: begun.kind === 'resumed',
    stripeKey: stripeKeyOf(scope),
    deadline: startedAt.getTime() + deps.attemptBudgetMs,
  };
  let outcome: StoredOutcome<T>;
  let refund: Refund | null = null;
  let refusal: GatewayError | undefined;
  try {
    const result = await work(attempt);
    outcome = { ok: true, value: result.value };
    refund = result.refund;
  } catch (error) {
    if (!(error instanceof GatewayError && STORED_REFUSALS.has(error.code))) {
      // If even the release fails, the lease runs out and a retry resumes then; the original error matters more.
      await deps.ledger.releaseIdempotent(scope, holder).catch(() => undefined);
      throw error;
    }
    refusal = error;
    outcome = { ok: false, code: error.code, detail: error.message, fields: error.fields, requestId: request.requestId };
  }

  const holding = await store(deps, { scope, holder, outcome, refund }, begin);
  if (holding !== outcome) return { replayed: true, value: replayed<T>(holding as StoredOutcome<T>) };
  if (refusal) throw refusal;
  return { replayed: false, value: (outcome as { ok: true; value: T }).value };
}

const newHolder = (): string => `att_${randomUUID().replaceAll('-', '')}`;

/** 409 while another attempt holds the key; `retry-after` says when its lease ends (a crashed attempt's record frees then). */
function inProgress(key: string, leaseExpiresAt: Date, now: Date): GatewayError {
  const seconds = Math.max(1, Math.ceil((leaseExpiresAt.getTime() - now.getTime()) / 1000));
  return new GatewayError(
    'idempotency_request_in_progress',
    `A request with Idempotency-Key '${key}' is still being processed; its answer is stored when it ends (at the latest in ${seconds} s).`,
    { retryAfterSeconds: seconds },
  );
}

/**
 * Stores this attempt's final answer and returns the answer that holds: this one, or, when this attempt's lease ran
 * out and another attempt took the record over and finished first, that one (the first final answer wins, so a late
 * refusal can never overwrite a success a retry already stored).
 */
async function store(
  deps: IdempotencyDeps,
  answer: { scope: string; holder: string; outcome: StoredOutcome<unknown>; refund: Refund | null },
  begin: (holder: string, now: Date) => Promise<IdempotencyBegin>,
): Promise<StoredOutcome<unknown>> {
  const complete = (holder: string) =>
    deps.ledger.completeIdempotent({ scope: answer.scope, holder, outcome: answer.outcome, refund: answer.refund, now: deps.now() });
  try {
    if (await complete(answer.holder)) return answer.outcome;
  } catch {
    // The answer is true even if it could not be stored: give it, and free the record so that a retry resumes (and
    // finds the same refund) instead of waiting out the lease with 409s.
    await deps.ledger.releaseIdempotent(answer.scope, answer.holder).catch(() => undefined);
    return answer.outcome;
  }
  // Lost the record: see what holds now. Free again (released or lease run out): take it and store ours.
  const retaker = newHolder();
  const found = await begin(retaker, deps.now());
  if (found.kind === 'replay') return found.outcome as StoredOutcome<unknown>;
  if (found.kind === 'started' || found.kind === 'resumed') await complete(retaker);
  // Still held by the attempt that took over: it stores its own answer, which Stripe's replay makes the same refund.
  return answer.outcome;
}

function replayed<T>(outcome: StoredOutcome<T>): T {
  if (outcome.ok) return outcome.value;
  throw new GatewayError(outcome.code, outcome.detail, { fields: outcome.fields, replayOf: outcome.requestId });
}
