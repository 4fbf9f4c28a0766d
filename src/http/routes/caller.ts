// Reads the authenticated caller off a request for the service calls.
import type { FastifyRequest } from 'fastify';
import type { CallerContext } from '../../refunds/refund-service.js';

export function callerOf(request: FastifyRequest): CallerContext {
  // authHook runs before every scoped route, so a missing caller is a wiring bug, not a client error.
  if (!request.caller) throw new Error(`route ${request.routeOptions.url} has no scope but needs a caller`);
  return { callerId: request.caller.id, requestId: request.id };
}
