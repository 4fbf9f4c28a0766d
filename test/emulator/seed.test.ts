// The sandbox seed: every listed demo payment exists at its stable id and shows the case its description promises.
import { describe, expect, it } from 'vitest';
import { DEMO_PAYMENTS } from '../../src/emulator/seed.js';
import type Stripe from 'stripe';
import { advanceClock, fail, resetEmulator, useEmulator } from '../helpers/emulator.js';
import { allEvents, eventsAbout } from '../helpers/emulator-events.js';

const h = useEmulator({ seed: true, maxNetworkRetries: 0 });

const STRIPE_ID = (prefix: string) => new RegExp(`^${prefix}_[A-Za-z0-9]{1,250}$`);

describe('seeded demo payments', () => {
  it('when the seed is listed, then every id is a valid Stripe id (letters and digits after the prefix) and unique', () => {
    expect(DEMO_PAYMENTS.length).toBeGreaterThanOrEqual(11);
    for (const p of DEMO_PAYMENTS) {
      expect(p.id).toMatch(STRIPE_ID('pi'));
      if (p.chargeId !== null) expect(p.chargeId).toMatch(STRIPE_ID('ch'));
      expect(p.description.length).toBeGreaterThan(10);
    }
    expect(new Set(DEMO_PAYMENTS.map((p) => p.id)).size).toBe(DEMO_PAYMENTS.length);
  });

  it('when each demo payment is retrieved, then it exists with its listed charge', async () => {
    for (const p of DEMO_PAYMENTS) {
      const pi = await h.stripe.paymentIntents.retrieve(p.id);
      expect(pi.latest_charge).toBe(p.chargeId);
    }
  });

  it('when the demo payments are read, then they cover succeeded, partly and fully refunded, disputed, requires_capture, requires_action, processing, canceled and jpy', async () => {
    const status = async (id: string) => (await h.stripe.paymentIntents.retrieve(id)).status;
    expect(await status('pi_DemoSucceeded')).toBe('succeeded');
    expect(await status('pi_DemoRequiresCapture')).toBe('requires_capture');
    expect(await status('pi_DemoRequiresAction')).toBe('requires_action');
    expect(await status('pi_DemoProcessing')).toBe('processing');
    expect(await status('pi_DemoCanceled')).toBe('canceled');
    expect(await status('pi_DemoDeclined')).toBe('requires_payment_method');
    expect(await h.stripe.charges.retrieve('ch_DemoPartlyRefunded')).toMatchObject({ amount: 10_000, amount_refunded: 2500, refunded: false });
    expect(await h.stripe.refunds.retrieve('re_DemoPartlyRefunded')).toMatchObject({ amount: 2500, status: 'succeeded' });
    expect(await h.stripe.charges.retrieve('ch_DemoFullyRefunded')).toMatchObject({ refunded: true });
    expect(await h.stripe.charges.retrieve('ch_DemoDisputed')).toMatchObject({ disputed: true });
    expect((await h.stripe.disputes.list({ charge: 'ch_DemoDisputed' })).data[0]).toMatchObject({ status: 'needs_response' });
    expect(await h.stripe.charges.retrieve('ch_DemoJpy')).toMatchObject({ currency: 'jpy', amount: 5000 });
    expect(await h.stripe.charges.retrieve('ch_DemoCanceled')).toMatchObject({ refunded: true, captured: false });
  });

  it('when the processing demo\'s charge is read, then it is pending and not paid (paid means succeeded or authorised)', async () => {
    expect(await h.stripe.charges.retrieve('ch_DemoProcessing')).toMatchObject({ status: 'pending', captured: false, paid: false });
  });

  it('when demo payments are refunded, then each answers as its case says', async () => {
    expect((await h.stripe.refunds.create({ payment_intent: 'pi_DemoSucceeded', amount: 1000 })).status).toBe('succeeded');
    expect((await h.stripe.refunds.create({ charge: 'ch_DemoPartlyRefunded' })).amount).toBe(7500);
    expect((await h.stripe.refunds.create({ charge: 'ch_DemoJpy', amount: 500 })).currency).toBe('jpy');
    expect(await fail(h.stripe.refunds.create({ charge: 'ch_DemoFullyRefunded' }))).toMatchObject({ code: 'charge_already_refunded' });
    expect(await fail(h.stripe.refunds.create({ charge: 'ch_DemoDisputed' }))).toMatchObject({ code: 'charge_disputed' });
    expect(await fail(h.stripe.refunds.create({ payment_intent: 'pi_DemoRequiresCapture' }))).toMatchObject({ code: 'payment_intent_unexpected_state' });
    expect(await fail(h.stripe.refunds.create({ charge: 'ch_DemoProcessing' }))).toMatchObject({ code: 'payment_intent_unexpected_state' });
    expect(await fail(h.stripe.paymentIntents.cancel('pi_DemoProcessing'))).toMatchObject({ code: 'payment_intent_unexpected_state' });
    const pending = await h.stripe.refunds.create({ charge: 'ch_DemoPendingRefund', amount: 1000 });
    expect(pending.status).toBe('pending');
    await advanceClock(h.url, 601);
    expect((await h.stripe.refunds.retrieve(pending.id)).status).toBe('succeeded');
    const failing = await h.stripe.refunds.create({ charge: 'ch_DemoRefundFails', amount: 1000 });
    expect(failing.status).toBe('succeeded');
    expect((await h.stripe.refunds.retrieve(failing.id)).status).toBe('failed');
    expect((await h.stripe.paymentIntents.cancel('pi_DemoRequiresAction')).status).toBe('canceled');
  });

  it('when a seeded emulator is reset, then the demo payments come back as they were', async () => {
    await h.stripe.refunds.create({ charge: 'ch_DemoSucceeded' });
    await resetEmulator(h.url);
    expect(await h.stripe.charges.retrieve('ch_DemoSucceeded')).toMatchObject({ amount_refunded: 0 });
  });
});

describe('events of the seeded demo payments', () => {
  const shape = (events: Stripe.Event[]) => events.map((e) => [e.type, (e.data.object as { status?: string }).status ?? null]);

  it('when a seeded emulator is read, then every demo refund has its events, and re_DemoRefundFails has failed with refund.failed', async () => {
    const events = await allEvents(h.stripe);
    const created = events.filter((e) => e.type === 'refund.created').map((e) => (e.data.object as Stripe.Refund).id);
    expect(created).toEqual(expect.arrayContaining(['re_DemoPartlyRefunded', 're_DemoFullyRefunded', 're_DemoPendingRefund', 're_DemoRefundFails']));
    const releases = events.filter((e) => e.type === 'charge.refunded').map((e) => (e.data.object as Stripe.Charge).id);
    expect(releases).toEqual(expect.arrayContaining(['ch_DemoPartlyRefunded', 'ch_DemoFullyRefunded', 'ch_DemoCanceled', 'ch_DemoRefundFails']));
    expect(events.filter((e) => e.type === 'payment_intent.canceled').map((e) => (e.data.object as Stripe.PaymentIntent).id)).toEqual(['pi_DemoCanceled']);
    expect(shape(await eventsAbout(h.stripe, 're_DemoRefundFails'))).toEqual([
      ['refund.created', 'succeeded'],
      ['refund.updated', 'failed'],
      ['refund.failed', 'failed'],
      ['charge.refund.updated', 'failed'],
    ]);
    expect(await h.stripe.refunds.retrieve('re_DemoPendingRefund')).toMatchObject({ status: 'pending', pending_reason: 'processing' });
  });
});
