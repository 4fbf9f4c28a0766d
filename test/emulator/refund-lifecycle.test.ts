// Refunds that change after they are made: the pending and failing test cards, and refunds waiting for funds until a top-up.
import { describe, expect, it } from 'vitest';
import { advanceClock, createPayment, setBankDebits, useEmulator } from '../helpers/emulator.js';

const h = useEmulator({ maxNetworkRetries: 0 });

const TEN_MINUTES = 600;

describe('pm_card_pendingRefund (4000000000007726)', () => {
  it('when refunded, then the refund is pending, still pending just before 10 minutes of emulator clock, and succeeded after', async () => {
    const { chargeId } = await createPayment(h.stripe, { paymentMethod: 'pm_card_pendingRefund', amount: 6000 });
    const refund = await h.stripe.refunds.create({ charge: chargeId, amount: 2000 });
    expect(refund).toMatchObject({ status: 'pending', pending_reason: 'processing' });
    expect(await h.stripe.charges.retrieve(chargeId)).toMatchObject({ amount_refunded: 2000 });
    await advanceClock(h.url, TEN_MINUTES - 5);
    expect((await h.stripe.refunds.retrieve(refund.id)).status).toBe('pending');
    await advanceClock(h.url, 10);
    const settled = await h.stripe.refunds.retrieve(refund.id);
    expect(settled.status).toBe('succeeded');
    expect(settled.pending_reason).toBeUndefined();
    const listed = await h.stripe.refunds.list({ charge: chargeId });
    expect(listed.data[0]?.status).toBe('succeeded');
  });
});

describe('pm_card_refundFail (4000000000005126)', () => {
  it('when refunded, then the create response says succeeded, every later read says failed, and amount_refunded goes back down', async () => {
    const { chargeId } = await createPayment(h.stripe, { paymentMethod: 'pm_card_refundFail', amount: 3000 });
    const refund = await h.stripe.refunds.create({ charge: chargeId, amount: 1000 });
    expect(refund.status).toBe('succeeded');
    const later = await h.stripe.refunds.retrieve(refund.id);
    expect(later).toMatchObject({ status: 'failed', failure_reason: 'expired_or_canceled_card' });
    expect(later.failure_balance_transaction).toMatch(/^txn_/);
    expect(await h.stripe.charges.retrieve(chargeId)).toMatchObject({ amount_refunded: 0, refunded: false });
    expect((await h.stripe.refunds.list({ charge: chargeId })).data[0]?.status).toBe('failed');
    // The money came back, so it can be refunded again (that refund fails the same way).
    const again = await h.stripe.refunds.create({ charge: chargeId });
    expect(again).toMatchObject({ amount: 3000, status: 'succeeded' });
  });
});

describe('balance and bank debits', () => {
  const amountOf = (entries: { amount: number; currency: string }[], currency: string): number => entries.find((e) => e.currency === currency)?.amount ?? 0;

  it('when a card pays, then funds land in pending; with pm_card_bypassPending, straight in available; after 2 days pending becomes available', async () => {
    await createPayment(h.stripe, { amount: 1000 });
    await createPayment(h.stripe, { amount: 700, paymentMethod: 'pm_card_bypassPending' });
    const balance = await h.stripe.balance.retrieve();
    expect(balance).toMatchObject({ object: 'balance', livemode: false });
    expect(amountOf(balance.pending, 'usd')).toBe(1000);
    expect(amountOf(balance.available, 'usd')).toBe(700);
    await advanceClock(h.url, 2 * 24 * 3600);
    const later = await h.stripe.balance.retrieve();
    expect(amountOf(later.pending, 'usd')).toBe(0);
    expect(amountOf(later.available, 'usd')).toBe(1700);
  });

  it('when the available balance falls short and the bank can be debited (default), then the refund succeeds at once', async () => {
    const { chargeId } = await createPayment(h.stripe, { amount: 5000 });
    const refund = await h.stripe.refunds.create({ charge: chargeId, amount: 4000 });
    expect(refund.status).toBe('succeeded');
  });

  it('when the bank cannot be debited and available funds fall short, then the refund stays pending (insufficient_funds) until a top-up covers it', async () => {
    await setBankDebits(h.url, false);
    const { chargeId } = await createPayment(h.stripe, { amount: 5000 });
    const funded = await createPayment(h.stripe, { amount: 1000, paymentMethod: 'pm_card_bypassPending' });
    const paid = await h.stripe.refunds.create({ charge: funded.chargeId, amount: 400 });
    expect(paid.status).toBe('succeeded');
    const waiting = await h.stripe.refunds.create({ charge: chargeId, amount: 3000 });
    expect(waiting).toMatchObject({ status: 'pending', pending_reason: 'insufficient_funds' });
    expect((await h.stripe.charges.retrieve(chargeId)).amount_refunded).toBe(3000);

    await h.stripe.topups.create({ amount: 1000, currency: 'usd', description: 'not enough yet' });
    expect((await h.stripe.refunds.retrieve(waiting.id)).status).toBe('pending');
    const topup = await h.stripe.topups.create({ amount: 2000, currency: 'usd' });
    expect(topup).toMatchObject({ object: 'topup', status: 'succeeded', amount: 2000 });
    expect((await h.stripe.topups.retrieve(topup.id)).amount).toBe(2000);
    const settled = await h.stripe.refunds.retrieve(waiting.id);
    expect(settled.status).toBe('succeeded');
    expect(amountOf((await h.stripe.balance.retrieve()).available, 'usd')).toBe(600 + 3000 - 3000);
  });

  it('when bank debits are turned back on, then refunds waiting for funds are paid', async () => {
    await setBankDebits(h.url, false);
    const { chargeId } = await createPayment(h.stripe, { amount: 5000 });
    const waiting = await h.stripe.refunds.create({ charge: chargeId, amount: 1000 });
    expect(waiting.status).toBe('pending');
    await setBankDebits(h.url, true);
    expect((await h.stripe.refunds.retrieve(waiting.id)).status).toBe('succeeded');
  });
});
