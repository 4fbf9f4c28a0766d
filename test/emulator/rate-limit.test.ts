// Rate-limit mode: Stripe's 429 rate_limit over the per-second limits (overall and per endpoint), before idempotency, counted for the tests.
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/emulator/rate-limiter.js';
import { createPayment, fail, requests, resetEmulator, useEmulator } from '../helpers/emulator.js';
import { rateLimitStats, updateSettings } from '../helpers/emulator-events.js';

const h = useEmulator({ maxNetworkRetries: 0 });

/** Settles every call: the value, or the Stripe error it was refused with. */
const settleAll = <T>(calls: Promise<T>[]) => Promise.all(calls.map((p) => p.then((value) => ({ value }), (error: Stripe.errors.StripeError) => ({ error }))));

describe('the sliding one-second window', () => {
  it('when requests come faster than the limits, then the window admits per_second in any second, per endpoint too, and frees a slot a second after it was used', () => {
    let now = 0;
    const limiter = new RateLimiter(() => now);
    limiter.configure({ per_second: 3, per_endpoint_per_second: 2 });
    expect([limiter.admit('GET /v1/a'), limiter.admit('GET /v1/a'), limiter.admit('GET /v1/a')]).toEqual([true, true, false]);
    now = 500;
    expect([limiter.admit('GET /v1/b'), limiter.admit('GET /v1/b')]).toEqual([true, false]);
    now = 999;
    expect(limiter.admit('GET /v1/c')).toBe(false);
    now = 1000;
    // The two requests of t=0 have left the window; the one of t=500 has not.
    expect([limiter.admit('GET /v1/a'), limiter.admit('GET /v1/a'), limiter.admit('GET /v1/c')]).toEqual([true, true, false]);
    expect(limiter.stats()).toEqual({ rate_limit: { per_second: 3, per_endpoint_per_second: 2 }, rate_limited: 4, by_endpoint: { 'GET /v1/a': 1, 'GET /v1/b': 1, 'GET /v1/c': 2 } });
    limiter.configure(null);
    expect(Array.from({ length: 50 }, () => limiter.admit('GET /v1/a')).every(Boolean)).toBe(true);
    expect(limiter.stats().rate_limited).toBe(0);
  });
});

