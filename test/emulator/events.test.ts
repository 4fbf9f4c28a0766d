// Events: each path that makes or changes a refund (or cancels a PaymentIntent) emits Stripe's events, shaped as Stripe's Event, in order.
import type Stripe from 'stripe';
import { describe, expect, it, vi } from 'vitest';
import { advanceClock, createPayment, setBankDebits, useEmulator } from '../helpers/emulator.js';
import { allEvents, eventsAbout } from '../helpers/emulator-events.js';

const h = useEmulator({ maxNetworkRetries: 0 });

// The members of stripe-node 23's EventBase (Events.d.ts): the required ones and the two optional ones.
const EVENT_KEYS = ['api_version', 'created', 'data', 'id', 'livemode', 'object', 'pending_webhooks', 'request', 'type'];

/** Checks an event against Stripe's Event type member by member (the OpenAPI subset has no event schema). */
function expectEventShape(e: Stripe.Event): void {
  expect(Object.keys(e).filter((k) => k !== 'lastResponse').sort()).toEqual(EVENT_KEYS);
  expect(e.id).toMatch(/^evt_[A-Za-z0-9]{24}$/);
  expect(e.object).toBe('event');
  expect(e.api_version).toBe('2026-10-28.endive');
  expect(Number.isInteger(e.created)).toBe(true);
  expect(e.livemode).toBe(false);
  expect(Number.isInteger(e.pending_webhooks)).toBe(true);
  expect(e.request).not.toBeNull();
  expect(Object.keys(e.request ?? {}).sort()).toEqual(['id', 'idempotency_key']);
  expect(Object.keys(e.data).every((k) => k === 'object' || k === 'previous_attributes')).toBe(true);
  expect(typeof (e.data.object as { object?: unknown }).object).toBe('string');
}

const shape = (events: Stripe.Event[]) => events.map((e) => [e.type, (e.data.object as { status?: string }).status ?? null]);

describe('events of a refund being made', () => {
  it('when a refund is created with an idempotency key, then refund.created and charge.refunded follow, shaped as Stripe events, carrying the request and key', async () => {
    const { chargeId } = await createPayment(h.stripe, { amount: 5000 });
    const refund = await h.stripe.refunds.create({ charge: chargeId, amount: 1200 }, { idempotencyKey: 'refund-events-1' });
    const events = (await allEvents(h.stripe)).filter((e) => e.type.startsWith('refund.') || e.type.startsWith('charge.'));
    expect(events.map((e) => e.type)).toEqual(['refund.created', 'charge.refunded']);
    for (const e of events) {
      expectEventShape(e);
      expect(e.request).toEqual({ id: refund.lastResponse.requestId, idempotency_key: 'refund-events-1' });
    }
    const [created, refunded] = events as [Stripe.RefundCreatedEvent, Stripe.ChargeRefundedEvent];
    const { lastResponse: _ignored, ...asAnswered } = refund;
    expect(created.data.object).toEqual(asAnswered);
    expect(created.data.previous_attributes).toBeUndefined();
    expect(refunded.data.object).toMatchObject({ object: 'charge', id: chargeId, amount_refunded: 1200, refunded: false });
    // Since API 2022-11-15 the charge in charge.refunded carries no refunds list.
    expect(refunded.data.object).not.toHaveProperty('refunds');
    expect(refunded.data.previous_attributes).toEqual({ amount_refunded: 0 });
  });

  it('when a refund takes what is left, then charge.refunded says refunded became true', async () => {
    const { chargeId } = await createPayment(h.stripe, { amount: 3000 });
    await h.stripe.refunds.create({ charge: chargeId, amount: 1000 });
    await h.stripe.refunds.create({ charge: chargeId });
    const last = (await allEvents(h.stripe, { type: 'charge.refunded' })).at(-1);
    expect(last?.data.object).toMatchObject({ amount_refunded: 3000, refunded: true });
    expect(last?.data.previous_attributes).toEqual({ amount_refunded: 1000, refunded: false });
  });

  it('when a refund is refused, then no event is emitted', async () => {
    const { chargeId } = await createPayment(h.stripe, { amount: 1000 });
    const before = (await allEvents(h.stripe)).length;
    await h.stripe.refunds.create({ charge: chargeId, amount: 5000 }).catch(() => undefined);
    expect((await allEvents(h.stripe)).length).toBe(before);
  });

  it('when the events are listed, then they come newest first, and an event keeps the object as it was then', async () => {
    const { chargeId } = await createPayment(h.stripe, { amount: 5000 });
    const refund = await h.stripe.refunds.create({ charge: chargeId, amount: 100 });
    await h.stripe.refunds.update(refund.id, { metadata: { note: 'later' } });
    const newestFirst = (await h.stripe.events.list({ limit: 3 })).data;
    expect(newestFirst.map((e) => e.type)).toEqual(['charge.refund.updated', 'refund.updated', 'charge.refunded']);
    const created = (await eventsAbout(h.stripe, refund.id)).find((e) => e.type === 'refund.created');
    expect(created?.data.object).toMatchObject({ metadata: {} });
  });
});

