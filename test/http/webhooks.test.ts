// Stripe's webhooks in, on the emulator's real signed deliveries: verified, applied once, in any order, changing nothing when forged.
import Stripe from 'stripe';
import { afterEach, describe, expect, it } from 'vitest';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/emulator-events.js';
import { API_KEYS, auth, createPayment, KEYS } from '../helpers/gateway.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { newWebhookSecret, startListeningGateway, type ListeningGateway, type ListeningGatewayOptions } from '../helpers/webhook-gateway.js';

const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((o) => o.close()));
});

const start = async (options: ListeningGatewayOptions = {}): Promise<ListeningGateway> => {
  const gw = await startListeningGateway(options);
  opened.push(gw);
  return gw;
};

const refundThroughGateway = (gw: ListeningGateway, key: string, body: object) =>
  gw.http.post('/v1/refunds').set(auth()).set('idempotency-key', key).send(body);

const flush = (gw: ListeningGateway) => gw.emulator.control.flushWebhooks(10_000);

/** What the emulator's delivery log says the gateway answered, per event type, in delivery order. */
const answers = (gw: ListeningGateway, eventType?: string) =>
  gw.emulator.control
    .webhookDeliveries(eventType === undefined ? {} : { event_type: eventType })
    .flatMap((d) => d.attempts.map((a) => ({ type: d.event_type, status: a.status })));

const storedEventIds = async (gw: ListeningGateway, ids: string[]) =>
  (await Promise.all(ids.map(async (id) => ((await gw.ledger.hasStripeEvent(id)) ? [id] : [])))).flat();

