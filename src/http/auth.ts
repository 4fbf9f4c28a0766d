// API keys, scopes and per-caller rate limits: who is calling and whether they may.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiKeyEntry, Scope } from '../config.js';
import { GatewayError } from '../refunds/gateway-error.js';

export interface Caller {
  id: string;
  scopes: readonly Scope[];
  rateLimitPerMinute: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    caller?: Caller;
  }
  interface FastifyContextConfig {
    /**
     * The scope a /v1 route needs. Every /v1 route declares one or is `public`: one that declares neither refuses
     * every caller (a forgotten scope must fail closed, not open). Routes outside /v1 (operations, docs) take no key.
     */
    scope?: Scope;
    /** A /v1 route that takes no API key, such as Stripe's webhook (it proves itself by signature): declared, never assumed. */
    public?: true;
    /** Whether the route reads an Idempotency-Key header. */
    idempotencyKey?: 'required' | 'optional';
  }
}

/**
 * Finds the entry for a presented key. Every entry is compared, in constant time, on sha-256 digests, so neither
 * the timing nor the length of the presented key tells anything about the configured ones.
 */
export function findKey(entries: readonly ApiKeyEntry[], presented: string): ApiKeyEntry | undefined {
  const digest = createHash('sha256').update(presented).digest();
  let found: ApiKeyEntry | undefined;
  for (const entry of entries) {
    if (timingSafeEqual(entry.keySha256, digest) && !found) found = entry;
  }
  return found;
}

const bearer = (header: string | undefined): string | undefined => {
  const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
};

/** Fixed one-minute windows per caller, per process (as the contract says). */
export class CallerRateLimiter {
  readonly #windows = new Map<string, { start: number; count: number }>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Counts one request; returns the seconds to wait when the caller is over its limit. */
  take(caller: Caller): number | undefined {
    const now = this.#now();
    let window = this.#windows.get(caller.id);
    if (!window || now - window.start >= 60_000) {
      window = { start: now, count: 0 };
      this.#windows.set(caller.id, window);
    }
    window.count += 1;
    if (window.count <= caller.rateLimitPerMinute) return undefined;
    return Math.max(1, Math.ceil((window.start + 60_000 - now) / 1000));
  }
}

/** Whether a route template is under /v1, where every route needs a key unless it is declared public. */
export const isApiRoute = (url: string | undefined): boolean => url !== undefined && (url === '/v1' || url.startsWith('/v1/'));

/**
 * The onRequest hook: on /v1 routes, authentication (401) → scope (403) → rate limit (429), in that order. A /v1 route
 * with no declared scope, and not declared public, lets no key through. Unmatched paths (404) carry no route url.
 */
export function authHook(keys: readonly ApiKeyEntry[], limiter: CallerRateLimiter) {
  return async function authenticate(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const { scope, public: isPublic } = request.routeOptions.config;
    if (!isApiRoute(request.routeOptions.url)) return;
    if (isPublic === true && scope === undefined) return;
    const presented = bearer(request.headers.authorization);
    const entry = presented === undefined ? undefined : findKey(keys, presented);
    if (!entry) {
      // RFC 9110 requires a 401 to name the scheme it wants; clients (and Swagger UI) read it.
      reply.header('www-authenticate', 'Bearer realm="refund-gateway"');
      throw new GatewayError('unauthenticated', 'A valid API key is required: Authorization: Bearer <key>.');
    }
    const caller: Caller = { id: entry.id, scopes: entry.scopes, rateLimitPerMinute: entry.rateLimitPerMinute };
    request.caller = caller;
    if (scope === undefined) throw new GatewayError('forbidden', 'This route declares no scope, so no API key may use it.');
    if (!caller.scopes.includes(scope)) throw new GatewayError('forbidden', `This API key lacks the scope ${scope}.`);
    const wait = limiter.take(caller);
    if (wait !== undefined) {
      throw new GatewayError('rate_limited', `Caller ${caller.id} went over ${caller.rateLimitPerMinute} requests a minute.`, {
        retryAfterSeconds: wait,
      });
    }
  };
}
