// POST /v1/payment-intents/{id}/cancel: only from the four cancelable statuses, optional body, optional idempotency.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/server.js';
import { auth, createPayment, KEYS, startTestGateway, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
let seeded: RunningEmulator;
let demo: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway();
  demo = await startTestGateway({ seed: true });
  seeded = demo.emulator;
});
afterAll(async () => {
  await gw?.close();
  await demo?.close();
});

const cancel = (id: string, on: TestGateway = gw) => on.http.post(`/v1/payment-intents/${id}/cancel`).set(auth(KEYS.ops));
const cancelPosts = (emulator: RunningEmulator, id: string) => emulator.control.requests({ method: 'POST', path: `/v1/payment_intents/${id}/cancel` });

describe('POST /v1/payment-intents/{id}/cancel', () => {
  it.each([
    ['requires_capture', { paymentMethod: 'pm_card_visa', captureMethod: 'manual' as const }],
    ['requires_action', { paymentMethod: 'pm_card_authenticationRequired' }],
    ['requires_confirmation', { confirm: false }],
  ])('when the PaymentIntent is %s, then it is canceled and the picture says so', async (status, options) => {
    const p = await createPayment(gw.stripe, options);
    expect(p.status).toBe(status);
    const res = await cancel(p.intent).send({ cancellation_reason: 'requested_by_customer' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: p.intent, type: 'payment_intent', status: 'canceled', cancelable: false, refundable: false, next_step: 'none' });
    const atStripe = await gw.stripe.paymentIntents.retrieve(p.intent);
    expect(atStripe).toMatchObject({ status: 'canceled', cancellation_reason: 'requested_by_customer' });
  });

  it('when the PaymentIntent is requires_payment_method (declined), then it is canceled', async () => {
    const res = await cancel('pi_DemoDeclined', demo).send({});
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('canceled');
  });

  it('when an authorisation is cancelled, then the hold is released: the charge shows it all refunded', async () => {
    const p = await createPayment(gw.stripe, { captureMethod: 'manual', amount: 7_500 });
    const res = await cancel(p.intent);
    expect(res.status).toBe(200);
    const charge = await gw.stripe.charges.retrieve(p.charge!);
    expect(charge).toMatchObject({ captured: false, refunded: true, amount_refunded: 7_500 });
  });

  it.each([
    ['pi_DemoSucceeded', 'succeeded'],
    ['pi_DemoProcessing', 'processing'],
    ['pi_DemoCanceled', 'canceled'],
  ])('when the PaymentIntent is %s, then 409 payment_intent_not_cancelable and Stripe is not asked', async (id, status) => {
    const res = await cancel(id, demo);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: 'payment_intent_not_cancelable', payment_intent_status: status });
    expect(cancelPosts(seeded, id)).toHaveLength(0);
  });

  it('when there is no body, or an empty one with any content type, then it is {}', async () => {
    for (const type of [undefined, 'text/plain', 'application/json']) {
      const p = await createPayment(gw.stripe, { captureMethod: 'manual' });
      const req = cancel(p.intent);
      if (type) req.set('content-type', type);
      const res = await req.send('');
      expect(res.status).toBe(200);
    }
  });

  it.each([
    ['JSON null', 'null'],
    ['a JSON array', '[]'],
    ['a JSON string', '"requested_by_customer"'],
    ['a JSON number', '0'],
    ['JSON false', 'false'],
  ])('when the body is %s, then 400 validation_error about the body, and the PaymentIntent stays uncancelled', async (_what, text) => {
    const p = await createPayment(gw.stripe, { captureMethod: 'manual' });
    const res = await cancel(p.intent).set('content-type', 'application/json').send(text);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ code: 'validation_error', errors: [expect.objectContaining({ in: 'body', path: '' })] });
    expect(cancelPosts(gw.emulator, p.intent)).toHaveLength(0);
    expect((await gw.stripe.paymentIntents.retrieve(p.intent)).status).toBe('requires_capture');
  });

  it('when the reason is not one of Stripe’s four, then 400 validation_error and Stripe is not asked', async () => {
    const p = await createPayment(gw.stripe, { captureMethod: 'manual' });
    const res = await cancel(p.intent).send({ cancellation_reason: 'expired' });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([expect.objectContaining({ in: 'body', path: '/cancellation_reason' })]);
    expect(cancelPosts(gw.emulator, p.intent)).toHaveLength(0);
  });

  it('when the PaymentIntent does not exist, then 404 not_found', async () => {
    expect((await cancel('pi_DoesNotExist1')).body.code).toBe('not_found');
  });

  it('when a refund key holder has no payment_intents:write, then 403', async () => {
    const p = await createPayment(gw.stripe, { captureMethod: 'manual' });
    const res = await gw.http.post(`/v1/payment-intents/${p.intent}/cancel`).set(auth(KEYS.support));
    expect(res.status).toBe(403);
  });

  it('when an Idempotency-Key is given, then a retry replays the first answer and another body gets 422', async () => {
    const p = await createPayment(gw.stripe, { captureMethod: 'manual' });
    const first = await cancel(p.intent).set('idempotency-key', 'cancel-1').send({ cancellation_reason: 'duplicate' });
    expect(first.status).toBe(200);
    const again = await cancel(p.intent).set('idempotency-key', 'cancel-1').send({ cancellation_reason: 'duplicate' });
    expect(again.status).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    const other = await cancel(p.intent).set('idempotency-key', 'cancel-1').send({ cancellation_reason: 'fraudulent' });
    expect(other.status).toBe(422);
    expect(cancelPosts(gw.emulator, p.intent)).toHaveLength(1);
    // The same key on another PaymentIntent is another request too.
    const q = await createPayment(gw.stripe, { captureMethod: 'manual' });
    expect((await cancel(q.intent).set('idempotency-key', 'cancel-1').send({ cancellation_reason: 'duplicate' })).status).toBe(422);
  });

  it('when an Idempotency-Key is given, then Stripe sees a key derived from it on the cancel call', async () => {
    const p = await createPayment(gw.stripe, { captureMethod: 'manual' });
    await cancel(p.intent).set('idempotency-key', 'cancel-derived');
    expect(cancelPosts(gw.emulator, p.intent)[0]?.idempotency_key).toMatch(/^gw_[0-9a-f]{64}$/);
  });
});

