// Delivery faults: drop (lost), delay, duplicate and reorder, each counted by `times` and narrowed by event type and endpoint.
import type Stripe from 'stripe';
import { afterEach, describe, expect, it } from 'vitest';
import { createPayment, useEmulator } from '../helpers/emulator.js';
import { allEvents, flushWebhooks, injectWebhookFault, startWebhookReceiver, webhookDeliveries, type WebhookReceiver } from '../helpers/emulator-events.js';

const h = useEmulator({ maxNetworkRetries: 0 });

let receivers: WebhookReceiver[] = [];
afterEach(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  receivers = [];
});

async function subscribed(enabledEvents: Stripe.WebhookEndpointCreateParams.EnabledEvent[] = ['*']) {
  const receiver = await startWebhookReceiver();
  receivers.push(receiver);
  const endpoint = await h.stripe.webhookEndpoints.create({ url: receiver.url, enabled_events: enabledEvents });
  return { receiver, endpoint, secret: endpoint.secret ?? '' };
}

/** A refund and then `updates` metadata updates of it: refund.created, charge.refunded, then refund.updated + charge.refund.updated each. */
async function refundAndUpdate(updates = 0): Promise<Stripe.Refund> {
  const { chargeId } = await createPayment(h.stripe, { amount: 5000 });
  const refund = await h.stripe.refunds.create({ charge: chargeId, amount: 500 });
  for (let i = 0; i < updates; i += 1) await h.stripe.refunds.update(refund.id, { metadata: { step: String(i) } });
  return refund;
}

const ids = (r: WebhookReceiver) => r.received.map((x) => x.event.id);

describe('drop', () => {
  it('when a drop fault matches refund.created, then that delivery never arrives (dropped, never retried, still pending) and the rest do', async () => {
    const { receiver } = await subscribed();
    await injectWebhookFault(h.url, { kind: 'drop', event_type: 'refund.created' });
    await refundAndUpdate();
    await flushWebhooks(h.url);
    expect(receiver.types()).toEqual(['charge.refunded']);
    const deliveries = await webhookDeliveries(h.url);
    expect(deliveries.map((d) => [d.event_type, d.state, d.fault, d.attempts.length])).toEqual([
      ['refund.created', 'dropped', 'drop', 0],
      ['charge.refunded', 'succeeded', null, 1],
    ]);
    const [created] = await allEvents(h.stripe, { type: 'refund.created' });
    expect(created?.pending_webhooks).toBe(1);
  });

  it('when a drop fault has times: 2, then the next two deliveries are lost and the third arrives', async () => {
    const { receiver } = await subscribed(['refund.created']);
    await injectWebhookFault(h.url, { kind: 'drop', times: 2 });
    for (let i = 0; i < 3; i += 1) await refundAndUpdate();
    await flushWebhooks(h.url);
    const created = await allEvents(h.stripe, { type: 'refund.created' });
    expect(ids(receiver)).toEqual([created[2]?.id]);
    expect((await webhookDeliveries(h.url)).map((d) => d.state)).toEqual(['dropped', 'dropped', 'succeeded']);
  });

  it('when a fault names another endpoint, then only that endpoint loses the delivery', async () => {
    const a = await subscribed(['refund.created']);
    const b = await subscribed(['refund.created']);
    await injectWebhookFault(h.url, { kind: 'drop', endpoint: b.endpoint.id });
    await refundAndUpdate();
    await flushWebhooks(h.url);
    expect(a.receiver.types()).toEqual(['refund.created']);
    expect(b.receiver.received).toEqual([]);
  });
});

describe('delay', () => {
  it('when a delivery is delayed, then later events overtake it and it still arrives, once', async () => {
    const { receiver } = await subscribed();
    await injectWebhookFault(h.url, { kind: 'delay', delay_ms: 1000, event_type: 'refund.created' });
    await refundAndUpdate();
    await flushWebhooks(h.url);
    expect(receiver.types()).toEqual(['charge.refunded', 'refund.created']);
    expect((await webhookDeliveries(h.url, { event_type: 'refund.created' })).map((d) => [d.fault, d.state, d.attempts.length])).toEqual([['delay', 'succeeded', 1]]);
  });
});

describe('duplicate', () => {
  it('when a delivery is duplicated, then the same event arrives twice, both copies verify, and the event is not pending', async () => {
    const { receiver, secret } = await subscribed(['refund.created']);
    await injectWebhookFault(h.url, { kind: 'duplicate' });
    await refundAndUpdate();
    await flushWebhooks(h.url);
    expect(receiver.received).toHaveLength(2);
    expect(new Set(ids(receiver)).size).toBe(1);
    for (const hook of receiver.received) expect(h.stripe.webhooks.constructEvent(hook.body, hook.headers['stripe-signature'] ?? '', secret).id).toBe(ids(receiver)[0]);
    expect((await webhookDeliveries(h.url)).map((d) => [d.fault, d.duplicate, d.state])).toEqual([
      ['duplicate', false, 'succeeded'],
      ['duplicate', true, 'succeeded'],
    ]);
    expect((await h.stripe.events.retrieve(ids(receiver)[0] ?? '')).pending_webhooks).toBe(0);
  });
});

describe('reorder', () => {
  it('when a reorder fault holds 3 refund events, then they arrive newest first once the third exists, while other events pass', async () => {
    const { receiver } = await subscribed();
    await injectWebhookFault(h.url, { kind: 'reorder', times: 3, event_type: 'refund.*' });
    await refundAndUpdate(2);
    await flushWebhooks(h.url);
    const made = (await allEvents(h.stripe, { type: 'refund.*' })).map((e) => e.id);
    expect(made).toHaveLength(3);
    const arrived = receiver.received.filter((x) => x.event.type.startsWith('refund.')).map((x) => x.event.id);
    expect(arrived).toEqual([...made].reverse());
    expect(receiver.types().filter((t) => !t.startsWith('refund.'))).toEqual(['charge.refunded', 'charge.refund.updated', 'charge.refund.updated']);
  });

  it('when fewer deliveries come than the batch holds, then a flush sends what is held, newest first', async () => {
    const { receiver } = await subscribed(['refund.created', 'refund.updated']);
    await injectWebhookFault(h.url, { kind: 'reorder', times: 5 });
    await refundAndUpdate(1);
    expect((await webhookDeliveries(h.url)).map((d) => d.state)).toEqual(['held', 'held']);
    expect(receiver.received).toEqual([]);
    await flushWebhooks(h.url);
    expect(receiver.types()).toEqual(['refund.updated', 'refund.created']);
  });
});

describe('fault specs', () => {
  it('when a spec is incomplete or contradictory, then the control API answers 400 and arms nothing', async () => {
    for (const spec of [{ kind: 'delay' }, { kind: 'drop', delay_ms: 10 }, { kind: 'reorder', times: 1 }, { kind: 'explode' }, { kind: 'drop', colour: 'red' }]) {
      await expect(injectWebhookFault(h.url, spec as never)).rejects.toThrow(/→ 400/);
    }
    const res = await fetch(`${h.url}/_emulator/webhooks/faults`);
    expect(((await res.json()) as { data: unknown[] }).data).toEqual([]);
  });
});
