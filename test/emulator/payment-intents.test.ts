// PaymentIntents through the SDK: Stripe's test payment methods decide each outcome; capture and cancel follow Stripe's state machine.
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { createPayment, fail, useEmulator } from '../helpers/emulator.js';

const h = useEmulator({ maxNetworkRetries: 0 });

describe('creating and confirming', () => {
  it('when pm_card_visa is confirmed, then the PaymentIntent succeeds with a captured charge', async () => {
    const { paymentIntent, chargeId } = await createPayment(h.stripe, { amount: 4200 });
    expect(paymentIntent).toMatchObject({ status: 'succeeded', amount_received: 4200, amount_capturable: 0, payment_method: 'pm_card_visa' });
    const charge = await h.stripe.charges.retrieve(chargeId);
    expect(charge).toMatchObject({ status: 'succeeded', captured: true, amount: 4200, amount_captured: 4200, amount_refunded: 0, refunded: false, disputed: false, payment_intent: paymentIntent.id });
  });

  it('when pm_card_visa is confirmed with capture_method=manual, then it waits in requires_capture with an uncaptured charge', async () => {
    const { paymentIntent, chargeId } = await createPayment(h.stripe, { captureMethod: 'manual', amount: 3000 });
    expect(paymentIntent).toMatchObject({ status: 'requires_capture', amount_capturable: 3000, amount_received: 0 });
    expect(await h.stripe.charges.retrieve(chargeId)).toMatchObject({ captured: false, amount_captured: 0, balance_transaction: null });
  });

  it('when a charge is authorised, captured or declined, then paid is true, true and false, as Stripe defines it', async () => {
    const authorised = await createPayment(h.stripe, { captureMethod: 'manual' });
    expect(await h.stripe.charges.retrieve(authorised.chargeId)).toMatchObject({ status: 'succeeded', captured: false, paid: true });
    const captured = await createPayment(h.stripe);
    expect(await h.stripe.charges.retrieve(captured.chargeId)).toMatchObject({ status: 'succeeded', captured: true, paid: true });
    const declined = await fail(createPayment(h.stripe, { paymentMethod: 'pm_card_chargeDeclined' }));
    expect(await h.stripe.charges.retrieve(declined.charge ?? '')).toMatchObject({ status: 'failed', paid: false });
  });

  it('when no payment method is given, then the PaymentIntent is requires_payment_method; with one but no confirm, requires_confirmation', async () => {
    const none = await h.stripe.paymentIntents.create({ amount: 1000, currency: 'usd' });
    expect(none).toMatchObject({ status: 'requires_payment_method', latest_charge: null, automatic_payment_methods: { enabled: true } });
    const pending = await h.stripe.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method: 'pm_card_visa', allowed_payment_method_types: ['card'] });
    expect(pending.status).toBe('requires_confirmation');
    const confirmed = await h.stripe.paymentIntents.confirm(pending.id);
    expect(confirmed.status).toBe('succeeded');
  });

  it('when automatic payment methods are confirmed without return_url, then it is refused; with allow_redirects=never or a return_url it works', async () => {
    const err = await fail(h.stripe.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true }));
    expect(err).toMatchObject({ statusCode: 400, type: 'StripeInvalidRequestError', param: 'return_url' });
    const never = await h.stripe.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true, automatic_payment_methods: { enabled: true, allow_redirects: 'never' } });
    expect(never.status).toBe('succeeded');
    const withUrl = await h.stripe.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true, return_url: 'https://example.com/back' });
    expect(withUrl.status).toBe('succeeded');
  });

  it('when pm_card_authenticationRequired is confirmed, then the PaymentIntent is requires_action with a next_action and no charge', async () => {
    const { paymentIntent } = await createPayment(h.stripe, { paymentMethod: 'pm_card_authenticationRequired' });
    expect(paymentIntent.status).toBe('requires_action');
    expect(paymentIntent.next_action?.type).toBe('use_stripe_sdk');
    expect(paymentIntent.latest_charge).toBeNull();
  });

  it('when pm_card_chargeDeclined is confirmed, then the call fails 402 card_declined and the PaymentIntent stays requires_payment_method with last_payment_error', async () => {
    const err = await fail(createPayment(h.stripe, { paymentMethod: 'pm_card_chargeDeclined', amount: 1500 }));
    expect(err).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(err).toMatchObject({ statusCode: 402, code: 'card_declined', decline_code: 'generic_decline', rawType: 'card_error' });
    const piId = err.payment_intent?.id ?? '';
    const pi = await h.stripe.paymentIntents.retrieve(piId, { expand: ['latest_charge'] });
    expect(pi.status).toBe('requires_payment_method');
    expect(pi.last_payment_error).toMatchObject({ type: 'card_error', code: 'card_declined' });
    expect(pi.latest_charge).toMatchObject({ status: 'failed', paid: false, failure_code: 'card_declined' });
  });

  it('when an unknown payment method is given, then the answer is 404 resource_missing', async () => {
    const err = await fail(createPayment(h.stripe, { paymentMethod: 'pm_card_doesNotExist' }));
    expect(err).toMatchObject({ statusCode: 404, code: 'resource_missing', param: 'payment_method' });
  });

  it('when a PaymentIntent is retrieved with expand[]=latest_charge, then the charge object is embedded', async () => {
    const { paymentIntent, chargeId } = await createPayment(h.stripe);
    const pi = await h.stripe.paymentIntents.retrieve(paymentIntent.id, { expand: ['latest_charge'] });
    expect(pi.latest_charge).toMatchObject({ id: chargeId, object: 'charge' });
  });

  it('when an unknown PaymentIntent is retrieved, then the answer is 404 resource_missing', async () => {
    const err = await fail(h.stripe.paymentIntents.retrieve('pi_doesNotExist'));
    expect(err).toMatchObject({ statusCode: 404, code: 'resource_missing', message: "No such payment_intent: 'pi_doesNotExist'" });
  });
});

