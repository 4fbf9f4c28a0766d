// Refunds through the SDK: amounts, Stripe's refusals by code, retrieve/update/list, and the cap under concurrency.
import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { advanceClock, createPayment, fail, useEmulator } from '../helpers/emulator.js';

const h = useEmulator({ maxNetworkRetries: 0 });

describe('creating refunds', () => {
  it('when no amount is given, then everything left is refunded and the charge is fully refunded', async () => {
    const { chargeId, paymentIntent } = await createPayment(h.stripe, { amount: 3000 });
    await h.stripe.refunds.create({ charge: chargeId, amount: 1000 });
    const rest = await h.stripe.refunds.create({ charge: chargeId, reason: 'requested_by_customer', metadata: { order: '42' } });
    expect(rest).toMatchObject({ object: 'refund', amount: 2000, currency: 'usd', status: 'succeeded', charge: chargeId, payment_intent: paymentIntent.id, reason: 'requested_by_customer', metadata: { order: '42' } });
    expect(await h.stripe.charges.retrieve(chargeId)).toMatchObject({ amount_refunded: 3000, refunded: true });
  });

  it('when refunding by payment_intent, then its latest charge is refunded', async () => {
    const { chargeId, paymentIntent } = await createPayment(h.stripe, { amount: 3000 });
    const refund = await h.stripe.refunds.create({ payment_intent: paymentIntent.id, amount: 500 });
    expect(refund).toMatchObject({ charge: chargeId, payment_intent: paymentIntent.id, amount: 500 });
  });

  it('when a zero-decimal currency is refunded, then amounts stay in its minor unit', async () => {
    const { chargeId } = await createPayment(h.stripe, { amount: 5000, currency: 'jpy', paymentMethod: 'pm_card_jp' });
    const refund = await h.stripe.refunds.create({ charge: chargeId, amount: 1200 });
    expect(refund).toMatchObject({ amount: 1200, currency: 'jpy' });
    const err = await fail(h.stripe.refunds.create({ charge: chargeId, amount: 4000 }));
    expect(err.message).toBe('Refund amount ($4000) is greater than unrefunded amount on charge ($3800)');
  });
});

