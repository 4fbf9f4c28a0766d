// The emulator's wire format and authentication, checked through the real SDK (and raw fetch where only the wire can say it).
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { createPayment, createStripeClient, useEmulator } from '../helpers/emulator.js';

const h = useEmulator({ maxNetworkRetries: 0 });

const post = (url: string, path: string, body: string, auth = 'Bearer sk_test_wire'): Promise<Response> =>
  fetch(`${url}${path}`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' }, body });

describe('authentication', () => {
  it('when the key is a test secret key or a restricted test key, then the request is served', async () => {
    await expect(h.stripe.balance.retrieve()).resolves.toMatchObject({ object: 'balance' });
    const restricted = createStripeClient(h.url, { apiKey: 'rk_test_restricted123', maxNetworkRetries: 0 });
    await expect(restricted.balance.retrieve()).resolves.toMatchObject({ object: 'balance' });
  });

  it('when the key is sent as Basic auth with the key as user name, then the request is served', async () => {
    const res = await fetch(`${h.url}/v1/balance`, { headers: { authorization: `Basic ${Buffer.from('sk_test_basic:').toString('base64')}` } });
    expect(res.status).toBe(200);
  });

  it('when a live key is used, then the SDK gets a 401 that says live keys are refused and nothing is created', async () => {
    const live = createStripeClient(h.url, { apiKey: 'sk_live_abcdefghijklmnop1234', maxNetworkRetries: 0 });
    const err = await live.refunds.create({ charge: 'ch_x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect((err as Stripe.errors.StripeError).statusCode).toBe(401);
    expect((err as Stripe.errors.StripeError).message).toMatch(/live/i);
    expect((err as Stripe.errors.StripeError).message).not.toContain('abcdefghijklmnop');
    expect(h.emulator.control.state().store.refunds.size).toBe(0);
  });

  it('when the key is missing or malformed, then the answer is a Stripe-shaped 401', async () => {
    const missing = await fetch(`${h.url}/v1/balance`);
    expect(missing.status).toBe(401);
    expect(await missing.json()).toMatchObject({ error: { type: 'invalid_request_error', message: expect.stringContaining('did not provide an API key') } });
    const bad = createStripeClient(h.url, { apiKey: 'sk_test_not valid', maxNetworkRetries: 0 });
    const garbage = await fetch(`${h.url}/v1/balance`, { headers: { authorization: 'Bearer hello' } });
    expect(garbage.status).toBe(401);
    await expect(bad.balance.retrieve()).rejects.toMatchObject({ statusCode: 401 });
  });
});

describe('wire format', () => {
  it('when any response is sent (success, error, unknown route), then it carries a Request-Id header', async () => {
    const ok = await h.stripe.balance.retrieve();
    expect(ok.lastResponse.requestId).toMatch(/^req_[A-Za-z0-9]+$/);
    const err = await h.stripe.refunds.retrieve('re_missing').then(
      () => undefined,
      (e: Stripe.errors.StripeError) => e,
    );
    expect(err?.requestId).toMatch(/^req_/);
    const unknown = await fetch(`${h.url}/v1/nothing_here`, { headers: { authorization: 'Bearer sk_test_x' } });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('request-id')).toMatch(/^req_/);
    const outside = await fetch(`${h.url}/elsewhere`);
    expect(outside.headers.get('request-id')).toMatch(/^req_/);
  });

  it('when a control API path holds a malformed escape, then the answer is a 404 with a Request-Id, not a crash', async () => {
    const res = await fetch(`${h.url}/_emulator/disputes/dp_%E0%A4%A/close`, { method: 'POST', body: JSON.stringify({ status: 'won' }) });
    expect(res.status).toBe(404);
    expect(res.headers.get('request-id')).toMatch(/^req_/);
    expect(await res.json()).toMatchObject({ error: { message: "No such dispute: 'dp_%E0%A4%A'" } });
  });

  it('when a body has an unknown parameter, then the answer is 400 parameter_unknown naming it', async () => {
    const res = await post(h.url, '/v1/refunds', 'charge=ch_x&colour=blue');
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'parameter_unknown', param: 'colour' } });
  });

  it('when expand is sent as expand[]=x or expand[0]=x and metadata as metadata[k]=v, then both parse the same', async () => {
    const { paymentIntent, chargeId } = await createPayment(h.stripe, { amount: 2000 });
    for (const body of [`charge=${chargeId}&amount=100&expand[]=charge&metadata[order]=42`, `charge=${chargeId}&amount=100&expand[0]=charge&metadata[order]=42`]) {
      const res = await post(h.url, '/v1/refunds', body);
      const refund = (await res.json()) as { charge: { id: string; payment_intent: string }; metadata: Record<string, string> };
      expect(res.status).toBe(200);
      expect(refund.charge.id).toBe(chargeId);
      expect(refund.charge.payment_intent).toBe(paymentIntent.id);
      expect(refund.metadata).toEqual({ order: '42' });
    }
  });

  it('when an object is returned, then it has object, unix created and livemode false, and lists have Stripe list shape', async () => {
    const before = Math.floor(Date.now() / 1000);
    const { paymentIntent } = await createPayment(h.stripe);
    expect(paymentIntent).toMatchObject({ object: 'payment_intent', livemode: false });
    expect(paymentIntent.created).toBeGreaterThanOrEqual(before - 1);
    expect(paymentIntent.created).toBeLessThan(before + 60);
    const list = await h.stripe.charges.list({ payment_intent: paymentIntent.id });
    expect(list).toMatchObject({ object: 'list', has_more: false, url: '/v1/charges' });
    expect(list.data).toHaveLength(1);
  });

  it('when the path is unknown under /v1, then the answer is a Stripe-shaped 404 unrecognized URL', async () => {
    const res = await fetch(`${h.url}/v1/customers`, { headers: { authorization: 'Bearer sk_test_x' } });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { type: 'invalid_request_error', message: expect.stringContaining('Unrecognized request URL (GET: /v1/customers)') } });
  });

  it('when an id in the path is malformed percent-encoding, then the answer is 404 resource_missing, not a crash', async () => {
    const res = await fetch(`${h.url}/v1/refunds/re_%E0%A4%A`, { headers: { authorization: 'Bearer sk_test_x' } });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 'resource_missing' } });
  });

  it('when GET /v1/account is called, then the account is returned for readiness checks, also by its id', async () => {
    const account = await h.stripe.accounts.retrieveCurrent();
    expect(account).toMatchObject({ object: 'account', charges_enabled: true });
    expect(account.id).toMatch(/^acct_/);
    expect((await h.stripe.accounts.retrieve(account.id)).id).toBe(account.id);
    await expect(h.stripe.accounts.retrieve('acct_someoneElse')).rejects.toMatchObject({ statusCode: 404, code: 'resource_missing' });
  });
});
