// Test helpers for the Stripe emulator: start one with an SDK client pointed at it, and typed wrappers over its control API.
import Stripe from 'stripe';
import { STRIPE_API_VERSION } from '../../src/config.js';
import { afterEach, beforeEach } from 'vitest';
import type { Fault, FaultSpec } from '../../src/emulator/faults.js';
import type { LoggedRequest, RequestFilter } from '../../src/emulator/request-log.js';
import { startEmulator, type RunningEmulator, type StartEmulatorOptions } from '../../src/emulator/server.js';

export type { Fault, FaultSpec, LoggedRequest, RequestFilter, RunningEmulator };

export const TEST_SECRET_KEY = 'sk_test_emulatorSuiteKey';
/** The gateway's pinned API version (config.ts), so the emulator is tested with what the gateway sends. */
export const TEST_API_VERSION = STRIPE_API_VERSION;

export interface ClientOptions {
  apiKey?: string;
  /** The SDK's own default is 2; tests that count attempts set it explicitly. */
  maxNetworkRetries?: number;
  timeout?: number;
  stripeAccount?: string;
}

/** The real SDK, pointed at an emulator URL (`http://host:port`). */
export function createStripeClient(url: string, options: ClientOptions = {}): Stripe {
  const { hostname, port } = new URL(url);
  return new Stripe(options.apiKey ?? TEST_SECRET_KEY, {
    host: hostname.replace(/^\[|\]$/g, ''),
    port: Number(port),
    protocol: 'http',
    telemetry: false,
    apiVersion: TEST_API_VERSION,
    ...(options.maxNetworkRetries === undefined ? {} : { maxNetworkRetries: options.maxNetworkRetries }),
    ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
    ...(options.stripeAccount === undefined ? {} : { stripeAccount: options.stripeAccount }),
  });
}

export interface EmulatorHarness {
  emulator: RunningEmulator;
  url: string;
  stripe: Stripe;
  close(): Promise<void>;
}

/** A fresh emulator on port 0 and an SDK client for it; call `close()` (e.g. in afterEach). */
export async function startEmulatorWithClient(options: StartEmulatorOptions & ClientOptions = {}): Promise<EmulatorHarness> {
  const { apiKey, maxNetworkRetries, timeout, stripeAccount, ...emulatorOptions } = options;
  const emulator = await startEmulator({ port: 0, ...emulatorOptions });
  const clientOptions: ClientOptions = {};
  if (apiKey !== undefined) clientOptions.apiKey = apiKey;
  if (maxNetworkRetries !== undefined) clientOptions.maxNetworkRetries = maxNetworkRetries;
  if (timeout !== undefined) clientOptions.timeout = timeout;
  if (stripeAccount !== undefined) clientOptions.stripeAccount = stripeAccount;
  return { emulator, url: emulator.url, stripe: createStripeClient(emulator.url, clientOptions), close: () => emulator.close() };
}

/**
 * Registers a `beforeEach` that starts a fresh emulator with an SDK client, and an `afterEach` that closes it. The
 * object returned reads the running test's emulator through getters, so it can be kept at module level
 * (`const h = useEmulator(…)`) and used inside tests as `h.stripe`, `h.url`, `h.emulator`.
 */
export function useEmulator(options: StartEmulatorOptions & ClientOptions = {}): Omit<EmulatorHarness, 'close'> {
  let current: EmulatorHarness | undefined;
  beforeEach(async () => {
    current = await startEmulatorWithClient(options);
  });
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  const running = (): EmulatorHarness => {
    if (current === undefined) throw new Error('useEmulator(): the emulator exists only while a test runs');
    return current;
  };
  return {
    get emulator() {
      return running().emulator;
    },
    get url() {
      return running().url;
    },
    get stripe() {
      return running().stripe;
    },
  };
}

/** The Stripe error a call was refused with; throws when the call succeeded instead. */
export const fail = (p: Promise<unknown>): Promise<Stripe.errors.StripeError> =>
  p.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: Stripe.errors.StripeError) => e,
  );