describe('refusals', () => {
  it('when the amount is more than is left, then 400 invalid_request_error with param amount and no code', async () => {
    const { chargeId } = await createPayment(h.stripe, { amount: 4300 });
    await h.stripe.refunds.create({ charge: chargeId, amount: 300 });
    const err = await fail(h.stripe.refunds.create({ charge: chargeId, amount: 4500 }));
    expect(err).toMatchObject({ statusCode: 400, rawType: 'invalid_request_error', param: 'amount', code: undefined });
    expect(err.message).toBe('Refund amount ($45.00) is greater than unrefunded amount on charge ($40.00)');
  });

  it('when the charge is fully refunded, then 400 charge_already_refunded, with or without an amount', async () => {
    const { chargeId } = await createPayment(h.stripe, { amount: 1000 });
    await h.stripe.refunds.create({ charge: chargeId });
    for (const params of [{ charge: chargeId }, { charge: chargeId, amount: 1 }]) {
      const err = await fail(h.stripe.refunds.create(params));
      expect(err).toMatchObject({ statusCode: 400, code: 'charge_already_refunded', message: `Charge ${chargeId} has already been refunded.` });
    }
  });

  it('when a requires_capture PaymentIntent is refunded by payment_intent, then 400 payment_intent_unexpected_state saying to cancel instead', async () => {
    const { paymentIntent } = await createPayment(h.stripe, { captureMethod: 'manual' });
    const err = await fail(h.stripe.refunds.create({ payment_intent: paymentIntent.id }));
    expect(err).toMatchObject({ statusCode: 400, code: 'payment_intent_unexpected_state' });
    expect(err.message).toContain('requires_capture');
    expect(err.message).toMatch(/[Cc]ancel the PaymentIntent/);
    expect(err.payment_intent?.status).toBe('requires_capture');
  });

  it('when the uncaptured charge of a requires_capture PaymentIntent is refunded by charge, then 400 payment_intent_unexpected_state with Stripe\'s own text', async () => {
    const { chargeId, paymentIntent } = await createPayment(h.stripe, { captureMethod: 'manual' });
    const err = await fail(h.stripe.refunds.create({ charge: chargeId }));
    expect(err).toMatchObject({ statusCode: 400, code: 'payment_intent_unexpected_state' });
    expect(err.message).toBe(
      `This uncaptured Charge was created by a PaymentIntent (${paymentIntent.id}). You must cancel the PaymentIntent to reverse the authorization instead of refunding the Charge directly. For more information, see https://stripe.com/docs/payments/payment-intents/creating-payment-intents#separate-auth-capture`,
    );
    expect(err.payment_intent?.status).toBe('requires_capture');
  });

  it('when a PaymentIntent without a successful charge is refunded, then 400 payment_intent_unexpected_state naming its status', async () => {
    const pi = await h.stripe.paymentIntents.create({ amount: 1000, currency: 'usd', allowed_payment_method_types: ['card'] });
    const err = await fail(h.stripe.refunds.create({ payment_intent: pi.id }));
    expect(err).toMatchObject({ statusCode: 400, code: 'payment_intent_unexpected_state' });
    expect(err.message).toContain('requires_payment_method');
  });

  it('when the charge or PaymentIntent does not exist, then 404 resource_missing', async () => {
    expect(await fail(h.stripe.refunds.create({ charge: 'ch_nope' }))).toMatchObject({ statusCode: 404, code: 'resource_missing', message: "No such charge: 'ch_nope'" });
    expect(await fail(h.stripe.refunds.create({ payment_intent: 'pi_nope' }))).toMatchObject({ statusCode: 404, code: 'resource_missing' });
    expect(await fail(h.stripe.refunds.retrieve('re_nope'))).toMatchObject({ statusCode: 404, code: 'resource_missing', message: "No such refund: 're_nope'" });
  });

  it('when both charge and payment_intent are given, then 400 parameters_exclusive; when neither, 400 parameter_missing on charge', async () => {
    const { chargeId, paymentIntent } = await createPayment(h.stripe);
    expect(await fail(h.stripe.refunds.create({ charge: chargeId, payment_intent: paymentIntent.id }))).toMatchObject({ statusCode: 400, code: 'parameters_exclusive' });
    expect(await fail(h.stripe.refunds.create({}))).toMatchObject({ statusCode: 400, code: 'parameter_missing', param: 'charge', message: 'Missing required param: charge.' });
  });

  it('when the amount is below 1 or above 99999999, then parameter_invalid_integer or amount_too_large', async () => {
    const { chargeId } = await createPayment(h.stripe);
    expect(await fail(h.stripe.refunds.create({ charge: chargeId, amount: 0 }))).toMatchObject({ statusCode: 400, code: 'parameter_invalid_integer', param: 'amount' });
    expect(await fail(h.stripe.refunds.create({ charge: chargeId, amount: -5 }))).toMatchObject({ code: 'parameter_invalid_integer' });
    expect(await fail(h.stripe.refunds.create({ charge: chargeId, amount: 100_000_000 }))).toMatchObject({ statusCode: 400, code: 'amount_too_large', param: 'amount' });
  });

  it('when the reason is not one Stripe accepts, then 400 on param reason', async () => {
    const { chargeId } = await createPayment(h.stripe);
    const err = await fail(h.stripe.refunds.create({ charge: chargeId, reason: 'expired_uncaptured_charge' as Stripe.RefundCreateParams.Reason }));
    expect(err).toMatchObject({ statusCode: 400, param: 'reason' });
  });
});