describe('POST /v1/webhooks/stripe with the emulator delivering', () => {
  it('when a pending refund succeeds at Stripe, then the signed refund.updated moves the index without anyone reading the refund', async () => {
    const gw = await start();
    const p = await createPayment(gw.stripe, { amount: 5_000, paymentMethod: 'pm_card_pendingRefund' });
    const made = await refundThroughGateway(gw, 'pending-1', { payment_intent: p.intent, amount: 1_000 });
    expect(made.body.status).toBe('pending');

    // Ten minutes of emulator clock: the refund succeeds, and Stripe says so by webhook.
    gw.emulator.control.advanceClock(600);
    await flush(gw);

    expect(await gw.ledger.getIndexedRefund(made.body.id)).toMatchObject({ status: 'succeeded', requestedBy: 'billing' });
    expect(answers(gw, 'refund.updated')).toEqual([{ type: 'refund.updated', status: 200 }]);
    const refundRequests = gw.emulator.control.requests({ method: 'GET', path: `/v1/refunds/${made.body.id}` });
    expect(refundRequests).toEqual([]);
  });

  it('when a refund is made in the Dashboard (no gateway metadata), then it is indexed with requested_by null and listed', async () => {
    const gw = await start();
    const p = await createPayment(gw.stripe, { amount: 5_000 });
    const dashboard = await gw.stripe.refunds.create({ payment_intent: p.intent, amount: 700, metadata: { note: 'by hand' } });

    await flush(gw);

    const list = await gw.http.get('/v1/refunds').set(auth());
    expect(list.body.data).toEqual([
      expect.objectContaining({ id: dashboard.id, amount: 700, status: 'succeeded', requested_by: null, metadata: { note: 'by hand' } }),
    ]);
    expect(answers(gw)).toEqual(expect.arrayContaining([{ type: 'refund.created', status: 200 }, { type: 'charge.refunded', status: 200 }]));
  });

  it('when a refund the gateway made fails later (pm_card_refundFail), then lists say failed and a listening caller is told succeeded → failed', async () => {
    const receiver: Receiver = await startReceiver();
    opened.push(receiver);
    const apiKeys = API_KEYS.map((entry) => (entry.id === 'billing' ? { ...entry, events: { url: receiver.url, secret: receiver.secret } } : entry));
    const gw = await start({ env: { API_KEYS: JSON.stringify(apiKeys) } });
    const p = await createPayment(gw.stripe, { amount: 3_000, paymentMethod: 'pm_card_refundFail' });
    const made = await refundThroughGateway(gw, 'fails-1', { payment_intent: p.intent, amount: 1_000 });
    expect(made.body.status).toBe('succeeded');

    await flush(gw);

    const failed = await gw.http.get('/v1/refunds?status=failed').set(auth());
    expect(failed.body.data).toEqual([expect.objectContaining({ id: made.body.id, status: 'failed', failure_reason: 'expired_or_canceled_card' })]);
    expect((await gw.http.get('/v1/refunds?status=succeeded').set(auth())).body.data).toEqual([]);
    await expect.poll(() => receiver.received.map((e) => [e.type, e.data.object.status, e.data.previous_status])).toEqual([
      ['refund.created', 'succeeded', null],
      ['refund.updated', 'failed', 'succeeded'],
    ]);
  });

  it('when Stripe delivers the same event twice (duplicate fault), then both are acknowledged and it is applied once', async () => {
    const gw = await start();
    gw.emulator.control.injectWebhookFault({ kind: 'duplicate', event_type: 'refund.created' });
    const p = await createPayment(gw.stripe, { amount: 5_000 });
    const dashboard = await gw.stripe.refunds.create({ payment_intent: p.intent, amount: 500 });

    await flush(gw);

    expect(answers(gw, 'refund.created')).toEqual([
      { type: 'refund.created', status: 200 },
      { type: 'refund.created', status: 200 },
    ]);
    const told = await gw.ledger.listEvents({ caller: 'nobody', all: true, limit: 10 });
    expect(told.data.map((e) => [e.type, e.objectId])).toEqual([['refund.created', dashboard.id]]);
    expect(await gw.metricLines('gateway_stripe_events_total')).toEqual(
      expect.arrayContaining([
        'gateway_stripe_events_total{source="webhook",outcome="recorded"} 2',
        'gateway_stripe_events_total{source="webhook",outcome="duplicate"} 1',
      ]),
    );
  });

  it('when a failing refund’s events arrive newest first (reorder fault), then the index ends failed, as Stripe did', async () => {
    const gw = await start();
    // refund.created and charge.refunded, then refund.updated, refund.failed and charge.refund.updated: held, then sent reversed.
    gw.emulator.control.injectWebhookFault({ kind: 'reorder', times: 5 });
    const p = await createPayment(gw.stripe, { amount: 3_000, paymentMethod: 'pm_card_refundFail' });
    const dashboard = await gw.stripe.refunds.create({ payment_intent: p.intent, amount: 1_000 });

    await flush(gw);

    // The log lists deliveries as the events were made; the attempts' times say they went out reversed, one after another.
    const sent = new Map(gw.emulator.control.webhookDeliveries().map((d) => [d.event_type, d.attempts[0]?.at ?? NaN]));
    expect([...sent.keys()]).toEqual(['refund.created', 'charge.refunded', 'refund.updated', 'refund.failed', 'charge.refund.updated']);
    expect(Math.min(...sent.values())).toBe(sent.get('charge.refund.updated'));
    expect(Math.max(...sent.values())).toBe(sent.get('refund.created'));
    expect(answers(gw).every((a) => a.status === 200)).toBe(true);
    expect(await gw.ledger.getIndexedRefund(dashboard.id)).toMatchObject({ status: 'failed', failureReason: 'expired_or_canceled_card', requestedBy: null });
  });

  it('when an event is not about refunds (payment_intent.canceled), then it is acknowledged and nothing is stored', async () => {
    const gw = await start();
    const p = await createPayment(gw.stripe, { amount: 2_000, paymentMethod: 'pm_card_authenticationRequired' });
    expect((await gw.http.post(`/v1/payment-intents/${p.intent}/cancel`).set(auth(KEYS.billing))).status).toBe(200);

    await flush(gw);

    const [canceled] = gw.emulator.control.webhookDeliveries({ event_type: 'payment_intent.canceled' });
    expect(canceled?.attempts.map((a) => a.status)).toEqual([200]);
    expect(await gw.ledger.hasStripeEvent(canceled?.event_id ?? '')).toBe(false);
    expect(await gw.metricLines('gateway_stripe_events_total')).toEqual(['gateway_stripe_events_total{source="webhook",outcome="ignored"} 1']);
  });

  it('when the endpoint signs with another secret, then every delivery is 400 invalid_signature and nothing is stored', async () => {
    const gw = await start({ endpointSecret: newWebhookSecret() });
    const p = await createPayment(gw.stripe, { amount: 5_000 });
    await gw.stripe.refunds.create({ payment_intent: p.intent, amount: 500 });

    await flush(gw);

    const deliveries = gw.emulator.control.webhookDeliveries();
    expect(deliveries.length).toBeGreaterThan(0);
    expect(deliveries.flatMap((d) => d.attempts.map((a) => a.status)).every((s) => s === 400)).toBe(true);
    expect(await storedEventIds(gw, deliveries.map((d) => d.event_id))).toEqual([]);
    expect((await gw.ledger.listIndexedRefunds({ limit: 10 })).data).toEqual([]);
  });
});

