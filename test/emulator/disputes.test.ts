// Disputes: pm_card_createDispute opens one, an open dispute blocks refunds with charge_disputed, closing it lifts the block.
import { describe, expect, it } from 'vitest';
import { closeDispute, createPayment, fail, openDispute, useEmulator } from '../helpers/emulator.js';

const h = useEmulator({ maxNetworkRetries: 0 });

describe('disputes', () => {
  it('when pm_card_createDispute pays, then the charge succeeds, is disputed, and an open needs_response dispute is listed for it', async () => {
    const { paymentIntent, chargeId } = await createPayment(h.stripe, { paymentMethod: 'pm_card_createDispute', amount: 8000 });
    expect(paymentIntent.status).toBe('succeeded');
    expect(await h.stripe.charges.retrieve(chargeId)).toMatchObject({ status: 'succeeded', disputed: true });
    const disputes = await h.stripe.disputes.list({ charge: chargeId });
    expect(disputes).toMatchObject({ object: 'list', has_more: false, url: '/v1/disputes' });
    expect(disputes.data).toHaveLength(1);
    expect(disputes.data[0]).toMatchObject({ object: 'dispute', charge: chargeId, payment_intent: paymentIntent.id, amount: 8000, status: 'needs_response', is_charge_refundable: false });
    const byPi = await h.stripe.disputes.list({ payment_intent: paymentIntent.id });
    expect(byPi.data.map((d) => d.id)).toEqual(disputes.data.map((d) => d.id));
    const other = await createPayment(h.stripe);
    expect((await h.stripe.disputes.list({ charge: other.chargeId })).data).toHaveLength(0);
  });

  it('when the dispute is open, then refunds by charge or payment_intent are refused with charge_disputed', async () => {
    const { paymentIntent, chargeId } = await createPayment(h.stripe, { paymentMethod: 'pm_card_createDispute' });
    for (const params of [{ charge: chargeId }, { payment_intent: paymentIntent.id }, { charge: chargeId, amount: 100 }]) {
      const err = await fail(h.stripe.refunds.create(params));
      expect(err).toMatchObject({ statusCode: 400, code: 'charge_disputed', message: `Charge ${chargeId} has been charged back; cannot issue a refund.` });
    }
  });

  it.each(['won', 'lost'] as const)('when the dispute is closed as %s, then it is no longer open and the charge can be refunded', async (outcome) => {
    const { chargeId } = await createPayment(h.stripe, { paymentMethod: 'pm_card_createDispute', amount: 5000 });
    const [dispute] = (await h.stripe.disputes.list({ charge: chargeId })).data;
    const closed = await closeDispute(h.url, dispute?.id ?? '', outcome);
    expect(closed).toMatchObject({ status: outcome, is_charge_refundable: true });
    expect(await h.stripe.disputes.retrieve(dispute?.id ?? '')).toMatchObject({ status: outcome });
    const refund = await h.stripe.refunds.create({ charge: chargeId, amount: 1000 });
    expect(refund.status).toBe('succeeded');
    expect((await h.stripe.charges.retrieve(chargeId)).disputed).toBe(true);
    await expect(closeDispute(h.url, dispute?.id ?? '', 'won')).rejects.toThrow(/already closed/);
  });

  it('when the control API opens an inquiry on a charge, then the charge is disputed but still refundable', async () => {
    const { chargeId } = await createPayment(h.stripe);
    const inquiry = await openDispute(h.url, chargeId, { inquiry: true });
    expect(inquiry).toMatchObject({ status: 'warning_needs_response', is_charge_refundable: true });
    expect((await h.stripe.refunds.create({ charge: chargeId, amount: 100 })).status).toBe('succeeded');
    const full = await openDispute(h.url, chargeId);
    expect(full.status).toBe('needs_response');
    expect(await fail(h.stripe.refunds.create({ charge: chargeId, amount: 100 }))).toMatchObject({ code: 'charge_disputed' });
  });

  it('when an unknown dispute is retrieved or closed, then 404', async () => {
    expect(await fail(h.stripe.disputes.retrieve('dp_nope'))).toMatchObject({ statusCode: 404, code: 'resource_missing' });
    await expect(closeDispute(h.url, 'dp_nope', 'won')).rejects.toThrow(/404/);
  });
});
