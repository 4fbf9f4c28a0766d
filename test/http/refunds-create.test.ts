// POST /v1/refunds: full and partial refunds, the rules, and that a refused refund never reaches Stripe.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/server.js';
import { auth, createPayment, KEYS, refundPosts, startTestGateway, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
let seeded: RunningEmulator;
let seededGw: TestGateway;
let n = 0;
const key = () => `create-${++n}`;

beforeAll(async () => {
  gw = await startTestGateway();
  seededGw = await startTestGateway({ seed: true });
  seeded = seededGw.emulator;
});
afterAll(async () => {
  await gw?.close();
  await seededGw?.close();
});

const refund = (body: Record<string, unknown>, options: { key?: string; gateway?: TestGateway; apiKey?: string } = {}) =>
  (options.gateway ?? gw).http
    .post('/v1/refunds')
    .set(auth(options.apiKey))
    .set('idempotency-key', options.key ?? key())
    .send(body);

const charged = async (stripe = gw.stripe, amount?: number) => (await stripe.charges.retrieve((await createPayment(stripe, amount ? { amount } : {})).charge!));

describe('POST /v1/refunds', () => {
  it('when no amount is given, then the whole payment is refunded', async () => {
    const p = await createPayment(gw.stripe, { amount: 4_200 });
    const res = await refund({ payment_intent: p.intent });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ amount: 4_200, currency: 'usd', status: 'succeeded', charge: p.charge, payment_intent: p.intent, requested_by: 'billing' });
    expect(res.body.id).toMatch(/^re_/);
    expect(res.body.created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    // An omitted amount stays omitted at Stripe: Stripe refunds exactly what it still holds.
    const [sent] = refundPosts(gw.emulator).filter((r) => r.body.payment_intent === p.intent);
    expect(sent?.body.amount).toBeUndefined();
    expect((await gw.stripe.charges.retrieve(p.charge!)).refunded).toBe(true);
  });

  it('when partial refunds are made several times, then each is made and the total stays within the charge', async () => {
    const p = await createPayment(gw.stripe, { amount: 10_000 });
    for (const amount of [2_500, 2_500, 5_000]) {
      const res = await refund({ charge: p.charge, amount });
      expect(res.status).toBe(201);
      expect(res.body.amount).toBe(amount);
    }
    const over = await refund({ charge: p.charge, amount: 1 });
    expect(over.status).toBe(409);
    expect(over.body.code).toBe('charge_already_refunded');
    const charge = await gw.stripe.charges.retrieve(p.charge!);
    expect(charge.amount_refunded).toBe(10_000);
  });

  it('when refunding by charge, then the refund names the charge and its PaymentIntent', async () => {
    const p = await createPayment(gw.stripe, { amount: 3_000 });
    const res = await refund({ charge: p.charge, amount: 1_000, reason: 'requested_by_customer', metadata: { order: '42' } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ charge: p.charge, payment_intent: p.intent, reason: 'requested_by_customer', metadata: { order: '42' } });
  });

  it('when more than is left is asked, then 409 amount_exceeds_refundable with what is left, and Stripe is not called', async () => {
    const p = await createPayment(gw.stripe, { amount: 5_000 });
    expect((await refund({ payment_intent: p.intent, amount: 1_000 })).status).toBe(201);
    const before = refundPosts(gw.emulator).length;
    const res = await refund({ payment_intent: p.intent, amount: 4_001 });
    expect(res.status).toBe(409);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.body).toMatchObject({ status: 409, code: 'amount_exceeds_refundable', refundable_amount: 4_000, currency: 'usd' });
    expect(res.body.detail).toContain('4000');
    expect(refundPosts(gw.emulator).length).toBe(before);
  });

  it('when Stripe refuses the refund as over the refundable amount and a fresh read cannot explain it, then the 409 still carries refundable_amount and currency', async () => {
    const p = await createPayment(gw.stripe, { amount: 5_000, currency: 'eur' });
    expect((await refund({ charge: p.charge, amount: 1_000 })).status).toBe(201);
    // Stripe's own over-refund refusal: a 400 with param amount and no code, for this charge only.
    gw.emulator.control.injectFault({
      method: 'POST',
      path: '/v1/refunds',
      kind: 'error',
      status: 400,
      param: 'amount',
      message: 'Refund amount (€30.00) is greater than unrefunded amount on charge (€20.00)',
      match: { charge: p.charge! },
    });
    const res = await refund({ charge: p.charge, amount: 3_000 });
    expect(res.status).toBe(409);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.body).toMatchObject({ code: 'amount_exceeds_refundable', refundable_amount: 4_000, currency: 'eur' });
    expect(res.body.detail).not.toContain('€');
    expect(refundPosts(gw.emulator).filter((r) => r.body.charge === p.charge).map((r) => r.status)).toEqual([200, 400]);
  });

  it('when the currency named is not the payment’s, then 409 currency_mismatch carrying the payment’s currency', async () => {
    const p = await createPayment(gw.stripe, { amount: 5_000, currency: 'eur' });
    const before = refundPosts(gw.emulator).length;
    const res = await refund({ payment_intent: p.intent, amount: 100, currency: 'usd' });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: 'currency_mismatch', currency: 'eur' });
    expect(refundPosts(gw.emulator).length).toBe(before);
    expect((await refund({ payment_intent: p.intent, amount: 100, currency: 'eur' })).status).toBe(201);
  });

  it('when the currency is zero-decimal, then amounts are exact minor units', async () => {
    const p = await createPayment(gw.stripe, { amount: 5_000, currency: 'jpy' });
    const res = await refund({ payment_intent: p.intent, amount: 1_234, currency: 'jpy' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ amount: 1_234, currency: 'jpy' });
    const [sent] = refundPosts(gw.emulator).filter((r) => r.body.payment_intent === p.intent);
    expect(sent?.body.amount).toBe('1234');
    const rest = await refund({ payment_intent: p.intent });
    expect(rest.body.amount).toBe(3_766);
  });

  it('when the PaymentIntent is only authorised, then 409 payment_intent_requires_capture by PaymentIntent and by charge, and Stripe is not called', async () => {
    const p = await createPayment(gw.stripe, { captureMethod: 'manual' });
    expect(p.status).toBe('requires_capture');
    const before = refundPosts(gw.emulator).length;
    for (const body of [{ payment_intent: p.intent }, { charge: p.charge }]) {
      const res = await refund(body);
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({ code: 'payment_intent_requires_capture', payment_intent_status: 'requires_capture' });
      expect(res.body.detail).toContain('cancel');
    }
    expect(refundPosts(gw.emulator).length).toBe(before);
  });

  it.each([
    ['requires_action', 'pm_card_authenticationRequired', true],
    ['requires_confirmation', 'pm_card_visa', false],
  ])('when the PaymentIntent is %s, then 409 payment_intent_not_refundable', async (status, paymentMethod, confirm) => {
    const p = await createPayment(gw.stripe, { paymentMethod, confirm });
    expect(p.status).toBe(status);
    const before = refundPosts(gw.emulator).length;
    const res = await refund({ payment_intent: p.intent });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: 'payment_intent_not_refundable', payment_intent_status: status });
    expect(refundPosts(gw.emulator).length).toBe(before);
  });

  it.each([
    ['pi_DemoProcessing', 'processing'],
    ['pi_DemoCanceled', 'canceled'],
    ['pi_DemoDeclined', 'requires_payment_method'],
  ])('when the PaymentIntent is %s, then 409 payment_intent_not_refundable (%s)', async (id, status) => {
    const before = refundPosts(seeded).length;
    const res = await refund({ payment_intent: id }, { gateway: seededGw });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: 'payment_intent_not_refundable', payment_intent_status: status });
    expect(refundPosts(seeded).length).toBe(before);
  });

  it('when the charge has an open dispute, then 409 charge_disputed; once the dispute is closed, it refunds', async () => {
    const p = await createPayment(gw.stripe, { paymentMethod: 'pm_card_createDispute', amount: 8_000 });
    const before = refundPosts(gw.emulator).length;
    const res = await refund({ charge: p.charge, amount: 100 });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('charge_disputed');
    expect(refundPosts(gw.emulator).length).toBe(before);

    const [dispute] = (await gw.stripe.disputes.list({ charge: p.charge! })).data;
    gw.emulator.control.closeDispute(dispute!.id, 'won');
    expect((await refund({ charge: p.charge, amount: 100 })).status).toBe(201);
  });

  it('when the payment does not exist, then 404 not_found', async () => {
    for (const body of [{ charge: 'ch_DoesNotExist1' }, { payment_intent: 'pi_DoesNotExist1' }]) {
      const res = await refund(body);
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('not_found');
    }
  });

  it('when refunded, then Stripe metadata carries the caller and the gateway request id, and the caller sees only its own keys', async () => {
    const p = await createPayment(gw.stripe);
    const res = await refund({ payment_intent: p.intent, amount: 100, metadata: { order: '7', note: 'x' } }, { apiKey: KEYS.shop });
    expect(res.status).toBe(201);
    expect(res.body.metadata).toEqual({ order: '7', note: 'x' });
    expect(res.body.requested_by).toBe('shop');
    const atStripe = await gw.stripe.refunds.retrieve(res.body.id);
    expect(atStripe.metadata).toMatchObject({ order: '7', note: 'x', gateway_caller: 'shop' });
    expect(atStripe.metadata?.gateway_request_id).toMatch(/^gwr_[0-9a-f]{32}$/);
    // The gateway's own id, never the caller's x-request-id.
    expect(atStripe.metadata?.gateway_request_id).not.toBe(res.headers['x-request-id']);
  });

  it('when a Dashboard refund already took part of the charge, then what is left counts it', async () => {
    const charge = await charged(gw.stripe, 6_000);
    await gw.stripe.refunds.create({ charge: charge.id, amount: 5_000 });
    const res = await refund({ charge: charge.id, amount: 1_001 });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: 'amount_exceeds_refundable', refundable_amount: 1_000 });
    const refused = await gw.http.get(`/v1/refunds?charge=${charge.id}`).set(auth());
    expect(refused.body.data.map((r: { requested_by: string | null }) => r.requested_by)).toEqual([null]);
  });

  it('when only part of an authorisation was captured, then exactly the captured part can be refunded', async () => {
    const p = await createPayment(gw.stripe, { captureMethod: 'manual', amount: 10_000 });
    await gw.stripe.paymentIntents.capture(p.intent, { amount_to_capture: 6_000 });
    const picture = await gw.http.get(`/v1/payments/${p.intent}`).set(auth());
    expect(picture.body).toMatchObject({ amount: 10_000, amount_captured: 6_000, refundable_amount: 6_000, next_step: 'refund' });
    const tooMuch = await refund({ payment_intent: p.intent, amount: 6_001 });
    expect(tooMuch.body).toMatchObject({ code: 'amount_exceeds_refundable', refundable_amount: 6_000 });
    const all = await refund({ payment_intent: p.intent });
    expect(all.status).toBe(201);
    expect(all.body.amount).toBe(6_000);
  });

  it('when the card’s refunds go pending, then the refund is pending and shows in status=pending', async () => {
    const p = await createPayment(gw.stripe, { paymentMethod: 'pm_card_pendingRefund' });
    const res = await refund({ payment_intent: p.intent, amount: 700 });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('pending');
    const pending = await gw.http.get('/v1/refunds?status=pending&limit=100').set(auth());
    expect(pending.status).toBe(200);
    expect(pending.body.data.map((r: { id: string }) => r.id)).toContain(res.body.id);
    expect(pending.body.data.every((r: { status: string }) => r.status === 'pending')).toBe(true);
  });
});