describe('capture', () => {
  it('when a requires_capture PaymentIntent is captured in full, then it succeeds and the charge is captured', async () => {
    const { paymentIntent, chargeId } = await createPayment(h.stripe, { captureMethod: 'manual', amount: 5000 });
    const captured = await h.stripe.paymentIntents.capture(paymentIntent.id);
    expect(captured).toMatchObject({ status: 'succeeded', amount_received: 5000, amount_capturable: 0 });
    expect(await h.stripe.charges.retrieve(chargeId)).toMatchObject({ captured: true, amount_captured: 5000, amount_refunded: 0 });
  });

  it('when captured partially with amount_to_capture, then the rest is released as a refund Stripe makes itself', async () => {
    const { paymentIntent, chargeId } = await createPayment(h.stripe, { captureMethod: 'manual', amount: 5000 });
    await h.stripe.paymentIntents.capture(paymentIntent.id, { amount_to_capture: 3000 });
    const charge = await h.stripe.charges.retrieve(chargeId, { expand: ['refunds'] });
    expect(charge).toMatchObject({ amount: 5000, amount_captured: 3000, amount_refunded: 2000, refunded: false });
    expect(charge.refunds?.data.map((r) => r.amount)).toEqual([2000]);
  });

  it('when a PaymentIntent that is not requires_capture is captured, then the answer is 400 payment_intent_unexpected_state', async () => {
    const { paymentIntent } = await createPayment(h.stripe);
    const err = await fail(h.stripe.paymentIntents.capture(paymentIntent.id));
    expect(err).toMatchObject({ statusCode: 400, code: 'payment_intent_unexpected_state' });
  });
});

describe('cancel', () => {
  it.each(['requires_payment_method', 'requires_confirmation', 'requires_action'] as const)('when the PaymentIntent is %s, then cancel succeeds with canceled_at and the reason', async (status) => {
    const params: Stripe.PaymentIntentCreateParams = { amount: 1000, currency: 'usd', allowed_payment_method_types: ['card'] };
    if (status !== 'requires_payment_method') params.payment_method = status === 'requires_action' ? 'pm_card_authenticationRequired' : 'pm_card_visa';
    if (status === 'requires_action') params.confirm = true;
    const pi = await h.stripe.paymentIntents.create(params);
    expect(pi.status).toBe(status);
    const canceled = await h.stripe.paymentIntents.cancel(pi.id, { cancellation_reason: 'abandoned' });
    expect(canceled).toMatchObject({ status: 'canceled', cancellation_reason: 'abandoned' });
    expect(canceled.canceled_at).toEqual(expect.any(Number));
  });

  it('when a requires_capture PaymentIntent is canceled, then the authorisation is released: charge refunded, amount_refunded = amount, a refund exists', async () => {
    const { paymentIntent, chargeId } = await createPayment(h.stripe, { captureMethod: 'manual', amount: 2500 });
    const canceled = await h.stripe.paymentIntents.cancel(paymentIntent.id);
    expect(canceled).toMatchObject({ status: 'canceled', amount_capturable: 0, cancellation_reason: null });
    const charge = await h.stripe.charges.retrieve(chargeId);
    expect(charge).toMatchObject({ captured: false, refunded: true, amount_refunded: 2500 });
    const refunds = await h.stripe.refunds.list({ charge: chargeId });
    expect(refunds.data).toHaveLength(1);
    expect(refunds.data[0]).toMatchObject({ amount: 2500, status: 'succeeded' });
  });

  it.each(['succeeded', 'canceled'] as const)('when the PaymentIntent is %s, then cancel fails 400 payment_intent_unexpected_state with Stripe\'s message and the PaymentIntent', async (status) => {
    const { paymentIntent } = await createPayment(h.stripe, status === 'canceled' ? { captureMethod: 'manual' } : {});
    if (status === 'canceled') await h.stripe.paymentIntents.cancel(paymentIntent.id);
    const err = await fail(h.stripe.paymentIntents.cancel(paymentIntent.id));
    expect(err).toMatchObject({ statusCode: 400, rawType: 'invalid_request_error', code: 'payment_intent_unexpected_state' });
    expect(err.message).toBe(
      `You cannot cancel this PaymentIntent because it has a status of ${status}. Only a PaymentIntent with one of the following statuses may be canceled: requires_payment_method, requires_capture, requires_confirmation, requires_action, processing.`,
    );
    expect(err.payment_intent).toMatchObject({ id: paymentIntent.id, status });
  });
});
