// Webhook endpoints and signed deliveries: Stripe's endpoint API, signatures the SDK verifies, async delivery, retries, on/off, configured endpoints.
import Stripe from 'stripe';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createPayment, fail, resetEmulator, startEmulatorWithClient, useEmulator } from '../helpers/emulator.js';
import { addWebhookEndpoint, allEvents, flushWebhooks, startWebhookReceiver, updateSettings, webhookDeliveries, type Answer, type WebhookReceiver } from '../helpers/emulator-events.js';

const h = useEmulator({ maxNetworkRetries: 0 });

let receivers: WebhookReceiver[] = [];
afterEach(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  receivers = [];
});

async function receiver(answer?: Answer): Promise<WebhookReceiver> {
  const r = await startWebhookReceiver(answer);
  receivers.push(r);
  return r;
}

/** A receiver and an endpoint for it made through Stripe's API; returns the endpoint's secret too. */
async function subscribed(enabledEvents: Stripe.WebhookEndpointCreateParams.EnabledEvent[] = ['*'], answer?: Answer) {
  const r = await receiver(answer);
  const endpoint = await h.stripe.webhookEndpoints.create({ url: r.url, enabled_events: enabledEvents });
  return { receiver: r, endpoint, secret: endpoint.secret ?? '' };
}

const refundSomething = async (stripe: Stripe = h.stripe) => {
  const { chargeId } = await createPayment(stripe, { amount: 5000 });
  return stripe.refunds.create({ charge: chargeId, amount: 500 });
};

describe('webhook endpoints API', () => {
  it('when an endpoint is created, then it answers Stripe\'s webhook_endpoint with a whsec_ secret shown only then', async () => {
    const endpoint = await h.stripe.webhookEndpoints.create({ url: 'https://example.com/hook', enabled_events: ['refund.created', 'charge.refunded'], description: 'gateway', metadata: { team: 'pay' } });
    expect(endpoint).toMatchObject({ object: 'webhook_endpoint', url: 'https://example.com/hook', enabled_events: ['refund.created', 'charge.refunded'], status: 'enabled', livemode: false, description: 'gateway', metadata: { team: 'pay' }, api_version: null, application: null });
    expect(endpoint.id).toMatch(/^we_[A-Za-z0-9]{24}$/);
    expect(endpoint.secret).toMatch(/^whsec_[A-Za-z0-9]{32}$/);
    const again = await h.stripe.webhookEndpoints.retrieve(endpoint.id);
    expect(again).not.toHaveProperty('secret');
    expect((await h.stripe.webhookEndpoints.list()).data.map((e) => [e.id, 'secret' in e])).toEqual([[endpoint.id, false]]);
  });

  it('when an endpoint is disabled, updated and deleted, then each answer says so and a deleted one is 404', async () => {
    const endpoint = await h.stripe.webhookEndpoints.create({ url: 'https://example.com/a', enabled_events: ['*'] });
    expect(await h.stripe.webhookEndpoints.update(endpoint.id, { disabled: true, url: 'https://example.com/b', enabled_events: ['refund.failed'] })).toMatchObject({ status: 'disabled', url: 'https://example.com/b', enabled_events: ['refund.failed'] });
    const deleted = await h.stripe.webhookEndpoints.del(endpoint.id);
    expect(deleted).toMatchObject({ id: endpoint.id, object: 'webhook_endpoint', deleted: true });
    expect(await fail(h.stripe.webhookEndpoints.retrieve(endpoint.id))).toMatchObject({ statusCode: 404, code: 'resource_missing' });
    expect((await h.stripe.webhookEndpoints.list()).data).toEqual([]);
  });

  it('when url or enabled_events is missing, the url is not http(s), or a parameter is unknown, then 400 names the parameter', async () => {
    const create = (params: Record<string, unknown>) => fail(h.stripe.webhookEndpoints.create(params as unknown as Stripe.WebhookEndpointCreateParams));
    expect(await create({ enabled_events: ['*'] })).toMatchObject({ statusCode: 400, code: 'parameter_missing', param: 'url' });
    expect(await create({ url: 'https://example.com' })).toMatchObject({ statusCode: 400, code: 'parameter_missing', param: 'enabled_events' });
    expect(await create({ url: 'ftp://example.com', enabled_events: ['*'] })).toMatchObject({ statusCode: 400, param: 'url' });
    expect(await create({ url: 'https://example.com', enabled_events: ['Refund Created'] })).toMatchObject({ statusCode: 400, param: 'enabled_events[0]' });
    // Stripe takes `*` or event names: no group wildcards.
    expect(await create({ url: 'https://example.com', enabled_events: ['refund.created', 'refund.*'] })).toMatchObject({ statusCode: 400, param: 'enabled_events[1]' });
    expect(await create({ url: 'https://example.com', enabled_events: ['*'], colour: 'red' })).toMatchObject({ statusCode: 400, code: 'parameter_unknown', param: 'colour' });
  });
});

