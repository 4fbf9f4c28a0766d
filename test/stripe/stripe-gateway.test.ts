// The Stripe adapter against the emulator: Stripe's own refusals and failures become the gateway's codes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STRIPE_API_VERSION } from '../../src/config.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { GatewayError } from '../../src/refunds/gateway-error.js';
import { createStripeClient } from '../../src/stripe/stripe-client.js';
import { StripeGateway, type StripeCallEvent } from '../../src/stripe/stripe-gateway.js';
import { createPayment, sdkFor } from '../helpers/gateway.js';
import type Stripe from 'stripe';

let emulator: RunningEmulator;
let stripe: Stripe;
const events: StripeCallEvent[] = [];

const gatewayOn = (url: string, options: { retries?: number; timeoutMs?: number; maxRateLimitWaitMs?: number } = {}) =>
  new StripeGateway(
    createStripeClient({
      secretKey: 'sk_test_adapter',
      apiBase: url,
      apiVersion: STRIPE_API_VERSION,
      maxNetworkRetries: options.retries ?? 0,
      timeoutMs: options.timeoutMs ?? 2_000,
    }),
    { maxNetworkRetries: options.retries ?? 0, timeoutMs: options.timeoutMs ?? 2_000, maxRateLimitWaitMs: options.maxRateLimitWaitMs ?? 5_000, onCall: (e) => events.push(e) },
  );

const failure = async (promise: Promise<unknown>): Promise<GatewayError> => {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayError);
    return error as GatewayError;
  }
  throw new Error('expected the call to fail');
};

let k = 0;
const key = () => `adapter-${++k}`;

beforeAll(async () => {
  emulator = await startEmulator();
  stripe = sdkFor(emulator);
});
afterAll(async () => {
  await emulator?.close();
});

describe('StripeGateway: Stripe’s own refusals map to the same codes as the gateway’s rules', () => {
  it('when Stripe refuses more than is left, then amount_exceeds_refundable (the service adds what is left from a fresh read)', async () => {
    const gateway = gatewayOn(emulator.url);
    const p = await createPayment(stripe, { amount: 1_000 });
    await gateway.createRefund({ charge: p.charge!, amount: 400, metadata: {}, idempotencyKey: key() });
    const error = await failure(gateway.createRefund({ charge: p.charge!, amount: 601, metadata: {}, idempotencyKey: key() }));
    expect(error.code).toBe('amount_exceeds_refundable');
    expect(error.fields).toEqual({});
  });

  it('when Stripe says the charge is already refunded, then charge_already_refunded', async () => {
    const gateway = gatewayOn(emulator.url);
    const p = await createPayment(stripe);
    await gateway.createRefund({ paymentIntent: p.intent, metadata: {}, idempotencyKey: key() });
    expect((await failure(gateway.createRefund({ paymentIntent: p.intent, metadata: {}, idempotencyKey: key() }))).code).toBe('charge_already_refunded');
  });

  it('when Stripe refuses a disputed charge, then charge_disputed', async () => {
    const gateway = gatewayOn(emulator.url);
    const p = await createPayment(stripe, { paymentMethod: 'pm_card_createDispute' });
    expect(await gateway.hasBlockingDispute(p.charge!)).toBe(true);
    expect((await failure(gateway.createRefund({ charge: p.charge!, metadata: {}, idempotencyKey: key() }))).code).toBe('charge_disputed');
  });

  it('when Stripe refuses an authorised-only PaymentIntent, then payment_intent_requires_capture', async () => {
    const gateway = gatewayOn(emulator.url);
    const p = await createPayment(stripe, { captureMethod: 'manual' });
    const error = await failure(gateway.createRefund({ paymentIntent: p.intent, metadata: {}, idempotencyKey: key() }));
    expect(error.code).toBe('payment_intent_requires_capture');
    expect(error.fields).toMatchObject({ payment_intent_status: 'requires_capture' });
  });

  it('when Stripe refuses to cancel a succeeded PaymentIntent, then payment_intent_not_cancelable', async () => {
    const gateway = gatewayOn(emulator.url);
    const p = await createPayment(stripe);
    const error = await failure(gateway.cancelPaymentIntent(p.intent, {}));
    expect(error.code).toBe('payment_intent_not_cancelable');
    expect(error.fields).toMatchObject({ payment_intent_status: 'succeeded' });
  });

  it('when the id is unknown, then not_found for charges, PaymentIntents and refunds', async () => {
    const gateway = gatewayOn(emulator.url);
    for (const call of [gateway.readCharge('ch_Missing1'), gateway.readPaymentIntent('pi_Missing1'), gateway.getRefund('re_Missing1')]) {
      expect((await failure(call)).code).toBe('not_found');
    }
  });
});

