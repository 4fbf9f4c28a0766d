// Fault injection and the SDK's retries: injected failures sit in front of idempotency, so retries with the same key make exactly one refund.
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { clearFaults, createPayment, createStripeClient, fail, injectFault, requests, resetEmulator, useEmulator } from '../helpers/emulator.js';

const h = useEmulator({ maxNetworkRetries: 0 });

const refundAttempts = (url: string) => requests(url, { method: 'POST', path: '/v1/refunds' });

describe('SDK retries against injected failures', () => {
  it('when the first refund attempt gets an injected 500, then the SDK retries with the same key and exactly one refund exists', async () => {
    const { chargeId } = await createPayment(h.stripe, { amount: 2000 });
    await injectFault(h.url, { method: 'POST', path: '/v1/refunds', kind: 'error', status: 500 });
    const retrying = createStripeClient(h.url, { maxNetworkRetries: 2 });
    const refund = await retrying.refunds.create({ charge: chargeId, amount: 700 });
    const attempts = await refundAttempts(h.url);
    expect(attempts.map((a) => [a.status, a.fault])).toEqual([
      [500, 'error'],
      [200, null],
    ]);
    expect(new Set(attempts.map((a) => a.idempotency_key)).size).toBe(1);
    expect(attempts[0]?.idempotency_key).toMatch(/^stripe-node-retry-/);
    const list = await h.stripe.refunds.list({ charge: chargeId });
    expect(list.data.map((r) => r.id)).toEqual([refund.id]);
    expect((await h.stripe.charges.retrieve(chargeId)).amount_refunded).toBe(700);
  });

  it('when the connection is reset without an answer, then the SDK retries with the same key and exactly one refund exists', async () => {
    const { chargeId } = await createPayment(h.stripe, { amount: 2000 });
    await injectFault(h.url, { method: 'POST', path: '/v1/refunds', kind: 'reset' });
    const retrying = createStripeClient(h.url, { maxNetworkRetries: 2 });
    const refund = await retrying.refunds.create({ charge: chargeId, amount: 700 });
    const attempts = await refundAttempts(h.url);
    expect(attempts.map((a) => [a.status, a.fault])).toEqual([
      [null, 'reset'],
      [200, null],
    ]);
    expect(attempts[0]?.idempotency_key).toBe(attempts[1]?.idempotency_key);
    expect((await h.stripe.refunds.list({ charge: chargeId })).data.map((r) => r.id)).toEqual([refund.id]);
  });

  it('when the work is done and then the connection dropped, then the SDK retry is answered by replay and exactly one refund exists', async () => {
    const { chargeId } = await createPayment(h.stripe, { amount: 2000 });
    await injectFault(h.url, { method: 'POST', path: '/v1/refunds', kind: 'drop_after_work' });
    const retrying = createStripeClient(h.url, { maxNetworkRetries: 2 });
    const refund = await retrying.refunds.create({ charge: chargeId, amount: 700 });
    expect(refund.lastResponse.headers['idempotent-replayed']).toBe('true');
    const attempts = await refundAttempts(h.url);
    expect(attempts.map((a) => [a.status, a.fault, a.replayed])).toEqual([
      [null, 'drop_after_work', false],
      [200, null, true],
    ]);
    expect((await h.stripe.refunds.list({ charge: chargeId })).data.map((r) => r.id)).toEqual([refund.id]);
    expect((await h.stripe.charges.retrieve(chargeId)).amount_refunded).toBe(700);
  });

  it('when the work is done and the answer delayed, then the refund exists at once while the caller is still waiting', async () => {
    const { chargeId } = await createPayment(h.stripe, { amount: 2000 });
    await injectFault(h.url, { method: 'POST', path: '/v1/refunds', kind: 'delay_after_work', delay_ms: 800 });
    const pending = h.stripe.refunds.create({ charge: chargeId, amount: 300 });
    // Another request sees the refund while the first one's answer is still held back.
    await expect.poll(async () => (await h.stripe.refunds.list({ charge: chargeId })).data.length).toBe(1);
    const attemptsMeanwhile = await refundAttempts(h.url);
    expect(attemptsMeanwhile.map((a) => a.status)).toEqual([null]);
    const refund = await pending;
    expect((await h.stripe.refunds.list({ charge: chargeId })).data.map((r) => r.id)).toEqual([refund.id]);
  });

  it('when a 429 rate_limit is injected, then the SDK does not retry and raises StripeRateLimitError with code rate_limit', async () => {
    await injectFault(h.url, { method: 'GET', path: '/v1/balance', kind: 'rate_limit' });
    const retrying = createStripeClient(h.url, { maxNetworkRetries: 2 });
    const err = await fail(retrying.balance.retrieve());
    expect(err).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
    expect(err).toMatchObject({ statusCode: 429, code: 'rate_limit', rawType: 'invalid_request_error' });
    expect(await requests(h.url, { path: '/v1/balance' })).toHaveLength(1);
  });

  it('when a 429 lock_timeout is injected, then Stripe-Should-Retry: true makes the SDK retry and the call succeeds', async () => {
    const { chargeId } = await createPayment(h.stripe);
    await injectFault(h.url, { method: 'POST', path: '/v1/refunds', kind: 'lock_timeout' });
    const retrying = createStripeClient(h.url, { maxNetworkRetries: 2 });
    const refund = await retrying.refunds.create({ charge: chargeId, amount: 100 });
    expect(refund.status).toBe('succeeded');
    expect((await refundAttempts(h.url)).map((a) => a.status)).toEqual([429, 200]);
  });

  it('when a 500 carries Stripe-Should-Retry: false, then the SDK gives up at once with StripeAPIError', async () => {
    await injectFault(h.url, { path: '/v1/balance', kind: 'error', status: 503, should_retry: false, code: 'emulator_unavailable' });
    const retrying = createStripeClient(h.url, { maxNetworkRetries: 2 });
    const err = await fail(retrying.balance.retrieve());
    expect(err).toBeInstanceOf(Stripe.errors.StripeAPIError);
    expect(err).toMatchObject({ statusCode: 503, rawType: 'api_error', code: 'emulator_unavailable' });
    expect(await requests(h.url, { path: '/v1/balance' })).toHaveLength(1);
  });

  it.each([
    { spec: { kind: 'error', status: 503, should_retry: false, retry_after: 7 }, errorClass: Stripe.errors.StripeAPIError, statusCode: 503 },
    { spec: { kind: 'rate_limit', retry_after: 2 }, errorClass: Stripe.errors.StripeRateLimitError, statusCode: 429 },
    { spec: { kind: 'lock_timeout', retry_after: 0 }, errorClass: Stripe.errors.StripeRateLimitError, statusCode: 429 },
  ] as const)('when a $spec.kind fault has retry_after $spec.retry_after, then the SDK error carries that Retry-After header', async ({ spec, errorClass, statusCode }) => {
    await injectFault(h.url, { path: '/v1/balance', ...spec });
    const err = await fail(h.stripe.balance.retrieve());
    expect(err).toBeInstanceOf(errorClass);
    expect(err.statusCode).toBe(statusCode);
    expect(err.headers?.['retry-after']).toBe(String(spec.retry_after));
  });

  it('when a fault has no retry_after, then its answer has no Retry-After header', async () => {
    await injectFault(h.url, { path: '/v1/balance', kind: 'rate_limit' });
    const err = await fail(h.stripe.balance.retrieve());
    expect(err.statusCode).toBe(429);
    expect(err.headers?.['retry-after']).toBeUndefined();
  });

  it('when the answer is slower than the SDK timeout, then the SDK raises StripeConnectionError, the work still happens, and a retry with the key replays it', async () => {
    const { chargeId } = await createPayment(h.stripe);
    await injectFault(h.url, { method: 'POST', path: '/v1/refunds', kind: 'delay', delay_ms: 500 });
    const impatient = createStripeClient(h.url, { maxNetworkRetries: 0, timeout: 150 });
    const err = await fail(impatient.refunds.create({ charge: chargeId, amount: 300 }, { idempotencyKey: 'k-slow' }));
    expect(err).toBeInstanceOf(Stripe.errors.StripeConnectionError);
    await new Promise((resolve) => setTimeout(resolve, 600));
    const replay = await h.stripe.refunds.create({ charge: chargeId, amount: 300 }, { idempotencyKey: 'k-slow' });
    expect(replay.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect((await h.stripe.refunds.list({ charge: chargeId })).data).toHaveLength(1);
  });
});

describe('fault matching and the control API', () => {
  it('when a fault is set for N requests of one method and path prefix, then exactly those N fail and others pass', async () => {
    const { chargeId } = await createPayment(h.stripe);
    const fault = await injectFault(h.url, { method: 'get', path: '/v1/charges/*', kind: 'error', status: 500, times: 2, should_retry: false });
    expect(fault).toMatchObject({ method: 'GET', remaining: 2, kind: 'error' });
    expect(await fail(h.stripe.charges.retrieve(chargeId))).toMatchObject({ statusCode: 500 });
    await expect(h.stripe.balance.retrieve()).resolves.toBeDefined();
    expect(await fail(h.stripe.charges.retrieve(chargeId))).toMatchObject({ statusCode: 500 });
    await expect(h.stripe.charges.retrieve(chargeId)).resolves.toMatchObject({ id: chargeId });
  });

  it('when a fault matches one payment’s parameters, then only that payment’s requests meet it', async () => {
    const [a, b] = [await createPayment(h.stripe), await createPayment(h.stripe)];
    await injectFault(h.url, { method: 'POST', path: '/v1/refunds', kind: 'error', status: 500, should_retry: false, match: { charge: a.chargeId } });
    await expect(h.stripe.refunds.create({ charge: b.chargeId, amount: 100 })).resolves.toMatchObject({ status: 'succeeded' });
    expect(await fail(h.stripe.refunds.create({ charge: a.chargeId, amount: 100 }))).toMatchObject({ statusCode: 500 });
    await expect(h.stripe.refunds.create({ charge: a.chargeId, amount: 100 })).resolves.toMatchObject({ status: 'succeeded' });
  });

  it('when an error fault names a param, then Stripe’s error carries it (the over-refund refusal is a 400 with param amount)', async () => {
    const { chargeId } = await createPayment(h.stripe);
    await injectFault(h.url, { method: 'POST', path: '/v1/refunds', kind: 'error', status: 400, param: 'amount', message: 'Refund amount is greater than unrefunded amount on charge' });
    expect(await fail(h.stripe.refunds.create({ charge: chargeId, amount: 100 }))).toMatchObject({ statusCode: 400, param: 'amount', code: undefined });
  });

  it('when faults are cleared while a request waits out a delay, then that request goes on at once', async () => {
    const { chargeId } = await createPayment(h.stripe);
    await injectFault(h.url, { method: 'POST', path: '/v1/refunds', kind: 'delay', delay_ms: 600_000 });
    const held = h.stripe.refunds.create({ charge: chargeId, amount: 100 });
    // Wait until the request is in (logged, not yet answered): only then is it waiting out the delay.
    while (!(await refundAttempts(h.url)).some((r) => r.fault === 'delay')) await new Promise((resolve) => setTimeout(resolve, 5));
    expect((await refundAttempts(h.url)).map((r) => r.status)).toEqual([null]);
    await clearFaults(h.url);
    await expect(held).resolves.toMatchObject({ status: 'succeeded', amount: 100 });
  });

  it('when faults are listed and cleared, then the list shows what remains and clearing removes it', async () => {
    await injectFault(h.url, { path: '/v1/balance', kind: 'rate_limit', times: 3 });
    const listed = (await (await fetch(`${h.url}/_emulator/faults`)).json()) as { data: { remaining: number }[] };
    expect(listed.data.map((f) => f.remaining)).toEqual([3]);
    await clearFaults(h.url);
    await expect(h.stripe.balance.retrieve()).resolves.toBeDefined();
  });

  it('when a fault spec is invalid, then the control API answers 400 and injects nothing', async () => {
    await expect(injectFault(h.url, { path: '/v1/balance', kind: 'explode' } as never)).rejects.toThrow(/400/);
    await expect(injectFault(h.url, { path: 'v1/balance', kind: 'reset' })).rejects.toThrow(/400/);
    await expect(injectFault(h.url, { path: '/v1/balance', kind: 'rate_limit', retry_after: -1 })).rejects.toThrow(/400/);
    await expect(injectFault(h.url, { path: '/v1/balance', kind: 'rate_limit', retry_after: 1.5 })).rejects.toThrow(/400/);
    await expect(injectFault(h.url, { path: '/v1/balance', kind: 'delay', retry_after: 3 })).rejects.toThrow(/400/);
    await expect(h.stripe.balance.retrieve()).resolves.toBeDefined();
  });

  it('when the emulator is reset, then payments, the request log and faults are gone', async () => {
    const { paymentIntent } = await createPayment(h.stripe);
    await injectFault(h.url, { path: '/v1/account', kind: 'reset', times: 5 });
    await resetEmulator(h.url);
    expect(await requests(h.url)).toEqual([]);
    expect(await fail(h.stripe.paymentIntents.retrieve(paymentIntent.id))).toMatchObject({ statusCode: 404 });
    await expect(h.stripe.accounts.retrieveCurrent()).resolves.toMatchObject({ object: 'account' });
  });

  it('when requests are logged, then each carries method, path, parsed body, Idempotency-Key and Stripe-Account', async () => {
    const { chargeId } = await createPayment(h.stripe);
    await h.stripe.refunds.create({ charge: chargeId, amount: 100, metadata: { order: '7' } }, { idempotencyKey: 'logged-key', stripeAccount: 'acct_Logged1' });
    const [entry] = await requests(h.url, { path: '/v1/refunds', method: 'POST' });
    expect(entry).toMatchObject({
      method: 'POST',
      path: '/v1/refunds',
      body: { charge: chargeId, amount: '100', metadata: { order: '7' } },
      idempotency_key: 'logged-key',
      stripe_account: 'acct_Logged1',
      status: 200,
    });
    expect(entry?.request_id).toMatch(/^req_/);
  });
});
