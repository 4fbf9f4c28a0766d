// Load shedding: when the event loop lags, /v1 requests get 503 overloaded at once instead of queueing behind it.
import underPressure from '@fastify/under-pressure';
import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../refunds/gateway-error.js';

/**
 * A lagging event loop means every request already waits; answering 503 with retry-after lets callers back off or
 * go to another replica. Operations routes (health, readiness, metrics) are still served: an orchestrator that
 * cannot reach /healthz would restart a replica that is merely busy.
 */
export async function registerLoadShedding(app: FastifyInstance, options: { maxEventLoopDelayMs: number }): Promise<void> {
  if (options.maxEventLoopDelayMs === 0) return;
  await app.register(underPressure, {
    maxEventLoopDelay: options.maxEventLoopDelayMs,
    sampleInterval: 500,
    // A rejection goes to the one error handler (problem+json, retry-after); a resolution serves the request as usual.
    pressureHandler: async (request) => {
      if (request.routeOptions.config.scope === undefined) return;
      throw new GatewayError('overloaded', 'The gateway is shedding load; retry shortly.', { retryAfterSeconds: 1 });
    },
  });
}
