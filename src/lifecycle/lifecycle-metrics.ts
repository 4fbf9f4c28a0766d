// Metrics of what Stripe reports after the request: events received (webhook or reconciliation) and the reconciliation job.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ApplyOutcome } from '../refunds/refund-lifecycle.js';
import type { ReconcileResult } from '../refunds/reconciliation.js';
import type { EventSource } from '../refunds/stripe-events.js';

export interface LifecycleMetrics {
  onStripeEvent(source: EventSource, outcome: ApplyOutcome | 'invalid_signature'): void;
  onReconcile(result: ReconcileResult | { kind: 'failed' }): void;
}

/** Registers on the app's registry; the last success is the job row's (shared by replicas), read when scraped. */
export function registerLifecycleMetrics(registry: Registry, lastSuccess: () => Promise<Date | null>): LifecycleMetrics {
  const stripeEvents = new Counter({
    name: 'gateway_stripe_events_total',
    help: 'Stripe events received, by source (webhook, reconcile) and outcome (recorded, duplicate, ignored, invalid_signature)',
    labelNames: ['source', 'outcome'] as const,
    registers: [registry],
  });
  const runs = new Counter({
    name: 'gateway_reconcile_runs_total',
    help: 'Reconciliation attempts by this process: done, busy (another replica held the job), failed',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const applied = new Counter({
    name: 'gateway_reconcile_events_applied_total',
    help: 'Stripe events that reconciliation applied (ones no webhook had brought)',
    registers: [registry],
  });
  const reread = new Counter({
    name: 'gateway_reconcile_refunds_reread_total',
    help: 'Refunds re-read from Stripe because they stayed pending or requires_action for longer than one interval',
    registers: [registry],
  });
  const errors = new Counter({ name: 'gateway_reconcile_errors_total', help: 'Reconciliation runs that failed', registers: [registry] });
  const lag = new Gauge({
    name: 'gateway_reconcile_lag_seconds',
    help: "At this process's last run: seconds from the newest event it applied being made at Stripe to the run; 0 when nothing was missing",
    registers: [registry],
  });
  new Gauge({
    name: 'gateway_reconcile_last_success_timestamp_seconds',
    help: 'Unix time of the last successful reconciliation run by any replica; 0 before the first',
    registers: [registry],
    async collect() {
      const at = await lastSuccess().catch(() => undefined);
      this.set(at === undefined ? NaN : at === null ? 0 : at.getTime() / 1000);
    },
  });
  return {
    onStripeEvent: (source, outcome) => stripeEvents.inc({ source, outcome }),
    onReconcile: (result) => {
      if (result.kind === 'not_due') return;
      runs.inc({ outcome: result.kind });
      if (result.kind === 'failed') errors.inc();
      if (result.kind !== 'done') return;
      applied.inc(result.summary.eventsApplied);
      reread.inc(result.summary.refundsReread);
      lag.set(result.summary.lagSeconds);
    },
  };
}
