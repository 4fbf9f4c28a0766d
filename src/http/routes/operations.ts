// Operations routes, without auth: liveness, readiness (ledger + Stripe, cached), Prometheus metrics.
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { GatewayError } from '../../refunds/gateway-error.js';
import type { Ledger } from '../../refunds/ledger.js';
import type { PaymentGateway } from '../../refunds/payment-gateway.js';
import type { Metrics } from '../metrics.js';
import { sendProblem } from '../problem.js';
import { described, problemResponses } from '../responses.js';
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

/** The first line of an error's message, bounded: enough to act on, never a stack. */
const oneLine = (error: unknown): string => (error instanceof Error ? error.message : String(error)).split('\n')[0]!.slice(0, 300);

export const operationRoutes: FastifyPluginAsyncZod<OperationsOptions> = async (app, options) => {
  // Probes come every few seconds; the log says when readiness changes, not every time it is asked.
  let lastState = 'ready';
  const checks: Record<string, Check> = {
    ledger: () => options.ledger.ping(),
    stripe: cached(() => options.gateway.ping(), options.stripeCheckTtlMs),
  };

  app.get(
    '/healthz',
    { schema: { operationId: 'healthz', summary: 'Liveness', tags: ['operations'], security: [], response: { 200: described('The process serves', healthSchema) } } },
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
        response: { 200: described('Ready: every check is ok', readySchema), ...problemResponses(['not_ready']) },
      },
    },
    async (request, reply) => {
      const names = Object.keys(checks);
      const results = await Promise.allSettled(names.map((name) => checks[name]!()));
      const report: Record<string, string> = {};
      const causes: string[] = [];
      results.forEach((r, i) => {
        report[names[i]!] = r.status === 'fulfilled' ? 'ok' : `failed: ${reasonOf(r.reason)}`;
        if (r.status === 'rejected') causes.push(`${names[i]!}: ${oneLine(r.reason)}`);
      });
      const failing = names.filter((_, i) => results[i]!.status === 'rejected');
      const state = failing.length > 0 ? `not ready: ${failing.map((n) => `${n} ${report[n]}`).join(', ')}` : 'ready';
      if (state !== lastState) {
        // One line per change, with the checks and the causes' first lines: no stack, and not once per probe.
        if (failing.length > 0) request.log.warn({ checks: report, causes }, state);
        else request.log.info({ checks: report }, 'ready again');
        lastState = state;
      }
      if (failing.length > 0) {
        // Sent here rather than thrown: the error handler would log every probe's failure with a stack.
        return sendProblem(reply, new GatewayError('not_ready', `Not ready: ${failing.map((n) => `${n} ${report[n]}`).join(', ')}.`, { fields: { checks: report } }));
      }
      return { checks: report };
    },
  );

  app.get(
    '/metrics',
    { schema: { operationId: 'metrics', summary: 'Prometheus metrics', tags: ['operations'], security: [], response: { 200: { description: 'Metrics in the Prometheus text format', content: { 'text/plain': { schema: z.string() } } } } } },
    async (_request, reply) => {
      reply.type(options.metrics.registry.contentType);
      return options.metrics.registry.metrics();
    },
  );
};
