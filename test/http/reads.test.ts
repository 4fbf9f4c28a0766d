// Reading refunds and payments: one refund, lists with filters and paging, the pending view, the payment picture.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, createPayment, KEYS, startTestGateway, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
let demo: TestGateway;
let n = 0;

beforeAll(async () => {
  gw = await startTestGateway();
  demo = await startTestGateway({ seed: true });
});
afterAll(async () => {
  await gw?.close();
  await demo?.close();
});

const refund = async (body: Record<string, unknown>, apiKey: string = KEYS.billing, on: TestGateway = gw) => {
  const res = await on.http.post('/v1/refunds').set(auth(apiKey)).set('idempotency-key', `reads-${++n}`).send(body);
  expect(res.status).toBe(201);
  return res.body as { id: string; status: string; requested_by: string | null };
};
const get = (path: string, apiKey: string = KEYS.support, on: TestGateway = gw) => on.http.get(path).set(auth(apiKey));
const ids = (res: { body: { data: { id: string }[] } }) => res.body.data.map((r) => r.id);

describe('GET /v1/refunds/{id}', () => {
  it('when the refund exists, then it is returned with a read-only key', async () => {
    const p = await createPayment(gw.stripe);
    const made = await refund({ payment_intent: p.intent, amount: 250 });
    const res = await get(`/v1/refunds/${made.id}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(made);
  });

  it('when the refund does not exist, then 404 not_found', async () => {
    const res = await get('/v1/refunds/re_DoesNotExist1');
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('not_found');
  });

  it('when a refund fails after it succeeded (card 4000000000005126), then the next read says failed with its reason', async () => {
    const p = await createPayment(gw.stripe, { paymentMethod: 'pm_card_refundFail', amount: 3_000 });
    const made = await refund({ payment_intent: p.intent, amount: 1_000 });
    expect(made.status).toBe('succeeded');
    const res = await get(`/v1/refunds/${made.id}`);
    expect(res.body).toMatchObject({ status: 'failed', failure_reason: 'expired_or_canceled_card' });
    // The money came back: all of it is refundable again.
    const payment = await get(`/v1/payments/${p.intent}`);
    expect(payment.body).toMatchObject({ amount_refunded: 0, refundable_amount: 3_000 });
  });
});

describe('GET /v1/refunds', () => {
  it('when listing one payment’s refunds, then they come from Stripe, newest first, Dashboard refunds included', async () => {
    const p = await createPayment(gw.stripe);
    const a = await refund({ payment_intent: p.intent, amount: 100 });
    const dashboard = await gw.stripe.refunds.create({ payment_intent: p.intent, amount: 200 });
    const b = await refund({ charge: p.charge, amount: 300 });
    const byIntent = await get(`/v1/refunds?payment_intent=${p.intent}`);
    expect(byIntent.status).toBe(200);
    expect(ids(byIntent)).toEqual([b.id, dashboard.id, a.id]);
    expect(byIntent.body.data.map((r: { requested_by: string | null }) => r.requested_by)).toEqual(['billing', null, 'billing']);
    expect(ids(await get(`/v1/refunds?charge=${p.charge}`))).toEqual([b.id, dashboard.id, a.id]);
  });

  it('when paging with limit and starting_after, then every refund comes once and has_more says when to stop', async () => {
    const p = await createPayment(gw.stripe);
    const made = [];
    for (let i = 0; i < 5; i++) made.push((await refund({ payment_intent: p.intent, amount: 10 + i })).id);
    const first = await get(`/v1/refunds?payment_intent=${p.intent}&limit=2`);
    expect(first.body.has_more).toBe(true);
    const second = await get(`/v1/refunds?payment_intent=${p.intent}&limit=2&starting_after=${ids(first).at(-1)}`);
    const third = await get(`/v1/refunds?payment_intent=${p.intent}&limit=2&starting_after=${ids(second).at(-1)}`);
    expect(third.body.has_more).toBe(false);
    expect([...ids(first), ...ids(second), ...ids(third)]).toEqual(made.reverse());
  });

  it('when one payment is listed with limit=100 (Stripe’s maximum page), then Stripe is asked for 100, not 101, and has_more is Stripe’s', async () => {
    const p = await createPayment(gw.stripe, { amount: 10_000 });
    for (let i = 0; i < 100; i++) await gw.stripe.refunds.create({ charge: p.charge!, amount: 1 });
    const exactly100 = await get(`/v1/refunds?charge=${p.charge}&limit=100`);
    expect(exactly100.status).toBe(200);
    expect(exactly100.body.data).toHaveLength(100);
    expect(exactly100.body.has_more).toBe(false);
    await gw.stripe.refunds.create({ charge: p.charge!, amount: 1 });
    const before = gw.emulator.control.requests({ method: 'GET', path: '/v1/refunds' }).length;
    const of101 = await get(`/v1/refunds?payment_intent=${p.intent}&limit=100`);
    expect(of101.status).toBe(200);
    expect(of101.body.data).toHaveLength(100);
    expect(of101.body.has_more).toBe(true);
    // One page, at Stripe's own maximum: a full page with has_more needs no second call to say so.
    const asked = gw.emulator.control.requests({ method: 'GET', path: '/v1/refunds' }).slice(before);
    expect(asked.map((r) => r.query.limit)).toEqual(['100']);
  });

  it('when filtering one payment by status and caller, then has_more counts only matching refunds', async () => {
    const p = await createPayment(gw.stripe);
    const mine = await refund({ payment_intent: p.intent, amount: 10 }, KEYS.shop);
    await refund({ payment_intent: p.intent, amount: 10 }, KEYS.billing);
    await refund({ payment_intent: p.intent, amount: 10 }, KEYS.billing);
    const res = await get(`/v1/refunds?payment_intent=${p.intent}&requested_by=shop&limit=1`);
    expect(ids(res)).toEqual([mine.id]);
    expect(res.body.has_more).toBe(false);
    const billing = await get(`/v1/refunds?payment_intent=${p.intent}&requested_by=billing&status=succeeded&limit=1`);
    expect(billing.body.has_more).toBe(true);
  });

  it('when listing without a payment, then the gateway’s index answers, filtered by caller and status', async () => {
    const own = await startTestGateway();
    try {
      const p = await createPayment(own.stripe);
      const a = await refund({ payment_intent: p.intent, amount: 10 }, KEYS.shop, own);
      const b = await refund({ payment_intent: p.intent, amount: 10 }, KEYS.billing, own);
      await own.stripe.refunds.create({ payment_intent: p.intent, amount: 10 }); // not through the gateway: not in the index
      expect(ids(await get('/v1/refunds', KEYS.support, own))).toEqual([b.id, a.id]);
      expect(ids(await get('/v1/refunds?requested_by=shop', KEYS.support, own))).toEqual([a.id]);
      const page = await get('/v1/refunds?limit=1', KEYS.support, own);
      expect(page.body).toMatchObject({ has_more: true });
      expect(ids(await get(`/v1/refunds?limit=1&starting_after=${ids(page)[0]}`, KEYS.support, own))).toEqual([a.id]);
    } finally {
      await own.close();
    }
  });

  it('when a pending refund settles, then status=pending stops showing it (it is re-read, never stale)', async () => {
    const own = await startTestGateway();
    try {
      const p = await createPayment(own.stripe, { paymentMethod: 'pm_card_pendingRefund' });
      const made = await refund({ payment_intent: p.intent, amount: 500 }, KEYS.billing, own);
      expect(made.status).toBe('pending');
      expect(ids(await get('/v1/refunds?status=pending', KEYS.support, own))).toEqual([made.id]);
      own.emulator.control.advanceClock(3600);
      expect(ids(await get('/v1/refunds?status=pending', KEYS.support, own))).toEqual([]);
      const succeeded = await get('/v1/refunds?status=succeeded', KEYS.support, own);
      expect(ids(succeeded)).toEqual([made.id]);
    } finally {
      await own.close();
    }
  });

  it('when the balance cannot cover a refund and the bank cannot be debited, then it is pending until a top-up', async () => {
    const own = await startTestGateway();
    try {
      own.emulator.control.setBankDebits(false);
      const p = await createPayment(own.stripe, { amount: 5_000 }); // lands in the pending balance, not the available one
      const made = await refund({ payment_intent: p.intent, amount: 5_000 }, KEYS.billing, own);
      expect(made.status).toBe('pending');
      expect(ids(await get('/v1/refunds?status=pending', KEYS.support, own))).toEqual([made.id]);
      await own.stripe.topups.create({ amount: 10_000, currency: 'usd' });
      expect((await get(`/v1/refunds/${made.id}`, KEYS.support, own)).body.status).toBe('succeeded');
    } finally {
      await own.close();
    }
  });
});

describe('GET /v1/payments/{id}', () => {
  it.each([
    ['pi_DemoSucceeded', { type: 'payment_intent', status: 'succeeded', refundable: true, cancelable: false, next_step: 'refund' }],
    ['ch_DemoSucceeded', { type: 'charge', status: 'succeeded', refundable: true, cancelable: false, next_step: 'refund' }],
    ['pi_DemoPartlyRefunded', { amount: 10_000, amount_refunded: 2_500, refundable_amount: 7_500, next_step: 'refund' }],
    ['pi_DemoFullyRefunded', { refundable: false, refundable_amount: 0, next_step: 'none' }],
    ['pi_DemoDisputed', { refundable: false, next_step: 'none' }],
    ['pi_DemoRequiresCapture', { status: 'requires_capture', refundable: false, cancelable: true, next_step: 'cancel', amount_captured: 0 }],
    ['ch_DemoRequiresCapture', { type: 'charge', refundable: false, cancelable: true, next_step: 'cancel' }],
    ['pi_DemoRequiresAction', { status: 'requires_action', charge: null, cancelable: true, next_step: 'cancel' }],
    ['pi_DemoProcessing', { status: 'processing', refundable: false, cancelable: false, next_step: 'none' }],
    ['pi_DemoCanceled', { status: 'canceled', refundable: false, cancelable: false, next_step: 'none' }],
    ['pi_DemoJpy', { currency: 'jpy', amount: 5_000, refundable_amount: 5_000 }],
  ])('when asked for %s, then the picture says what can be done', async (id, expected) => {
    const res = await get(`/v1/payments/${id}`, KEYS.support, demo);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id, ...expected });
  });

  it('when refunds were made, then the picture lists them newest first with what is left', async () => {
    const p = await createPayment(gw.stripe, { amount: 9_000 });
    const a = await refund({ payment_intent: p.intent, amount: 1_000 });
    const b = await refund({ payment_intent: p.intent, amount: 2_000 });
    const res = await get(`/v1/payments/${p.charge}`);
    expect(res.body).toMatchObject({
      id: p.charge,
      type: 'charge',
      charge: p.charge,
      payment_intent: p.intent,
      amount: 9_000,
      amount_captured: 9_000,
      amount_refunded: 3_000,
      refundable_amount: 6_000,
      has_more_refunds: false,
    });
    expect(res.body.refunds.map((r: { id: string }) => r.id)).toEqual([b.id, a.id]);
  });

  it('when the payment does not exist, then 404 not_found', async () => {
    expect((await get('/v1/payments/pi_Nope1')).status).toBe(404);
    expect((await get('/v1/payments/ch_Nope1')).body.code).toBe('not_found');
  });
});

describe('the pending view stays a read', () => {
  it('when pending refunds are listed and nothing changed at Stripe, then the index is not rewritten', async () => {
    const own = await startTestGateway();
    try {
      const p = await createPayment(own.stripe, { paymentMethod: 'pm_card_pendingRefund' });
      const made = await refund({ payment_intent: p.intent, amount: 500 }, KEYS.billing, own);
      const writes: string[] = [];
      const record = own.ledger.recordRefund.bind(own.ledger);
      own.ledger.recordRefund = async (r, now) => {
        writes.push(r.id);
        return record(r, now);
      };
      for (let i = 0; i < 3; i++) expect(ids(await get('/v1/refunds?status=pending', KEYS.support, own))).toEqual([made.id]);
      expect(writes).toEqual([]);
      own.emulator.control.advanceClock(3600); // it settles: now the index learns it
      expect(ids(await get('/v1/refunds?status=pending', KEYS.support, own))).toEqual([]);
      expect(writes).toEqual([made.id]);
    } finally {
      await own.close();
    }
  });
});
