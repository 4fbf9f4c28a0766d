// Prometheus metrics of one gateway instance, on its own registry (no global state, several apps per process in tests).
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** What the metrics need of one Stripe call; stated here so http/ does not reach into stripe/ (the lint wall). */
export interface UpstreamCall {
  operation: string;
  outcome: 'ok' | 'error';
  durationMs: number;
  code?: string;
}

export interface Metrics {
  registry: Registry;
  observeRequest(labels: { method: string; route: string; status: number }, seconds: number): void;
  observeStripeCall(event: UpstreamCall): void;
  /** One run of a batch item, by how it ended (`retry`: to run again later). */
  observeBatchItem(outcome: string): void;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Histogram({
    name: 'gateway_http_request_duration_seconds',
    help: 'HTTP requests served, by route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const stripeCalls = new Histogram({
    name: 'gateway_stripe_call_duration_seconds',
    help: 'Stripe API calls (one per logical call, SDK retries included), by operation and outcome',
    labelNames: ['operation', 'outcome'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const stripeErrors = new Counter({
    name: 'gateway_stripe_errors_total',
    help: 'Failed Stripe calls by the gateway error code they became',
    labelNames: ['operation', 'code'] as const,
    registers: [registry],
  });
  const batchItems = new Counter({
    name: 'gateway_batch_item_runs_total',
    help: 'Runs of refund batch items by how they ended (refunded, refused, awaiting_approval, failed, or retry: to run again)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  return {
    registry,
    observeBatchItem: (outcome) => batchItems.inc({ outcome }),
    observeRequest: ({ method, route, status }, seconds) => requests.observe({ method, route, status: String(status) }, seconds),
    observeStripeCall: (event) => {
      stripeCalls.observe({ operation: event.operation, outcome: event.outcome }, event.durationMs / 1000);
      if (event.code) stripeErrors.inc({ operation: event.operation, code: event.code });
    },
  };
}
