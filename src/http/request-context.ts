// The request a piece of work belongs to, across awaits: its logger, and the Stripe calls made for it (folded into its one log line).
import { AsyncLocalStorage } from 'node:async_hooks';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';

/** What the request's completion line says about the Stripe calls made for it. */
export interface StripeTally {
  calls: number;
  /** Their summed duration, retries and pacing waits included. */
  ms: number;
  /** Stripe's `Request-Id` of each call that got an answer, in order: what Stripe support asks for. */
  request_ids: string[];
}

/** One request's context; the tally exists once a Stripe call was made for it. */
interface RequestContext {
  log: FastifyBaseLogger;
  stripe: StripeTally | undefined;
}

export interface RequestContextTracker {
  /** The logger of the request being served, or the app's outside any request. */
  logger(): FastifyBaseLogger;
  /** Counts a finished Stripe call for the request being served; false outside any request (a background job's call). */
  addStripeCall(durationMs: number, stripeRequestId: string | undefined): boolean;
  /** The Stripe calls made for `request` so far, for its completion line; undefined when none was. */
  stripeTally(request: FastifyRequest): StripeTally | undefined;
}

/**
 * The store is entered in preHandler — after the body is read, whose stream events would lose it — with `run`, so it
 * never leaks into the next request on the same socket; everything the handler awaits inherits it. The completion
 * line is written in onResponse, outside the store, so the context is also kept by request (weakly: it goes with it).
 */
export function trackRequestContext(app: FastifyInstance): RequestContextTracker {
  const current = new AsyncLocalStorage<RequestContext>();
  const byRequest = new WeakMap<FastifyRequest, RequestContext>();
  app.addHook('preHandler', (request, _reply, done) => {
    const context: RequestContext = { log: request.log, stripe: undefined };
    byRequest.set(request, context);
    current.run(context, done);
  });
  return {
    logger: () => current.getStore()?.log ?? app.log,
    addStripeCall: (durationMs, stripeRequestId) => {
      const context = current.getStore();
      if (context === undefined) return false;
      const tally = (context.stripe ??= { calls: 0, ms: 0, request_ids: [] });
      tally.calls += 1;
      tally.ms += durationMs;
      if (stripeRequestId !== undefined) tally.request_ids.push(stripeRequestId);
      return true;
    },
    stripeTally: (request) => byRequest.get(request)?.stripe,
  };
}