describe('reading and updating refunds', () => {
  it('when a refund is updated with metadata, then keys are set, and an empty value unsets a key', async () => {
    const { chargeId } = await createPayment(h.stripe);
    const refund = await h.stripe.refunds.create({ charge: chargeId, amount: 100, metadata: { a: '1', b: '2' } });
    const updated = await h.stripe.refunds.update(refund.id, { metadata: { a: '', c: '3' } });
    expect(updated.metadata).toEqual({ b: '2', c: '3' });
    expect((await h.stripe.refunds.retrieve(refund.id)).metadata).toEqual({ b: '2', c: '3' });
    const err = await fail(h.stripe.refunds.update(refund.id, { amount: 5 } as Stripe.RefundUpdateParams));
    expect(err).toMatchObject({ code: 'parameter_unknown', param: 'amount' });
  });

  it('when a charge is retrieved with expand[]=refunds, then its refunds are listed newest first', async () => {
    const { chargeId } = await createPayment(h.stripe);
    const first = await h.stripe.refunds.create({ charge: chargeId, amount: 100 });
    const second = await h.stripe.refunds.create({ charge: chargeId, amount: 200 });
    const charge = await h.stripe.charges.retrieve(chargeId, { expand: ['refunds'] });
    expect(charge.refunds).toMatchObject({ object: 'list', has_more: false, url: `/v1/charges/${chargeId}/refunds` });
    expect(charge.refunds?.data.map((r) => r.id)).toEqual([second.id, first.id]);
    const plain = await h.stripe.charges.retrieve(chargeId);
    expect(plain.refunds).toBeUndefined();
  });

  it('when refunds are listed by charge or payment_intent, then only theirs come back, newest first, and pages chain with starting_after and ending_before', async () => {
    const a = await createPayment(h.stripe, { amount: 10_000 });
    const b = await createPayment(h.stripe, { amount: 10_000 });
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) ids.push((await h.stripe.refunds.create({ charge: a.chargeId, amount: 100 + i })).id);
    await h.stripe.refunds.create({ charge: b.chargeId, amount: 50 });
    const newestFirst = [...ids].reverse();

    const page1 = await h.stripe.refunds.list({ charge: a.chargeId, limit: 2 });
    expect(page1).toMatchObject({ object: 'list', url: '/v1/refunds', has_more: true });
    expect(page1.data.map((r) => r.id)).toEqual(newestFirst.slice(0, 2));
    const page2 = await h.stripe.refunds.list({ charge: a.chargeId, limit: 2, starting_after: page1.data[1]?.id ?? '' });
    expect(page2.data.map((r) => r.id)).toEqual(newestFirst.slice(2, 4));
    const back = await h.stripe.refunds.list({ charge: a.chargeId, limit: 2, ending_before: page2.data[0]?.id ?? '' });
    expect(back.data.map((r) => r.id)).toEqual(newestFirst.slice(0, 2));
    const all = await h.stripe.refunds.list({ payment_intent: a.paymentIntent.id }).autoPagingToArray({ limit: 100 });
    expect(all.map((r) => r.id)).toEqual(newestFirst);
    expect((await h.stripe.refunds.list({ limit: 100 })).data).toHaveLength(6);
  });

  it('when a charge\'s refunds are listed at /v1/charges/:id/refunds, then only that charge\'s refunds come back', async () => {
    const a = await createPayment(h.stripe);
    const b = await createPayment(h.stripe);
    const mine = await h.stripe.refunds.create({ charge: a.chargeId, amount: 100 });
    await h.stripe.refunds.create({ charge: b.chargeId, amount: 100 });
    const res = await fetch(`${h.url}/v1/charges/${a.chargeId}/refunds`, { headers: { authorization: 'Bearer sk_test_x' } });
    const list = (await res.json()) as { data: { id: string }[]; url: string };
    expect(list.url).toBe(`/v1/charges/${a.chargeId}/refunds`);
    expect(list.data.map((r) => r.id)).toEqual([mine.id]);
  });

  it('when a field the emulator cannot expand is asked for, then 400 on param expand', async () => {
    const { chargeId } = await createPayment(h.stripe);
    const refund = await h.stripe.refunds.create({ charge: chargeId, amount: 100 });
    expect(await fail(h.stripe.refunds.retrieve(refund.id, { expand: ['balance_transaction'] }))).toMatchObject({ statusCode: 400, param: 'expand' });
    const deep = await h.stripe.refunds.retrieve(refund.id, { expand: ['charge.payment_intent'] });
    expect(deep.charge).toMatchObject({ id: chargeId, payment_intent: { object: 'payment_intent' } });
  });

  it('when refunds are listed with a created range, then only those in it come back', async () => {
    const { chargeId } = await createPayment(h.stripe, { amount: 10_000 });
    const old = await h.stripe.refunds.create({ charge: chargeId, amount: 100 });
    await advanceClock(h.url, 3600);
    const recent = await h.stripe.refunds.create({ charge: chargeId, amount: 100 });
    const list = await h.stripe.refunds.list({ charge: chargeId, created: { gt: old.created } });
    expect(list.data.map((r) => r.id)).toEqual([recent.id]);
    const exact = await h.stripe.refunds.list({ charge: chargeId, created: old.created });
    expect(exact.data.map((r) => r.id)).toEqual([old.id]);
  });

  it('when limit is outside 1–100 or a status filter is sent, then the list is refused like Stripe does', async () => {
    expect(await fail(h.stripe.refunds.list({ limit: 101 }))).toMatchObject({ statusCode: 400, param: 'limit' });
    expect(await fail(h.stripe.refunds.list({ limit: 0 }))).toMatchObject({ statusCode: 400, param: 'limit' });
    expect(await fail(h.stripe.refunds.list({ status: 'pending' } as Stripe.RefundListParams))).toMatchObject({ code: 'parameter_unknown', param: 'status' });
  });
});

describe('concurrency', () => {
  it('when many refunds hit one charge at once, then their total never exceeds the charge and the rest are refused', async () => {
    const { chargeId } = await createPayment(h.stripe, { amount: 10_000 });
    const results = await Promise.allSettled(Array.from({ length: 30 }, () => h.stripe.refunds.create({ charge: chargeId, amount: 700 })));
    const ok = results.filter((r): r is PromiseFulfilledResult<Stripe.Response<Stripe.Refund>> => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok).toHaveLength(14);
    expect(ok.reduce((sum, r) => sum + r.value.amount, 0)).toBe(9800);
    for (const r of refused) expect(r.reason).toMatchObject({ statusCode: 400, param: 'amount' });
    const charge = await h.stripe.charges.retrieve(chargeId);
    expect(charge.amount_refunded).toBe(9800);
    const rest = await h.stripe.refunds.create({ charge: chargeId });
    expect(rest.amount).toBe(200);
  });
});