describe('events of a refund changing', () => {
  it('when a refund\'s metadata is updated, then refund.updated and charge.refund.updated carry the old metadata values in previous_attributes', async () => {
    const { chargeId } = await createPayment(h.stripe, { amount: 5000 });
    const refund = await h.stripe.refunds.create({ charge: chargeId, amount: 100, metadata: { order: '1', keep: 'k' } });
    await h.stripe.refunds.update(refund.id, { metadata: { order: '2', added: 'a' } });
    const updates = (await eventsAbout(h.stripe, refund.id)).filter((e) => e.type !== 'refund.created');
    expect(updates.map((e) => e.type)).toEqual(['refund.updated', 'charge.refund.updated']);
    for (const e of updates) {
      expectEventShape(e);
      expect(e.data.object).toMatchObject({ metadata: { order: '2', keep: 'k', added: 'a' } });
      expect(e.data.previous_attributes).toEqual({ metadata: { order: '1', added: null } });
    }
  });

  it('when an update changes nothing, then no event is emitted', async () => {
    const { chargeId } = await createPayment(h.stripe, { amount: 5000 });
    const refund = await h.stripe.refunds.create({ charge: chargeId, amount: 100, metadata: { order: '1' } });
    await h.stripe.refunds.update(refund.id, { metadata: { order: '1' } });
    expect((await eventsAbout(h.stripe, refund.id)).map((e) => e.type)).toEqual(['refund.created']);
  });

  it('when a pm_card_pendingRefund refund settles as the emulator clock passes 10 minutes, then refund.updated (pending → succeeded) is automatic (request id null)', async () => {
    const { chargeId } = await createPayment(h.stripe, { paymentMethod: 'pm_card_pendingRefund', amount: 6000 });
    const refund = await h.stripe.refunds.create({ charge: chargeId, amount: 2000 });
    expect(shape(await eventsAbout(h.stripe, refund.id))).toEqual([['refund.created', 'pending']]);
    await advanceClock(h.url, 601);
    const events = await eventsAbout(h.stripe, refund.id);
    expect(shape(events)).toEqual([
      ['refund.created', 'pending'],
      ['refund.updated', 'succeeded'],
      ['charge.refund.updated', 'succeeded'],
    ]);
    expect(events[1]?.data.previous_attributes).toEqual({ status: 'pending', pending_reason: 'processing', destination_details: { card: { type: 'pending' } } });
    expect(events[1]?.request).toEqual({ id: null, idempotency_key: null });
  });

  it('when a pm_card_refundFail refund is made, then the create answers succeeded and, with no read in between, the scheduler fails it with refund.updated, refund.failed and charge.refund.updated', async () => {
    const { chargeId } = await createPayment(h.stripe, { paymentMethod: 'pm_card_refundFail', amount: 3000 });
    const refund = await h.stripe.refunds.create({ charge: chargeId, amount: 1000 });
    expect(refund.status).toBe('succeeded');
    // No API call until the scheduler has applied the failure on its own.
    const stored = () => h.emulator.control.state().store.refunds.get(refund.id)?.status;
    await vi.waitFor(() => expect(stored()).toBe('failed'), { timeout: 5000, interval: 20 });
    const events = await eventsAbout(h.stripe, refund.id);
    expect(shape(events)).toEqual([
      ['refund.created', 'succeeded'],
      ['refund.updated', 'failed'],
      ['refund.failed', 'failed'],
      ['charge.refund.updated', 'failed'],
    ]);
    expect(events[1]?.data.previous_attributes).toEqual({ status: 'succeeded', failure_reason: null, failure_balance_transaction: null });
    expect(events[2]?.data.object).toMatchObject({ failure_reason: 'expired_or_canceled_card' });
    expect(events.slice(1).every((e) => e.request?.id === null)).toBe(true);
    // Reads agree with the events.
    expect((await h.stripe.refunds.retrieve(refund.id)).status).toBe('failed');
    expect((await h.stripe.charges.retrieve(chargeId)).amount_refunded).toBe(0);
  });

  it('when a refund waits for funds and a top-up covers it, then refund.updated says pending → succeeded', async () => {
    await setBankDebits(h.url, false);
    const { chargeId } = await createPayment(h.stripe, { amount: 5000 });
    const waiting = await h.stripe.refunds.create({ charge: chargeId, amount: 3000 });
    expect(waiting).toMatchObject({ status: 'pending', pending_reason: 'insufficient_funds' });
    await h.stripe.topups.create({ amount: 3000, currency: 'usd' });
    const events = await eventsAbout(h.stripe, waiting.id);
    expect(shape(events)).toEqual([
      ['refund.created', 'pending'],
      ['refund.updated', 'succeeded'],
      ['charge.refund.updated', 'succeeded'],
    ]);
    expect(events[1]?.data.previous_attributes).toMatchObject({ status: 'pending', pending_reason: 'insufficient_funds', balance_transaction: null });
  });
});

