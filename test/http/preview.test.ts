// POST /v1/refunds/preview: what the real request would do, with the very problem it would get, on one Stripe read, creating nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, createPayment, KEYS, refundPosts, type TestGateway } from '../helpers/gateway.js';
import { OPS_KEYS, previewAs, refundAs, sameProblem, startOpsGateway } from '../helpers/operations.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startOpsGateway({ seed: true });
});
afterAll(async () => {
  await gw?.close();
});

/** A scenario: the payment to use, and the body and caller both the preview and the real request get. */
interface Case {
  name: string;
  code: string;
  setup: () => Promise<Record<string, unknown>>;
  apiKey?: string;
}

const payment = (options: Parameters<typeof createPayment>[1] = {}) => createPayment(gw.stripe, options);

const CASES: Case[] = [
  {
    name: 'more than is left, by PaymentIntent',
    code: 'amount_exceeds_refundable',
    setup: async () => {
      const p = await payment({ amount: 5_000 });
      await gw.stripe.refunds.create({ payment_intent: p.intent, amount: 1_000 });
      return { payment_intent: p.intent, amount: 4_001 };
    },
  },
  { name: 'more than is left, by charge', code: 'amount_exceeds_refundable', setup: async () => ({ charge: (await payment({ amount: 5_000 })).charge, amount: 5_001 }) },
  {
    name: 'nothing left',
    code: 'charge_already_refunded',
    setup: async () => {
      const p = await payment();
      await gw.stripe.refunds.create({ payment_intent: p.intent });
      return { payment_intent: p.intent };
    },
  },
  { name: 'an open dispute', code: 'charge_disputed', setup: async () => ({ charge: (await payment({ paymentMethod: 'pm_card_createDispute' })).charge, amount: 100 }) },
  { name: 'only authorised, by PaymentIntent', code: 'payment_intent_requires_capture', setup: async () => ({ payment_intent: (await payment({ captureMethod: 'manual' })).intent }) },
  { name: 'only authorised, by charge', code: 'payment_intent_requires_capture', setup: async () => ({ charge: (await payment({ captureMethod: 'manual' })).charge }) },
  {
    name: 'waiting for 3-D Secure (no charge)',
    code: 'payment_intent_not_refundable',
    setup: async () => ({ payment_intent: (await payment({ paymentMethod: 'pm_card_authenticationRequired' })).intent }),
  },
  { name: 'processing', code: 'payment_intent_not_refundable', setup: async () => ({ payment_intent: 'pi_DemoProcessing' }) },
  { name: 'canceled', code: 'payment_intent_not_refundable', setup: async () => ({ payment_intent: 'pi_DemoCanceled' }) },
  { name: 'another currency named', code: 'currency_mismatch', setup: async () => ({ payment_intent: (await payment({ currency: 'eur' })).intent, amount: 100, currency: 'usd' }) },
  {
    name: 'over max_amount',
    code: 'policy_limit_exceeded',
    apiKey: OPS_KEYS.capped,
    setup: async () => ({ payment_intent: (await payment({ amount: 5_000 })).intent }),
  },
  {
    name: 'over what is left of the day',
    code: 'policy_limit_exceeded',
    apiKey: OPS_KEYS.daily,
    setup: async () => {
      const used = await payment({ amount: 4_000 });
      expect((await refundAs(gw, OPS_KEYS.daily, { payment_intent: used.intent })).status).toBe(201);
      return { payment_intent: (await payment({ amount: 5_000 })).intent, amount: 1_001 };
    },
  },
];