describe('POST /v1/webhooks/stripe with deliveries captured and sent again by hand', () => {
  /** A real signed delivery: the emulator sends it to a local receiver with the gateway's secret. */
  async function capture(gw: ListeningGateway): Promise<WebhookReceiver['received'][number]> {
    const receiver = await startWebhookReceiver();
    opened.push(receiver);
    gw.emulator.control.addWebhookEndpoint({ url: receiver.url, secret: gw.secret ?? '', enabledEvents: ['refund.created'] });
    const p = await createPayment(gw.stripe, { amount: 5_000 });
    await gw.stripe.refunds.create({ payment_intent: p.intent, amount: 300 });
    await flush(gw);
    const [delivery] = receiver.received;
    if (!delivery) throw new Error('the receiver got no delivery');
    return delivery;
  }

  const post = (gw: ListeningGateway, body: string, signature?: string, contentType = 'application/json; charset=utf-8') => {
    const request = gw.http.post('/v1/webhooks/stripe').set('content-type', contentType);
    return (signature === undefined ? request : request.set('stripe-signature', signature)).send(body);
  };

  it('when a captured delivery is sent again unchanged, then it verifies and is a duplicate; with one byte changed, it is 400 invalid_signature', async () => {
    const gw = await start({ endpointSecret: false });
    const delivery = await capture(gw);
    const signature = String(delivery.headers['stripe-signature']);

    const again = await post(gw, delivery.body, signature);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ received: true, id: delivery.event.id, type: 'refund.created', outcome: 'recorded' });
    expect((await post(gw, delivery.body, signature)).body.outcome).toBe('duplicate');

    const tampered = delivery.body.replace('"amount": 300', '"amount": 30000');
    expect(tampered).not.toBe(delivery.body);
    const forged = await post(gw, tampered, signature);
    expect(forged.status).toBe(400);
    expect(forged.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(forged.body).toMatchObject({ status: 400, code: 'invalid_signature' });
    expect((await gw.ledger.listIndexedRefunds({ limit: 10 })).data.map((r) => r.amount)).toEqual([300]);
  });

  it('when the signature is older than 5 minutes, then it is 400 invalid_signature and nothing is stored', async () => {
    const gw = await start({ endpointSecret: false });
    const delivery = await capture(gw);
    const stale = Stripe.webhooks.generateTestHeaderString({
      payload: delivery.body,
      secret: gw.secret ?? '',
      timestamp: Math.floor(Date.now() / 1000) - 301,
    });

    const res = await post(gw, delivery.body, stale);

    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'invalid_signature', detail: expect.stringContaining('5 minutes') });
    expect(await gw.ledger.hasStripeEvent(delivery.event.id)).toBe(false);
  });

  it('when the signature header is missing, then it is 400 invalid_signature', async () => {
    const gw = await start({ endpointSecret: false });
    const delivery = await capture(gw);

    const res = await post(gw, delivery.body);

    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'invalid_signature', detail: expect.stringContaining('missing') });
    expect(await gw.ledger.hasStripeEvent(delivery.event.id)).toBe(false);
  });

  it('when the gateway has no STRIPE_WEBHOOK_SECRET, then even a correctly signed delivery is 503 webhooks_not_configured', async () => {
    const gw = await start({ secret: null, endpointSecret: false });
    const secret = newWebhookSecret();
    const body = JSON.stringify({ id: 'evt_1', object: 'event', type: 'refund.created', created: 1, data: { object: { id: 're_1', object: 'refund' } } });

    const res = await post(gw, body, Stripe.webhooks.generateTestHeaderString({ payload: body, secret }));

    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ status: 503, code: 'webhooks_not_configured' });
  });

  it('when the body is not JSON-typed, or over BODY_LIMIT_BYTES, then it is 415 or 413 before any signature is looked at', async () => {
    const gw = await start({ endpointSecret: false, env: { BODY_LIMIT_BYTES: '2048' } });

    expect((await post(gw, 'a=1', 't=1,v1=00', 'application/x-www-form-urlencoded')).body).toMatchObject({ status: 415, code: 'unsupported_media_type' });
    expect((await post(gw, JSON.stringify({ pad: 'x'.repeat(3000) }), 't=1,v1=00')).body).toMatchObject({ status: 413, code: 'payload_too_large' });
  });

  it('when the other routes get JSON, then they still parse it as before (the raw parser is the webhook route’s alone)', async () => {
    const gw = await start({ endpointSecret: false });
    const p = await createPayment(gw.stripe, { amount: 5_000 });

    const res = await refundThroughGateway(gw, 'json-1', { payment_intent: p.intent, amount: 100 });

    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ amount: 100, requested_by: 'billing' });
  });
});