describe('a cancel whose answer was lost', () => {
  it('when Stripe cancelled but the gateway timed out (504), then a retry with the same key answers the cancellation, not a refusal', async () => {
    const slow = await startTestGateway({ env: { STRIPE_MAX_NETWORK_RETRIES: '0', STRIPE_TIMEOUT_MS: '400' } });
    try {
      const p = await createPayment(slow.stripe, { captureMethod: 'manual' });
      slow.emulator.control.injectFault({ method: 'POST', path: `/v1/payment_intents/${p.intent}/cancel`, kind: 'delay', delay_ms: 700, times: 1 });
      const send = () => slow.http.post(`/v1/payment-intents/${p.intent}/cancel`).set(auth(KEYS.ops)).set('idempotency-key', 'lost-1').send({});
      const timedOut = await send();
      expect(timedOut.status).toBe(504);
      await new Promise((resolve) => setTimeout(resolve, 500)); // Stripe finishes the cancellation meanwhile
      const retried = await send();
      expect(retried.status).toBe(200);
      expect(retried.body).toMatchObject({ status: 'canceled', next_step: 'none' });
      // Stripe saw the same key twice and replayed its cancellation.
      const posts = cancelPosts(slow.emulator, p.intent);
      expect(posts.map((r) => [r.idempotency_key === posts[0]?.idempotency_key, r.replayed])).toEqual([
        [true, false],
        [true, true],
      ]);
    } finally {
      await slow.close();
    }
  });
});
