// Builds the one Stripe SDK client of a gateway from its configuration.
import Stripe from 'stripe';

export interface StripeClientOptions {
  secretKey: string;
  /** scheme://host[:port]; Stripe's own or a Stripe-compatible API such as our emulator. */
  apiBase: string;
  apiVersion: string;
  maxNetworkRetries: number;
  timeoutMs: number;
}

export function createStripeClient(options: StripeClientOptions): Stripe {
  const base = new URL(options.apiBase);
  const protocol = base.protocol === 'http:' ? 'http' : 'https';
  return new Stripe(options.secretKey, {
    // The SDK's type names only its own pinned version; ours is pinned in config.ts and passed through.
    apiVersion: options.apiVersion as Stripe.LatestApiVersion,
    host: base.hostname,
    port: base.port ? Number(base.port) : protocol === 'http' ? 80 : 443,
    protocol,
    maxNetworkRetries: options.maxNetworkRetries,
    timeout: options.timeoutMs,
    // Telemetry would send our request timings to Stripe in a header; we keep our own metrics.
    telemetry: false,
    appInfo: { name: 'refund-gateway' },
  });
}
