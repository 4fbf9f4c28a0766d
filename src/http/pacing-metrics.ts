// Metrics of the Stripe pacing: this process's share of the rate limit and the calls waiting for a turn.
import { Gauge, type Registry } from 'prom-client';

/** What the metrics read of the pacer; stated here so http/ does not reach into stripe/ (the lint wall). */
export interface PacerReadings {
  readonly share: number;
  waiting(): Record<'interactive' | 'background', number>;
}

export function registerPacingMetrics(registry: Registry, pacer: PacerReadings): void {
  new Gauge({
    name: 'gateway_stripe_rate_share_per_second',
    help: 'Stripe calls a second this process may make: STRIPE_RATE_LIMIT_PER_SECOND divided by the live replicas',
    registers: [registry],
    collect() {
      this.set(pacer.share);
    },
  });
  new Gauge({
    name: 'gateway_stripe_calls_waiting',
    help: 'Stripe calls waiting for a turn under the rate limit, by priority',
    labelNames: ['priority'] as const,
    registers: [registry],
    collect() {
      const waiting = pacer.waiting();
      this.set({ priority: 'interactive' }, waiting.interactive);
      this.set({ priority: 'background' }, waiting.background);
    },
  });
}