// ---- control API over HTTP: works the same against an in-process emulator and one started with `npm run emulator` ----

async function control<T>(url: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${url}/_emulator${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await res.json()) as T & { error?: { message?: string } };
  if (!res.ok) throw new Error(`emulator control ${method} ${path} → ${res.status}: ${json.error?.message ?? JSON.stringify(json)}`);
  return json;
}

/** For the next `times` requests matching method + path: an error, a 429, a delay, a reset, or work-then-drop. */
export const injectFault = (url: string, spec: FaultSpec): Promise<Fault> => control<Fault>(url, 'POST', '/faults', spec);
export const clearFaults = async (url: string): Promise<void> => void (await control(url, 'DELETE', '/faults'));

/** The /v1 requests the emulator received (oldest first), optionally filtered. */
export async function requests(url: string, filter: RequestFilter = {}): Promise<LoggedRequest[]> {
  const query = new URLSearchParams(Object.entries(filter).filter((e): e is [string, string] => typeof e[1] === 'string'));
  return (await control<{ data: LoggedRequest[] }>(url, 'GET', `/requests?${query.toString()}`)).data;
}
export const clearRequests = async (url: string): Promise<void> => void (await control(url, 'DELETE', '/requests'));

/** Moves the emulator clock forward; returns its new time (unix seconds). */
export const advanceClock = async (url: string, seconds: number): Promise<number> => (await control<{ now: number }>(url, 'POST', '/clock/advance', { seconds })).now;
export const emulatorNow = async (url: string): Promise<number> => (await control<{ now: number }>(url, 'GET', '/clock')).now;

/** Closes an open dispute (won or lost); a closed dispute no longer blocks refunds. Returns the Stripe dispute object. */
export const closeDispute = (url: string, disputeId: string, status: 'won' | 'lost'): Promise<Stripe.Dispute> =>
  control<Stripe.Dispute>(url, 'POST', `/disputes/${encodeURIComponent(disputeId)}/close`, { status });

/** Opens a dispute on a captured charge (`inquiry: true` → a refundable `warning_needs_response` inquiry). */
export const openDispute = (url: string, chargeId: string, options: { inquiry?: boolean } = {}): Promise<Stripe.Dispute> =>
  control<Stripe.Dispute>(url, 'POST', `/charges/${encodeURIComponent(chargeId)}/dispute`, options);

/** false: refunds the available balance cannot cover stay pending (`insufficient_funds`) until a top-up. */
export const setBankDebits = (url: string, enabled: boolean): Promise<{ bank_debits: boolean }> => control(url, 'POST', '/settings', { bank_debits: enabled });

export const resetEmulator = async (url: string): Promise<void> => void (await control(url, 'POST', '/reset'));

// ---- small scenario builders over the SDK ----

export interface PaymentOptions {
  amount?: number;
  currency?: string;
  paymentMethod?: string;
  captureMethod?: 'automatic' | 'manual';
  /** false: leave it in requires_confirmation. */
  confirm?: boolean;
}

/** A confirmed card PaymentIntent (succeeded, or requires_capture with manual capture) and its charge id. */
export async function createPayment(stripe: Stripe, options: PaymentOptions = {}): Promise<{ paymentIntent: Stripe.PaymentIntent; chargeId: string }> {
  const paymentIntent = await stripe.paymentIntents.create({
    amount: options.amount ?? 10_000,
    currency: options.currency ?? 'usd',
    payment_method: options.paymentMethod ?? 'pm_card_visa',
    allowed_payment_method_types: ['card'],
    confirm: options.confirm ?? true,
    capture_method: options.captureMethod ?? 'automatic',
  });
  const chargeId = typeof paymentIntent.latest_charge === 'string' ? paymentIntent.latest_charge : (paymentIntent.latest_charge?.id ?? '');
  return { paymentIntent, chargeId };
}