describe('StripeGateway: failures of Stripe itself', () => {
  it('when Stripe rate-limits twice, then the gateway retries with the same key and succeeds', async () => {
    const gateway = gatewayOn(emulator.url, { retries: 2 });
    const p = await createPayment(stripe);
    emulator.control.injectFault({ method: 'POST', path: '/v1/refunds', kind: 'rate_limit', times: 2 });
    const idempotencyKey = key();
    const refund = await gateway.createRefund({ paymentIntent: p.intent, amount: 100, metadata: {}, idempotencyKey });
    expect(refund.amount).toBe(100);
    const attempts = emulator.control.requests({ method: 'POST', path: '/v1/refunds', idempotency_key: idempotencyKey });
    expect(attempts.map((a) => a.status)).toEqual([429, 429, 200]);
  });

  it('when Stripe keeps rate-limiting, then upstream_unavailable with a retry-after', async () => {
    const gateway = gatewayOn(emulator.url, { retries: 1 });
    emulator.control.injectFault({ method: 'GET', path: '/v1/charges/*', kind: 'rate_limit', times: 2 });
    const error = await failure(gateway.readCharge('ch_Whatever1'));
    expect(error.code).toBe('upstream_unavailable');
    expect(error.retryAfterSeconds).toBeGreaterThanOrEqual(1);
  });

  it('when Stripe answers 500 after the SDK’s retries, then upstream_error, and each retry reused the key', async () => {
    const gateway = gatewayOn(emulator.url, { retries: 1 });
    const p = await createPayment(stripe);
    emulator.control.injectFault({ method: 'POST', path: '/v1/refunds', kind: 'error', status: 500, times: 2 });
    const idempotencyKey = key();
    expect((await failure(gateway.createRefund({ paymentIntent: p.intent, metadata: {}, idempotencyKey }))).code).toBe('upstream_error');
    expect(emulator.control.requests({ method: 'POST', path: '/v1/refunds', idempotency_key: idempotencyKey })).toHaveLength(2);
  });

  it('when Stripe drops the connection after doing the work, then the SDK’s retry gets the replay: one refund', async () => {
    const gateway = gatewayOn(emulator.url, { retries: 1 });
    const p = await createPayment(stripe);
    emulator.control.injectFault({ method: 'POST', path: '/v1/refunds', kind: 'drop_after_work', times: 1 });
    const idempotencyKey = key();
    const refund = await gateway.createRefund({ paymentIntent: p.intent, amount: 300, metadata: {}, idempotencyKey });
    const attempts = emulator.control.requests({ method: 'POST', path: '/v1/refunds', idempotency_key: idempotencyKey });
    expect(attempts.map((a) => [a.status, a.replayed])).toEqual([
      [null, false],
      [200, true],
    ]);
    expect((await stripe.refunds.list({ payment_intent: p.intent })).data.map((r) => r.id)).toEqual([refund.id]);
  });

  it('when Stripe is slower than the timeout, then upstream_timeout', async () => {
    const gateway = gatewayOn(emulator.url, { timeoutMs: 200 });
    emulator.control.injectFault({ method: 'GET', path: '/v1/refunds', kind: 'delay', delay_ms: 600, times: 1 });
    expect((await failure(gateway.ping())).code).toBe('upstream_timeout');
  });

  it('when nothing listens at the API base, then upstream_unavailable', async () => {
    const closed = await startEmulator();
    const url = closed.url;
    await closed.close();
    expect((await failure(gatewayOn(url).ping())).code).toBe('upstream_unavailable');
  });

  it('when a deadline is too near for a call to get an answer, then no request is sent and it is upstream_unavailable', async () => {
    const gateway = gatewayOn(emulator.url, { retries: 2 });
    const before = emulator.control.requests({ method: 'GET', path: '/v1/refunds' }).length;
    const error = await failure(gateway.listRefunds({ charge: 'ch_Whatever1', limit: 1 }, { deadline: Date.now() + 50 }));
    expect({ code: error.code, retryAfter: error.retryAfterSeconds }).toEqual({ code: 'upstream_unavailable', retryAfter: 1 });
    expect(emulator.control.requests({ method: 'GET', path: '/v1/refunds' })).toHaveLength(before);
  });

  it('when a deadline is nearer than the timeout, then each request is cut short so that all tries end before it', async () => {
    const gateway = gatewayOn(emulator.url, { retries: 1, timeoutMs: 10_000 });
    emulator.control.injectFault({ method: 'GET', path: '/v1/refunds', kind: 'delay', delay_ms: 3_000, times: 2 });
    const started = Date.now();
    const error = await failure(gateway.listRefunds({ charge: 'ch_Whatever1', limit: 1 }, { deadline: started + 2_000 }));
    // Two tries of at most (2000 - 500 backoff) / 2 ms each: the caller hears within the deadline, not after 2 × 10 s.
    expect(error.code).toBe('upstream_timeout');
    expect(Date.now() - started).toBeLessThan(2_500);
  });

  it('when a call ends, then one event reports it with Stripe’s request id', async () => {
    events.length = 0;
    await gatewayOn(emulator.url).ping();
    expect(events).toEqual([expect.objectContaining({ operation: 'refunds.list', outcome: 'ok', statusCode: 200, stripeRequestId: expect.stringMatching(/^req_/) })]);
  });
});