describe('events of authorisations released', () => {
  it('when a requires_capture PaymentIntent is canceled, then the release refund emits refund.created and charge.refunded, then payment_intent.canceled', async () => {
    const { paymentIntent, chargeId } = await createPayment(h.stripe, { amount: 7500, captureMethod: 'manual' });
    const before = (await allEvents(h.stripe)).length;
    await h.stripe.paymentIntents.cancel(paymentIntent.id, {}, { idempotencyKey: 'cancel-1' });
    const events = (await allEvents(h.stripe)).slice(before);
    expect(events.map((e) => e.type)).toEqual(['refund.created', 'charge.refunded', 'payment_intent.canceled']);
    expect(events[0]?.data.object).toMatchObject({ object: 'refund', charge: chargeId, amount: 7500, status: 'succeeded' });
    expect(events[1]?.data.object).toMatchObject({ id: chargeId, refunded: true, captured: false });
    expect(events[2]?.data.object).toMatchObject({ object: 'payment_intent', id: paymentIntent.id, status: 'canceled' });
    expect(events.every((e) => e.request?.idempotency_key === 'cancel-1')).toBe(true);
  });

  it('when a PaymentIntent without a charge is canceled, then only payment_intent.canceled is emitted', async () => {
    const pi = await h.stripe.paymentIntents.create({ amount: 1000, currency: 'usd', allowed_payment_method_types: ['card'] });
    await h.stripe.paymentIntents.cancel(pi.id);
    expect((await allEvents(h.stripe)).map((e) => e.type)).toEqual(['payment_intent.canceled']);
  });

  it('when a PaymentIntent is captured in part, then the released rest is a refund with refund.created and charge.refunded', async () => {
    const { paymentIntent, chargeId } = await createPayment(h.stripe, { amount: 5000, captureMethod: 'manual' });
    await h.stripe.paymentIntents.capture(paymentIntent.id, { amount_to_capture: 3000 });
    const events = await allEvents(h.stripe);
    expect(events.map((e) => e.type)).toEqual(['refund.created', 'charge.refunded']);
    expect(events[0]?.data.object).toMatchObject({ charge: chargeId, amount: 2000 });
    expect(events[1]?.data.object).toMatchObject({ amount_captured: 3000, amount_refunded: 2000 });
  });
});
