// Operations routes, without auth: liveness, readiness (ledger + Stripe, cached), Prometheus metrics.
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { GatewayError } from '../../refunds/gateway-error.js';
import type { Ledger } from '../../refunds/ledger.js';
import type { PaymentGateway } from '../../refunds/payment-gateway.js';
import type { Metrics } from '../metrics.js';
import { problemResponses } from '../responses.js';
import { healthSchema, readySchema } from '../schemas.js';

export interface OperationsOptions {
  ledger: Ledger;
  gateway: PaymentGateway;
  metrics: Metrics;
  /** How long a Stripe check result is reused, so probes do not spend Stripe's rate limit. */
  stripeCheckTtlMs: number;
}

type Check = () => Promise<void>;

/** Caches one check's outcome (success or failure) for `ttlMs`, and shares one in-flight check among callers. */
function cached(check: Check, ttlMs: number): Check {
  let last: { at: number; result: Promise<void> } | undefined;
  return () => {
    const now = Date.now();
    if (!last || now - last.at >= ttlMs) last = { at: now, result: check() };
    return last.result;
  };
}

const reasonOf = (error: unknown): string => (error instanceof GatewayError ? error.code : 'unreachable');

export const operationRoutes: FastifyPluginAsyncZod<OperationsOptions> = async (app, options) => {
  const checks: Record<string, Check> = {
    ledger: () => options.ledger.ping(),
    stripe: cached(() => options.gateway.ping(), options.stripeCheckTtlMs),
  };

  app.get(
    '/healthz',
    { schema: { operationId: 'healthz', summary: 'Liveness', tags: ['operations'], security: [], response: { 200: healthSchema } } },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        operationId: 'readyz',
        summary: 'Readiness: the ledger answers and Stripe accepts our key',
        security: [],
        tags: ['operations'],
        response: { 200: readySchema, ...problemResponses(['not_ready']) },
      },
    },
    async () => {
      const names = Object.keys(checks);
      const results = await Promise.allSettled(names.map((name) => checks[name]!()));
      const report: Record<string, string> = {};
      results.forEach((r, i) => (report[names[i]!] = r.status === 'fulfilled' ? 'ok' : `failed: ${reasonOf(r.reason)}`));
      const failing = names.filter((_, i) => results[i]!.status === 'rejected');
      if (failing.length > 0) {
        throw new GatewayError('not_ready', `Not ready: ${failing.map((n) => `${n} ${report[n]}`).join(', ')}.`, {
          fields: { checks: report },
        });
      }
      return { checks: report };
    },
  );

  app.get(
    '/metrics',
    { schema: { operationId: 'metrics', summary: 'Prometheus metrics', tags: ['operations'], security: [], response: { 200: z.string() } } },
    async (_request, reply) => {
      reply.type(options.metrics.registry.contentType);
      return options.metrics.registry.metrics();
    },
  );
};