describe('signed deliveries', () => {
  it('when a refund is made, then each of its events is POSTed as Stripe does and stripe.webhooks.constructEvent verifies it with the endpoint secret', async () => {
    const { receiver: r, secret, endpoint } = await subscribed();
    await refundSomething();
    await flushWebhooks(h.url);
    expect(r.types()).toEqual(['refund.created', 'charge.refunded']);
    const listed = await allEvents(h.stripe);
    for (const [i, hook] of r.received.entries()) {
      expect(hook.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(hook.headers['user-agent']).toBe('Stripe/1.0 (+https://stripe.com/docs/webhooks)');
      expect(hook.headers['stripe-signature']).toMatch(/^t=\d{10},v1=[0-9a-f]{64}$/);
      const verified = h.stripe.webhooks.constructEvent(hook.body, hook.headers['stripe-signature'] ?? '', secret);
      expect(verified.id).toBe(listed[i]?.id);
      expect(verified.data).toEqual(listed[i]?.data);
    }
    const deliveries = await webhookDeliveries(h.url, { endpoint_id: endpoint.id });
    expect(deliveries.map((d) => [d.event_type, d.state, d.attempts.map((a) => a.status)])).toEqual([
      ['refund.created', 'succeeded', [200]],
      ['charge.refunded', 'succeeded', [200]],
    ]);
    expect(JSON.stringify(deliveries)).not.toContain(secret);
    // Delivered: nothing pending any more, as the event itself now says.
    expect((await h.stripe.events.retrieve(listed[0]?.id ?? '')).pending_webhooks).toBe(0);
  });

  it('when the body is tampered with, or checked with another secret, then constructEvent refuses it', async () => {
    const { receiver: r, secret } = await subscribed(['refund.created']);
    await refundSomething();
    await flushWebhooks(h.url);
    const [hook] = r.received;
    const header = hook?.headers['stripe-signature'] ?? '';
    const tampered = (hook?.body ?? '').replace('"amount": 500', '"amount": 50000');
    expect(tampered).not.toBe(hook?.body);
    expect(() => h.stripe.webhooks.constructEvent(tampered, header, secret)).toThrow(Stripe.errors.StripeSignatureVerificationError);
    expect(() => h.stripe.webhooks.constructEvent(hook?.body ?? '', header, 'whsec_someoneElsesSecret0000000000')).toThrow(Stripe.errors.StripeSignatureVerificationError);
    expect(h.stripe.webhooks.constructEvent(hook?.body ?? '', header, secret).type).toBe('refund.created');
  });

  it('when the receiver has not answered yet, then the API answer is not held up and the event counts one pending webhook until it does', async () => {
    let release: (status: number) => void = () => undefined;
    const held = new Promise<number>((resolve) => (release = resolve));
    const { receiver: r } = await subscribed(['refund.created'], () => held);
    const refund = await refundSomething();
    expect(refund.status).toBe('succeeded');
    await vi.waitFor(() => expect(r.received).toHaveLength(1), { timeout: 5000, interval: 20 });
    const [event] = await allEvents(h.stripe, { type: 'refund.created' });
    expect(event?.pending_webhooks).toBe(1);
    expect((await h.stripe.events.list({ delivery_success: false })).data.map((e) => e.id)).toEqual([event?.id]);
    release(200);
    await flushWebhooks(h.url);
    expect((await h.stripe.events.retrieve(event?.id ?? '')).pending_webhooks).toBe(0);
    expect((await h.stripe.events.list({ delivery_success: true, type: 'refund.created' })).data.map((e) => e.id)).toEqual([event?.id]);
  });

  it('when endpoints ask for some events only, then each gets what it asked for', async () => {
    const only = await subscribed(['charge.refunded']);
    const group = await subscribed(['refund.created', 'refund.updated']);
    const { chargeId } = await createPayment(h.stripe, { amount: 5000 });
    const refund = await h.stripe.refunds.create({ charge: chargeId, amount: 100 });
    await h.stripe.refunds.update(refund.id, { metadata: { a: 'b' } });
    await flushWebhooks(h.url);
    expect(only.receiver.types()).toEqual(['charge.refunded']);
    expect(group.receiver.types()).toEqual(['refund.created', 'refund.updated']);
  });
});

describe('retries', () => {
  it('when the receiver answers 500 first, then the delivery is retried with a fresh signature and succeeds', async () => {
    await updateSettings(h.url, { webhook_delivery: { retry_base_ms: 20 } });
    const { receiver: r, secret } = await subscribed(['refund.created'], (n) => (n === 0 ? 500 : 200));
    await refundSomething();
    await flushWebhooks(h.url);
    expect(r.received.map((x) => x.event.id)).toEqual([r.received[0]?.event.id, r.received[0]?.event.id]);
    for (const hook of r.received) expect(h.stripe.webhooks.constructEvent(hook.body, hook.headers['stripe-signature'] ?? '', secret).type).toBe('refund.created');
    const [delivery] = await webhookDeliveries(h.url);
    expect(delivery).toMatchObject({ state: 'succeeded', next_attempt_at: null });
    expect(delivery?.attempts.map((a) => [a.attempt, a.status, a.error])).toEqual([
      [1, 500, null],
      [2, 200, null],
    ]);
  });

  it('when the receiver does not answer in time, then the attempt counts as a timeout and is retried', async () => {
    await updateSettings(h.url, { webhook_delivery: { retry_base_ms: 20, timeout_ms: 200 } });
    const never = new Promise<number>(() => undefined);
    const { receiver: r } = await subscribed(['refund.created'], (n) => (n === 0 ? never : 200));
    await refundSomething();
    await flushWebhooks(h.url);
    expect(r.received).toHaveLength(2);
    const [delivery] = await webhookDeliveries(h.url);
    expect(delivery?.attempts.map((a) => [a.status, a.error])).toEqual([
      [null, 'timeout'],
      [200, null],
    ]);
  });

  it('when the receiver keeps failing, then the delivery gives up after max_attempts, and the event stays pending (delivery_success=false)', async () => {
    await updateSettings(h.url, { webhook_delivery: { retry_base_ms: 10, max_attempts: 3 } });
    const { receiver: r } = await subscribed(['refund.created'], () => 503);
    await refundSomething();
    await flushWebhooks(h.url);
    expect(r.received).toHaveLength(3);
    const [delivery] = await webhookDeliveries(h.url);
    expect(delivery).toMatchObject({ state: 'failed' });
    expect(delivery?.attempts.map((a) => a.status)).toEqual([503, 503, 503]);
    const [event] = await allEvents(h.stripe, { type: 'refund.created' });
    expect(event?.pending_webhooks).toBe(1);
    expect((await h.stripe.events.list({ delivery_success: false })).data.map((e) => e.id)).toEqual([event?.id]);
  });

  it('when nothing listens at the url, then the refused connections are retried and logged', async () => {
    await updateSettings(h.url, { webhook_delivery: { retry_base_ms: 10, max_attempts: 2 } });
    const gone = await startWebhookReceiver();
    await gone.close();
    await h.stripe.webhookEndpoints.create({ url: gone.url, enabled_events: ['refund.created'] });
    await refundSomething();
    await flushWebhooks(h.url);
    const [delivery] = await webhookDeliveries(h.url);
    expect(delivery?.attempts.map((a) => [a.status, a.error])).toEqual([
      [null, 'ECONNREFUSED'],
      [null, 'ECONNREFUSED'],
    ]);
  });
});

describe('switching deliveries', () => {
  it('when webhooks are switched off, then new events reach no endpoint (they are still listed); switched on, new events are delivered again', async () => {
    const { receiver: r } = await subscribed(['refund.created']);
    expect(await updateSettings(h.url, { webhooks: false })).toMatchObject({ webhooks: false });
    const quiet = await refundSomething();
    await flushWebhooks(h.url);
    expect(r.received).toEqual([]);
    expect(await webhookDeliveries(h.url)).toEqual([]);
    expect((await allEvents(h.stripe, { type: 'refund.created' })).map((e) => (e.data.object as Stripe.Refund).id)).toEqual([quiet.id]);
    await updateSettings(h.url, { webhooks: true });
    const heard = await refundSomething();
    await flushWebhooks(h.url);
    expect(r.received.map((x) => (x.event.data.object as Stripe.Refund).id)).toEqual([heard.id]);
  });

  it('when an endpoint is disabled, then it receives nothing while others still do', async () => {
    const off = await subscribed(['refund.created']);
    const on = await subscribed(['refund.created']);
    await h.stripe.webhookEndpoints.update(off.endpoint.id, { disabled: true });
    await refundSomething();
    await flushWebhooks(h.url);
    expect(off.receiver.received).toEqual([]);
    expect(on.receiver.types()).toEqual(['refund.created']);
  });
});

describe('endpoints configured at start', () => {
  it('when started seeded with webhooks: [{url, secret}], then the seeded refunds\' events are delivered signed with that secret, re_DemoRefundFails\' failure included', async () => {
    const r = await receiver();
    const secret = 'whsec_sandboxGatewaySecret000000000000';
    const seeded = await startEmulatorWithClient({ seed: true, webhooks: [{ url: r.url, secret }], maxNetworkRetries: 0 });
    try {
      await flushWebhooks(seeded.url);
      for (const hook of r.received) seeded.stripe.webhooks.constructEvent(hook.body, hook.headers['stripe-signature'] ?? '', secret);
      const about = (id: string) => r.received.filter((x) => (x.event.data.object as { id?: string }).id === id).map((x) => x.event.type);
      expect(about('re_DemoPartlyRefunded')).toEqual(['refund.created']);
      expect(about('re_DemoRefundFails')).toEqual(['refund.created', 'refund.updated', 'refund.failed', 'charge.refund.updated']);
      expect(about('pi_DemoCanceled')).toEqual(['payment_intent.canceled']);
      expect(r.received).toHaveLength((await allEvents(seeded.stripe)).length);
    } finally {
      await seeded.close();
    }
  });

  it('when the emulator is reset, then a configured endpoint is still there and one made through the API is gone', async () => {
    const r = await receiver();
    const configured = await startEmulatorWithClient({ webhooks: [{ url: r.url, secret: 'whsec_kept', enabledEvents: ['refund.created'] }], maxNetworkRetries: 0 });
    try {
      await configured.stripe.webhookEndpoints.create({ url: 'https://example.com/gone', enabled_events: ['*'] });
      await resetEmulator(configured.url);
      expect((await configured.stripe.webhookEndpoints.list()).data.map((e) => [e.url, e.enabled_events])).toEqual([[r.url, ['refund.created']]]);
      await refundSomething(configured.stripe);
      await flushWebhooks(configured.url);
      expect(r.types()).toEqual(['refund.created']);
    } finally {
      await configured.close();
    }
  });

  it('when an endpoint is added through the control API with backfill, then it also receives the events made before it, oldest first', async () => {
    const earlier = await refundSomething();
    const r = await receiver();
    const endpoint = await addWebhookEndpoint(h.url, { url: r.url, secret: 'whsec_chosen', enabled_events: ['refund.created'], backfill: true });
    expect(endpoint).toMatchObject({ object: 'webhook_endpoint', secret: 'whsec_chosen', enabled_events: ['refund.created'] });
    await flushWebhooks(h.url);
    const later = await refundSomething();
    await flushWebhooks(h.url);
    expect(r.received.map((x) => (x.event.data.object as Stripe.Refund).id)).toEqual([earlier.id, later.id]);
  });
});
