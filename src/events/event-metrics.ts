// Metrics of the outbound events: delivered, failed attempts, given up, latency, and the backlog read from the ledger.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { DeliveryBacklog, DeliveryResult } from '../refunds/events.js';

export interface EventMetrics {
  onSent(outcome: { caller: string; type: string; result: DeliveryResult['kind']; sinceEventMs: number }): void;
}

/** Registers on the app's registry; the backlog gauges ask the ledger when scraped (one small query). */
export function registerEventMetrics(registry: Registry, backlog: () => Promise<DeliveryBacklog>): EventMetrics {
  const attempts = new Counter({
    name: 'gateway_event_delivery_attempts_total',
    help: 'Attempts to deliver an event to a caller, by result: delivered, retry (a failed attempt that will be retried), failed (given up)',
    labelNames: ['caller', 'type', 'result'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'gateway_event_delivery_latency_seconds',
    help: 'From the change an event describes to its delivery to a caller',
    labelNames: ['caller'] as const,
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
    registers: [registry],
  });
  // Read together when scraped: one query for both gauges.
  let reading: Promise<DeliveryBacklog> | undefined;
  const read = (): Promise<DeliveryBacklog> => {
    reading ??= backlog().finally(() => {
      reading = undefined;
    });
    return reading;
  };
  new Gauge({
    name: 'gateway_events_pending',
    help: 'Event deliveries not yet made (across every replica sharing the ledger)',
    registers: [registry],
    async collect() {
      this.set((await read().catch(() => ({ pending: NaN }))).pending);
    },
  });
  new Gauge({
    name: 'gateway_events_oldest_pending_seconds',
    help: 'Age of the oldest event delivery not yet made; 0 when none waits',
    registers: [registry],
    async collect() {
      this.set((await read().catch(() => ({ oldestPendingSeconds: NaN }))).oldestPendingSeconds ?? 0);
    },
  });
  return {
    onSent: ({ caller, type, result, sinceEventMs }) => {
      attempts.inc({ caller, type, result });
      if (result === 'delivered') latency.observe({ caller }, sinceEventMs / 1000);
    },
  };
}
