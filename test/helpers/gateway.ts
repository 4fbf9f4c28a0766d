// A real gateway for HTTP tests: buildApp on a fresh in-memory ledger, talking through the real SDK to a fresh emulator.
import type Stripe from 'stripe';
import supertest from 'supertest';
import type { FastifyInstance } from 'fastify';
import { buildApp, type AppDeps } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import type { Ledger } from '../../src/refunds/ledger.js';
import { createPayment as createEmulatorPayment, createStripeClient, type PaymentOptions } from './emulator.js';
import { newTestLedger } from './ledger.js';

/** Plain-text keys of the test callers; the config gets them as API_KEYS like any deployment. */
export const KEYS = {
  billing: 'billing-key-0123456789abcdef',
  /** The same identity as billing, under a rotated key. */
  billingRotated: 'billing-rotated-key-0123456789',
  shop: 'shop-key-0123456789abcdef',
  support: 'support-key-0123456789abcdef',
  ops: 'ops-key-0123456789abcdef',
  tight: 'tight-key-0123456789abcdef',
} as const;

export const API_KEYS = [
  { id: 'billing', key: KEYS.billing, scopes: ['refunds:read', 'refunds:write', 'payment_intents:write'] },
  { id: 'billing', key: KEYS.billingRotated, scopes: ['refunds:read', 'refunds:write', 'payment_intents:write'] },
  { id: 'shop', key: KEYS.shop, scopes: ['refunds:read', 'refunds:write', 'payment_intents:write'] },
  { id: 'support', key: KEYS.support, scopes: ['refunds:read'] },
  { id: 'ops', key: KEYS.ops, scopes: ['payment_intents:write'] },
  { id: 'tight', key: KEYS.tight, scopes: ['refunds:read'], rate_limit_per_minute: 3 },
];

export const auth = (key: string = KEYS.billing) => ({ authorization: `Bearer ${key}` });

export interface TestGateway {
  app: FastifyInstance;
  http: supertest.Agent;
  emulator: RunningEmulator;
  /** The SDK pointed at the emulator, to make payments the way a shop would. */
  stripe: Stripe;
  ledger: Ledger;
  close(): Promise<void>;
}

export interface TestGatewayOptions {
  /** Extra environment for loadConfig, e.g. `{ LOCK_WAIT_MS: '50' }`. */
  env?: Record<string, string>;
  /** Share a ledger (and an emulator) between two gateways to play two replicas. */
  ledger?: Ledger;
  emulator?: RunningEmulator;
  /** Start the gateway's own emulator with the demo payments (pi_DemoSucceeded, …). */
  seed?: boolean;
  /** The gateway's clock, to play days passing (idempotency retention). */
  now?: () => Date;
  /** pino options (e.g. a stream to read the log lines); default none. */
  logger?: AppDeps['logger'];
  /** Where the gateway's spans go (an in-memory exporter's provider); default: no tracing. */
  tracerProvider?: AppDeps['tracerProvider'];
}

export const sdkFor = (emulator: RunningEmulator): Stripe => createStripeClient(emulator.url, { maxNetworkRetries: 0 });

export async function startTestGateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const emulator = options.emulator ?? (await startEmulator({ port: 0, seed: options.seed ?? false }));
  const ledger = options.ledger ?? (await newTestLedger());
  const loaded = loadConfig({
    STRIPE_SECRET_KEY: 'sk_test_gateway',
    STRIPE_API_BASE: emulator.url,
    API_KEYS: JSON.stringify(API_KEYS),
    LOG_LEVEL: 'silent',
    // Several gateways share a test process, and one's start-up lags the others' event loop; shedding is off
    // unless a test asks for it (test/http/load-shedding.test.ts does).
    MAX_EVENT_LOOP_DELAY_MS: '0',
    // The gateway's own Stripe pacing (20 calls/s with a test key) is out of the way unless a test is about it.
    STRIPE_RATE_LIMIT_PER_SECOND: '10000',
    // Reconciliation reads Stripe's event list on its own: off unless a test is about it, so request counts stay exact.
    RECONCILE_INTERVAL_MS: '0',
    ...options.env,
  });
  if (!loaded.ok) throw new Error(`test config: ${loaded.problems.join('; ')}`);
  const app = await buildApp(loaded.config, {
    ledger,
    logger: options.logger ?? false,
    ...(options.now ? { now: options.now } : {}),
    ...(options.tracerProvider ? { tracerProvider: options.tracerProvider } : {}),
  });
  await app.ready();
  return {
    app,
    http: supertest.agent(app.server),
    emulator,
    stripe: sdkFor(emulator),
    ledger,
    async close() {
      await app.close();
      if (!options.ledger) await ledger.close();
      if (!options.emulator) await emulator.close();
    },
  };
}

/** A PaymentIntent made as a shop would make it: its id, its charge's id (null before confirmation) and status. */
export async function createPayment(stripe: Stripe, options: PaymentOptions = {}): Promise<{ intent: string; charge: string | null; status: string }> {
  const { paymentIntent, chargeId } = await createEmulatorPayment(stripe, options);
  return { intent: paymentIntent.id, charge: chargeId || null, status: paymentIntent.status };
}

/** The /v1/refunds POSTs that reached the emulator (the proof that a refusal never called Stripe). */
export const refundPosts = (emulator: RunningEmulator) => emulator.control.requests({ method: 'POST', path: '/v1/refunds' });
