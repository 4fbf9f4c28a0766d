// Stripe's idempotency layer: per account and key, the first executed answer is replayed; mismatches, in-flight twins and expiry as Stripe does them.
import type { EmulatorClock } from './clock.js';
import { invalidRequest, StripeError } from './errors.js';
import { IDEMPOTENCY_TTL_MS } from './timings.js';

export interface StoredResponse {
  status: number;
  body: string;
  headers: Record<string, string>;
  requestId: string;
}

interface Entry {
  endpoint: string;
  fingerprint: string;
  createdAtMs: number;
  response: StoredResponse | undefined;
}

export type BeginResult = { kind: 'proceed' } | { kind: 'replay'; response: StoredResponse };

export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/** Canonical JSON of the parsed parameters: key order does not matter, values do. */
export function fingerprint(params: unknown): string {
  const canon = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(canon);
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canon((value as Record<string, unknown>)[k])]));
    }
    return value;
  };
  return JSON.stringify(canon(params));
}

export class IdempotencyLayer {
  // A Map keeps insertion order, which is creation order: expired entries are always at the front.
  private entries = new Map<string, Entry>();

  constructor(private readonly clock: () => EmulatorClock) {}

  /**
   * Claims `scope` for this request, or says what to answer instead. Throws the 400/409 Stripe sends for a key reused
   * with other parameters or another endpoint, or still being processed; those answers are never stored.
   */
  begin(scope: string, key: string, endpoint: string, print: string): BeginResult {
    if (key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
      throw invalidRequest(`Invalid Idempotency-Key: keys can be at most ${MAX_IDEMPOTENCY_KEY_LENGTH} characters long (this one has ${key.length}).`, { param: 'Idempotency-Key' });
    }
    const now = this.clock().nowMs();
    this.prune(now);
    const entry = this.entries.get(scope);
    if (entry !== undefined && entry.createdAtMs + IDEMPOTENCY_TTL_MS <= now && entry.response !== undefined) this.entries.delete(scope);
    else if (entry !== undefined) {
      if (entry.endpoint !== endpoint) {
        throw new StripeError({
          status: 400,
          type: 'idempotency_error',
          message: `Keys for idempotent requests can only be used for the same endpoint they were first used for ('${entry.endpoint}' vs '${endpoint}'). Try using a key other than '${key}' if you meant to execute a different request.`,
        });
      }
      if (entry.fingerprint !== print) {
        throw new StripeError({
          status: 400,
          type: 'idempotency_error',
          message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
        });
      }
      if (entry.response === undefined) {
        throw new StripeError({
          status: 409,
          type: 'invalid_request_error',
          code: 'idempotency_key_in_use',
          message: 'The idempotency key provided is currently being used in another request. This occurs if your integration is making duplicate requests simultaneously.',
        });
      }
      return { kind: 'replay', response: entry.response };
    }
    this.entries.set(scope, { endpoint, fingerprint: print, createdAtMs: now, response: undefined });
    return { kind: 'proceed' };
  }

  complete(scope: string, response: StoredResponse): void {
    const entry = this.entries.get(scope);
    if (entry) entry.response = response;
  }

  /** Forgets a claim whose request never reached execution. */
  release(scope: string): void {
    const entry = this.entries.get(scope);
    if (entry && entry.response === undefined) this.entries.delete(scope);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  private prune(now: number): void {
    for (const [scope, entry] of this.entries) {
      if (entry.createdAtMs + IDEMPOTENCY_TTL_MS > now || entry.response === undefined) return;
      this.entries.delete(scope);
    }
  }
}