describe('POST /v1/refunds/preview', () => {
  it.each(CASES)('when the real request would be refused ($name), then the preview reports the same problem, and nothing was made', async (c) => {
    const body = await c.setup();
    const apiKey = c.apiKey ?? KEYS.billing;
    const before = refundPosts(gw.emulator).length;
    const preview = await previewAs(gw, apiKey, body);
    expect(refundPosts(gw.emulator)).toHaveLength(before);
    const real = await refundAs(gw, apiKey, body);

    expect(preview.status).toBe(200);
    expect(real.body.code).toBe(c.code);
    expect(preview.body.would).toBe('refuse');
    expect(sameProblem(preview.body.problem)).toEqual(sameProblem(real.body));
    expect(preview.body.problem.request_id).toBe(preview.headers['x-request-id']);
    expect(preview.body.refundable_amount_after).toBe(preview.body.refundable_amount);
    expect(refundPosts(gw.emulator)).toHaveLength(before);
  });

  it('when the refund would be made, then would is refund with what is left before and after, on one Stripe read and nothing written', async () => {
    const p = await payment({ amount: 10_000 });
    await gw.stripe.refunds.create({ payment_intent: p.intent, amount: 2_500 });
    const log = gw.emulator.control.requests().length;
    const res = await previewAs(gw, KEYS.billing, { payment_intent: p.intent, amount: 2_500 });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      would: 'refund',
      amount: 2_500,
      currency: 'usd',
      refundable_amount: 7_500,
      refundable_amount_after: 5_000,
      charge: p.charge,
      payment_intent: p.intent,
      problem: null,
    });
    const calls = gw.emulator.control.requests().slice(log);
    expect(calls.map((r) => `${r.method} ${r.path}`)).toEqual([`GET /v1/payment_intents/${p.intent}`]);
  });

  it('when a caller with a daily cap previews, then the day is read, not reserved', async () => {
    const p = await payment({ amount: 10_000 });
    const used = () => gw.ledger.dailyUsed({ caller: 'daily', currency: 'usd', day: new Date().toISOString().slice(0, 10) });
    const before = await used();
    const res = await previewAs(gw, OPS_KEYS.daily, { payment_intent: p.intent, amount: 5_000 - before });
    expect(res.body).toMatchObject({ would: 'refund', amount: 5_000 - before });
    expect(await used()).toBe(before);
    expect((await refundAs(gw, OPS_KEYS.daily, { payment_intent: p.intent, amount: 5_000 - before })).status).toBe(201);
  });

  it('when the amount is omitted, then it resolves to what is left, as the real request would', async () => {
    const p = await payment({ amount: 3_000 });
    const res = await previewAs(gw, KEYS.support, { charge: p.charge });
    expect(res.body).toMatchObject({ would: 'refund', amount: 3_000, refundable_amount: 3_000, refundable_amount_after: 0 });
  });

  it('when the refund is over the caller’s approval_above, then would is request_approval and no request is made', async () => {
    const p = await payment({ amount: 40_000 });
    const res = await previewAs(gw, OPS_KEYS.desk, { payment_intent: p.intent, amount: 30_000 });
    expect(res.body).toMatchObject({ would: 'request_approval', amount: 30_000, refundable_amount: 40_000, refundable_amount_after: 40_000, problem: null });
    expect((await gw.http.get('/v1/refund-requests').set(auth(KEYS.support))).body.data).toEqual([]);
    expect((await refundAs(gw, OPS_KEYS.desk, { payment_intent: p.intent, amount: 30_000 })).status).toBe(202);
  });

  it('when the payment does not exist, then 404; a bad body is 400 listing every problem; both as for the real request', async () => {
    const missing = await previewAs(gw, KEYS.support, { payment_intent: 'pi_DoesNotExist1' });
    expect([missing.status, missing.body.code]).toEqual([404, 'not_found']);
    const bad = await previewAs(gw, KEYS.support, { charge: 'pi_wrongKind', amount: 0, extra: true });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['/amount', '/charge', '/extra']);
  });

  it('when a key may only read, then it may preview (refunds:read) but not refund', async () => {
    const p = await payment();
    expect((await previewAs(gw, KEYS.support, { payment_intent: p.intent })).status).toBe(200);
    expect((await gw.http.post('/v1/refunds/preview').set(auth(KEYS.ops)).send({ payment_intent: p.intent })).status).toBe(403);
  });
});
