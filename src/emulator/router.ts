// A tiny method + path router for /v1: each route validates first (errors not stored) and then executes (result stored).
import type { Params } from './form.js';
import type { EmulatorState } from './state.js';

export interface RouteContext {
  state: EmulatorState;
  /** The form body for POST, the query string for GET and DELETE. */
  params: Params;
  /** Path parameters, e.g. `{ id: 're_123' }` for `/v1/refunds/:id`. */
  path: Record<string, string>;
}

export interface Reply {
  status?: number;
  body: unknown;
}

/**
 * `validate` may throw a StripeError before execution begins; Stripe stores nothing for those. Whatever `execute`
 * answers or throws is the request's result and is stored under its idempotency key.
 */
export interface Route<I> {
  method: 'GET' | 'POST' | 'DELETE';
  pattern: string;
  validate(ctx: RouteContext): I;
  execute(ctx: RouteContext, input: I): Reply;
}

export interface PreparedRoute {
  method: string;
  /** `/v1/refunds/:id`: with the method, the "endpoint" Stripe's per-endpoint rate limit counts. */
  pattern: string;
  segments: string[];
  prepare(ctx: RouteContext): () => Reply;
}

export function defineRoute<I>(route: Route<I>): PreparedRoute {
  return {
    method: route.method,
    pattern: route.pattern,
    segments: route.pattern.split('/'),
    prepare(ctx) {
      const input = route.validate(ctx);
      return () => route.execute(ctx, input);
    },
  };
}

// A malformed escape is kept as sent: the lookup then answers 404 like any unknown id.
export function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

export interface Router {
  match(method: string, path: string): { route: PreparedRoute; path: Record<string, string> } | undefined;
}

export function createRouter(routes: readonly PreparedRoute[]): Router {
  return {
    match(method, path) {
      const parts = path.split('/');
      for (const route of routes) {
        if (route.method !== method || route.segments.length !== parts.length) continue;
        const params: Record<string, string> = {};
        let ok = true;
        for (let i = 0; i < parts.length && ok; i += 1) {
          const want = route.segments[i] ?? '';
          const got = parts[i] ?? '';
          if (want.startsWith(':')) {
            if (got === '') ok = false;
            else params[want.slice(1)] = safeDecode(got);
          } else if (want !== got) ok = false;
        }
        if (ok) return { route, path: params };
      }
      return undefined;
    },
  };
}