describe('rate-limit mode over HTTP', () => {
  it('when it is off (the default), then a burst is never refused', async () => {
    expect((await updateSettings(h.url, {})).rate_limit).toBeNull();
    const answers = await settleAll(Array.from({ length: 40 }, () => h.stripe.balance.retrieve()));
    expect(answers.filter((a) => 'error' in a)).toEqual([]);
    expect((await rateLimitStats(h.url)).rate_limited).toBe(0);
  });

  it('when a burst of 3× the limit arrives at once, then the requests over it get 429 rate_limit, which the SDK raises as StripeRateLimitError without retrying', async () => {
    await updateSettings(h.url, { rate_limit: { per_second: 10, per_endpoint_per_second: 10 } });
    const retrying = new Stripe('sk_test_emulatorSuiteKey', { host: '127.0.0.1', port: Number(new URL(h.url).port), protocol: 'http', telemetry: false, maxNetworkRetries: 2 });
    const answers = await settleAll(Array.from({ length: 30 }, () => retrying.balance.retrieve()));
    const refused = answers.flatMap((a) => ('error' in a ? [a.error] : []));
    expect(refused.length).toBeGreaterThan(0);
    for (const err of refused) {
      expect(err).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
      expect(err).toMatchObject({ statusCode: 429, code: 'rate_limit', rawType: 'invalid_request_error' });
      expect(err.message).toMatch(/^Request rate limit exceeded\./);
      expect(err.headers?.['stripe-should-retry']).toBeUndefined();
    }
    // The SDK sent each request once: a plain 429 is not retried.
    const logged = await requests(h.url, { path: '/v1/balance' });
    expect(logged).toHaveLength(30);
    expect(logged.filter((r) => r.rate_limited).length).toBe(refused.length);
    expect(await rateLimitStats(h.url)).toEqual({ rate_limit: { per_second: 10, per_endpoint_per_second: 10 }, rate_limited: refused.length, by_endpoint: { 'GET /v1/balance': refused.length } });
  });

  it('when fewer requests than the limit are made, then none is refused', async () => {
    await updateSettings(h.url, { rate_limit: { per_second: 25, per_endpoint_per_second: 25 } });
    const answers = await settleAll(Array.from({ length: 24 }, () => h.stripe.balance.retrieve()));
    expect(answers.filter((a) => 'error' in a)).toEqual([]);
    expect((await rateLimitStats(h.url)).rate_limited).toBe(0);
  });

  it('when only the per-endpoint limit is set, then an endpoint is counted by method and path template: one retrieve route, ids aside', async () => {
    const { chargeId } = await createPayment(h.stripe, { amount: 1000 });
    const other = await createPayment(h.stripe, { amount: 1000 });
    await updateSettings(h.url, { rate_limit: { per_endpoint_per_second: 2 } });
    const answers = await settleAll([chargeId, other.chargeId, chargeId, other.chargeId, chargeId, other.chargeId].map((id) => h.stripe.charges.retrieve(id)));
    expect(answers.filter((a) => 'error' in a).length).toBeGreaterThan(0);
    const stats = await rateLimitStats(h.url);
    expect(Object.keys(stats.by_endpoint)).toEqual(['GET /v1/charges/:id']);
  });

  it('when a request is rate-limited, then nothing is stored under its idempotency key: the same key later runs for real, even with other parameters', async () => {
    const { chargeId } = await createPayment(h.stripe, { amount: 10_000 });
    await updateSettings(h.url, { rate_limit: { per_endpoint_per_second: 1 } });
    // Send refunds until one is refused (the first always passes; the window is real time, so allow a few tries).
    let refusedKey: string | undefined;
    for (let i = 0; i < 20 && refusedKey === undefined; i += 1) {
      const key = `burst-${i}`;
      const answers = await settleAll([key, `${key}-twin`].map((k) => h.stripe.refunds.create({ charge: chargeId, amount: 100 }, { idempotencyKey: k })));
      const refusedAt = answers.findIndex((a) => 'error' in a);
      if (refusedAt >= 0) refusedKey = refusedAt === 0 ? key : `${key}-twin`;
    }
    expect(refusedKey).toBeDefined();
    const [refusal] = await requests(h.url, { idempotency_key: refusedKey ?? '' });
    expect(refusal).toMatchObject({ status: 429, rate_limited: true, replayed: false });
    await updateSettings(h.url, { rate_limit: null });
    // Another amount under the refused key: a stored request would make this a 400 idempotency_error.
    const refund = await h.stripe.refunds.create({ charge: chargeId, amount: 250 }, { idempotencyKey: refusedKey ?? '' });
    expect(refund).toMatchObject({ amount: 250, status: 'succeeded' });
    expect(refund.lastResponse.headers['idempotent-replayed']).toBeUndefined();
  });

  it('when the settings are bad, then 400 and nothing changes; reset turns rate limiting off', async () => {
    for (const rateLimit of [{}, { per_second: 0 }, { per_second: 1.5 }, { per_minute: 5 }]) {
      await expect(updateSettings(h.url, { rate_limit: rateLimit as never })).rejects.toThrow(/→ 400/);
    }
    expect((await updateSettings(h.url, { rate_limit: { per_second: 5 } })).rate_limit).toEqual({ per_second: 5 });
    await resetEmulator(h.url);
    expect((await updateSettings(h.url, {})).rate_limit).toBeNull();
  });

  it('when the control API is called in a burst, then it is never rate-limited (only /v1 is)', async () => {
    await updateSettings(h.url, { rate_limit: { per_second: 1 } });
    const answers = await Promise.all(Array.from({ length: 10 }, () => fetch(`${h.url}/_emulator/rate_limit`)));
    expect(answers.map((r) => r.status)).toEqual(Array.from({ length: 10 }, () => 200));
    expect(await fail(Promise.all([h.stripe.balance.retrieve(), h.stripe.balance.retrieve()]))).toMatchObject({ statusCode: 429 });
  });
});
