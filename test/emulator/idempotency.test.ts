// Stripe's idempotency layer: replay, mismatch, another endpoint, in-flight 409, what is not stored, and 24 h expiry on the emulator clock.
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { advanceClock, createPayment, createStripeClient, fail, injectFault, requests, useEmulator } from '../helpers/emulator.js';

const h = useEmulator({ maxNetworkRetries: 0 });

const refundCount = async (chargeId: string): Promise<number> => (await h.stripe.refunds.list({ charge: chargeId, limit: 100 })).data.length;

describe('idempotency', () => {
  it('when the same key is sent again with the same parameters, then the first answer is replayed with Idempotent-Replayed and Original-Request', async () => {
    const { chargeId } = await createPayment(h.stripe);
    const first = await h.stripe.refunds.create({ charge: chargeId, amount: 500 }, { idempotencyKey: 'refund-once' });
    const again = await h.stripe.refunds.create({ charge: chargeId, amount: 500 }, { idempotencyKey: 'refund-once' });
    expect(again.id).toBe(first.id);
    expect(again.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(again.lastResponse.headers['original-request']).toBe(first.lastResponse.requestId);
    expect(again.lastResponse.requestId).not.toBe(first.lastResponse.requestId);
    expect(first.lastResponse.headers['idempotent-replayed']).toBeUndefined();
    expect(await refundCount(chargeId)).toBe(1);
  });

  it('when the same key comes with different parameters, then 400 idempotency_error and nothing is done', async () => {
    const { chargeId } = await createPayment(h.stripe);
    await h.stripe.refunds.create({ charge: chargeId, amount: 500 }, { idempotencyKey: 'k-params' });
    const err = await fail(h.stripe.refunds.create({ charge: chargeId, amount: 600 }, { idempotencyKey: 'k-params' }));
    expect(err).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect(err).toMatchObject({ statusCode: 400, rawType: 'idempotency_error' });
    expect(err.message).toContain("Try using a key other than 'k-params'");
    expect(await refundCount(chargeId)).toBe(1);
  });

  it('when the same key is reused on another endpoint, then 400 idempotency_error', async () => {
    const { chargeId } = await createPayment(h.stripe);
    await h.stripe.refunds.create({ charge: chargeId, amount: 500 }, { idempotencyKey: 'k-endpoint' });
    const err = await fail(h.stripe.paymentIntents.create({ amount: 100, currency: 'usd' }, { idempotencyKey: 'k-endpoint' }));
    expect(err).toMatchObject({ statusCode: 400, rawType: 'idempotency_error' });
    expect(err.message).toContain('same endpoint');
  });

  it('when the same key arrives while the first request is still being processed, then 409 idempotency_key_in_use, and afterwards the result is replayed', async () => {
    const { chargeId } = await createPayment(h.stripe);
    await injectFault(h.url, { method: 'POST', path: '/v1/refunds', kind: 'delay', delay_ms: 400 });
    const slow = h.stripe.refunds.create({ charge: chargeId, amount: 500 }, { idempotencyKey: 'k-inflight' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const err = await fail(h.stripe.refunds.create({ charge: chargeId, amount: 500 }, { idempotencyKey: 'k-inflight' }));
    expect(err).toBeInstanceOf(Stripe.errors.StripeAPIError);
    expect(err).toMatchObject({ statusCode: 409, code: 'idempotency_key_in_use' });
    const first = await slow;
    const replay = await h.stripe.refunds.create({ charge: chargeId, amount: 500 }, { idempotencyKey: 'k-inflight' });
    expect(replay.id).toBe(first.id);
    expect(await refundCount(chargeId)).toBe(1);
  });

  it('when a request fails validation, then nothing is stored and the key can be used again with fixed parameters', async () => {
    const { chargeId } = await createPayment(h.stripe);
    expect(await fail(h.stripe.refunds.create({ charge: chargeId, amount: 0 }, { idempotencyKey: 'k-invalid' }))).toMatchObject({ code: 'parameter_invalid_integer' });
    const ok = await h.stripe.refunds.create({ charge: chargeId, amount: 100 }, { idempotencyKey: 'k-invalid' });
    expect(ok.lastResponse.headers['idempotent-replayed']).toBeUndefined();
  });

  it('when a request failed after execution began (a rule refusal), then the same 400 is replayed even once the rule would pass', async () => {
    const { chargeId } = await createPayment(h.stripe, { paymentMethod: 'pm_card_createDispute' });
    const first = await fail(h.stripe.refunds.create({ charge: chargeId, amount: 100 }, { idempotencyKey: 'k-refused' }));
    expect(first.code).toBe('charge_disputed');
    const [dispute] = (await h.stripe.disputes.list({ charge: chargeId })).data;
    await fetch(`${h.url}/_emulator/disputes/${dispute?.id ?? ''}/close`, { method: 'POST', body: JSON.stringify({ status: 'won' }) });
    const replayed = await fail(h.stripe.refunds.create({ charge: chargeId, amount: 100 }, { idempotencyKey: 'k-refused' }));
    expect(replayed.code).toBe('charge_disputed');
    expect(replayed.headers?.['idempotent-replayed']).toBe('true');
  });

  it('when 24 hours of emulator clock have passed, then the key is forgotten and the request runs again', async () => {
    const { chargeId } = await createPayment(h.stripe);
    const first = await h.stripe.refunds.create({ charge: chargeId, amount: 100 }, { idempotencyKey: 'k-expiry' });
    await advanceClock(h.url, 24 * 3600 - 60);
    expect((await h.stripe.refunds.create({ charge: chargeId, amount: 100 }, { idempotencyKey: 'k-expiry' })).id).toBe(first.id);
    await advanceClock(h.url, 61);
    const fresh = await h.stripe.refunds.create({ charge: chargeId, amount: 100 }, { idempotencyKey: 'k-expiry' });
    expect(fresh.id).not.toBe(first.id);
    expect(fresh.lastResponse.headers['idempotent-replayed']).toBeUndefined();
    expect(await refundCount(chargeId)).toBe(2);
  });

  it('when two Stripe-Account headers use the same key, then they are separate requests, and the log shows each account', async () => {
    const { chargeId } = await createPayment(h.stripe);
    const a = createStripeClient(h.url, { stripeAccount: 'acct_A1', maxNetworkRetries: 0 });
    const b = createStripeClient(h.url, { stripeAccount: 'acct_B2', maxNetworkRetries: 0 });
    const ra = await a.refunds.create({ charge: chargeId, amount: 100 }, { idempotencyKey: 'shared' });
    const rb = await b.refunds.create({ charge: chargeId, amount: 100 }, { idempotencyKey: 'shared' });
    expect(ra.id).not.toBe(rb.id);
    const log = await requests(h.url, { method: 'POST', path: '/v1/refunds', idempotency_key: 'shared' });
    expect(log.map((r) => r.stripe_account)).toEqual(['acct_A1', 'acct_B2']);
  });

  it('when the key is longer than 255 characters, then 400 and nothing is done', async () => {
    const { chargeId } = await createPayment(h.stripe);
    const err = await fail(h.stripe.refunds.create({ charge: chargeId }, { idempotencyKey: 'k'.repeat(256) }));
    expect(err.statusCode).toBe(400);
    expect(await refundCount(chargeId)).toBe(0);
  });

  it('when a declined confirmation is retried with its key, then the stored 402 is replayed', async () => {
    const params: Stripe.PaymentIntentCreateParams = { amount: 1000, currency: 'usd', payment_method: 'pm_card_chargeDeclined', allowed_payment_method_types: ['card'], confirm: true };
    const first = await fail(h.stripe.paymentIntents.create(params, { idempotencyKey: 'k-decline' }));
    const again = await fail(h.stripe.paymentIntents.create(params, { idempotencyKey: 'k-decline' }));
    expect(again).toMatchObject({ statusCode: 402, code: 'card_declined' });
    expect(again.payment_intent?.id).toBe(first.payment_intent?.id);
    expect((await h.stripe.paymentIntents.list({ limit: 100 })).data).toHaveLength(1);
  });
});
