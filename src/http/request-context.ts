// The request a piece of work belongs to, across awaits: lines logged away from the handler (a Stripe call) carry its request id.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';

/**
 * Returns the logger of the request being served, or the app's outside any request. The store is entered in
 * preHandler — after the body is read, whose stream events would lose it — with `run`, so it never leaks into the
 * next request on the same socket; everything the handler awaits inherits it.
 */
export function trackRequestLogger(app: FastifyInstance): () => FastifyBaseLogger {
  const current = new AsyncLocalStorage<FastifyBaseLogger>();
  app.addHook('preHandler', (request, _reply, done) => current.run(request.log, done));
  return () => current.getStore() ?? app.log;
}
