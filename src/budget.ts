// The time budget of one attempt, from the configuration: the idempotency lease, the shutdown grace and the proxy timeouts follow from it.
import type { Config } from './config.js';
import { LEASE_MARGIN_MS } from './refunds/idempotency.js';
import { sdkBackoffMs } from './stripe/stripe-gateway.js';

/**
 * The longest one refund or cancel attempt runs: its wait for the payment's turn (LOCK_WAIT_MS), one Stripe call with
 * every retry the SDK makes (STRIPE_TIMEOUT_MS × (STRIPE_MAX_NETWORK_RETRIES + 1), plus its backoff between tries),
 * and one more STRIPE_TIMEOUT_MS for the reads before it. The calls share it: each HTTP request's timeout is cut so
 * that none runs past it, and no call starts after it.
 */
export function attemptBudgetMs(config: Pick<Config, 'lockWaitMs' | 'stripe'>): number {
  const { timeoutMs, maxNetworkRetries } = config.stripe;
  return config.lockWaitMs + timeoutMs * (maxNetworkRetries + 1) + sdkBackoffMs(maxNetworkRetries) + timeoutMs;
}

/** How long a crashed attempt's record stays held: the budget and the time to store the answer. */
export const leaseMs = (config: Pick<Config, 'lockWaitMs' | 'stripe'>): number => attemptBudgetMs(config) + LEASE_MARGIN_MS;

/**
 * How long a batch item's run holds the item: its refund attempt's idempotency lease and time to store the answer. A
 * replica that takes the item over after it ran out finds the item's key free, and resumes it (finding any refund made).
 */
export const batchItemLeaseMs = (config: Pick<Config, 'lockWaitMs' | 'stripe'>): number => leaseMs(config) + 5_000;

/** SIGTERM waits this long for attempts in flight: each ends within its budget, so none is cut off mid-way. */
export const shutdownGraceMs = (config: Pick<Config, 'lockWaitMs' | 'stripe'>): number => leaseMs(config) + 5_000;

/**
 * How long the reconciliation job stays with a replica that stops renewing it (it renews between Stripe calls): two
 * Stripe calls with all their retries, or one interval if that is longer. A replica that dies mid-run loses the job
 * after that long.
 */
export function reconcileLeaseMs(config: Pick<Config, 'stripe' | 'reconcileIntervalMs'>): number {
  const { timeoutMs, maxNetworkRetries } = config.stripe;
  return Math.max(config.reconcileIntervalMs, 2 * (timeoutMs * (maxNetworkRetries + 1) + sdkBackoffMs(maxNetworkRetries)));
}
