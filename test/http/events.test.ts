// Events to callers end to end: signed pushes (Standard Webhooks), retries, restarts, and the pull feed.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import type { Ledger } from '../../src/refunds/ledger.js';
import { API_KEYS, auth, createPayment, KEYS, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { newTestLedger } from '../helpers/ledger.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

const AUDITOR_KEY = 'auditor-key-0123456789abcdef';

let emulator: RunningEmulator;
let receiver: Receiver;
let auditor: Receiver;
let ledger: Ledger;
const gateways: TestGateway[] = [];

/** billing listens for its own refunds, auditor for every refund; shop does not listen. */
const apiKeys = () =>
  JSON.stringify([
    ...API_KEYS.map((entry) => (entry.id === 'billing' ? { ...entry, events: { url: receiver.url, secret: receiver.secret } } : entry)),
    { id: 'auditor', key: AUDITOR_KEY, scopes: ['refunds:read'], events: { url: auditor.url, secret: auditor.secret, all: true } },
  ]);

const start = async (): Promise<TestGateway> => {
  const gateway = await startTestGateway({ emulator, ledger, env: { API_KEYS: apiKeys() } });
  gateways.push(gateway);
  return gateway;
};

beforeEach(async () => {
  emulator = await startEmulator({ port: 0 });
  [receiver, auditor] = await Promise.all([startReceiver(), startReceiver()]);
  ledger = await newTestLedger();
});
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.close()));
  await Promise.all([receiver.close(), auditor.close(), emulator.close()]);
  await ledger.close();
});

const refund = (gw: TestGateway, key: string, body: object, apiKey: string = KEYS.billing) =>
  gw.http.post('/v1/refunds').set(auth(apiKey)).set('idempotency-key', key).send(body);

describe('events pushed to callers', () => {
  it('when a caller refunds, then its receiver gets refund.created signed by the Standard Webhooks scheme, and a listen-to-all caller gets it too', async () => {
    const gw = await start();
    const p = await createPayment(gw.stripe, { amount: 5_000 });
    const made = await refund(gw, 'ev-1', { payment_intent: p.intent, amount: 1_200, metadata: { order: '7' } });
    expect(made.status).toBe(201);

    await expect.poll(() => receiver.received.length).toBe(1);
    await expect.poll(() => auditor.received.length).toBe(1);
    const [event] = receiver.received;
    expect(event).toMatchObject({ type: 'refund.created', sequence: 1, data: { object: made.body, previous_status: null } });
    expect(event?.id).toMatch(/^evt_/);
    expect(auditor.received[0]).toEqual(event);
    expect(receiver.forged + auditor.forged).toBe(0);
  });

  it('when another caller refunds, then a caller that listens only to its own refunds hears nothing of it', async () => {
    const gw = await start();
    const p = await createPayment(gw.stripe, { amount: 5_000 });
    expect((await refund(gw, 'shop-1', { payment_intent: p.intent, amount: 300 }, KEYS.shop)).status).toBe(201);

    await expect.poll(() => auditor.received.length).toBe(1);
    expect(receiver.received).toEqual([]);
  });

  it('when the receiver fails (5xx, a cut connection), then the event is retried with backoff until it is delivered', async () => {
    const gw = await start();
    receiver.failNext(1, 503);
    receiver.failNext(1, 'drop');
    const p = await createPayment(gw.stripe, { amount: 5_000 });
    await refund(gw, 'retry-1', { payment_intent: p.intent, amount: 400 });

    // 1 s, then 2 s of backoff.
    await expect.poll(() => receiver.received.length, { timeout: 10_000, interval: 200 }).toBe(1);
    const metrics = (await gw.http.get('/metrics')).text;
    expect(metrics).toMatch(/gateway_event_delivery_attempts_total\{caller="billing",type="refund.created",result="retry"\} 2/);
    expect(metrics).toMatch(/gateway_event_delivery_attempts_total\{caller="billing",type="refund.created",result="delivered"\} 1/);
  }, 20_000);

  it('when a refund changes later, then refund.updated comes with the previous status and the next sequence', async () => {
    const gw = await start();
    const p = await createPayment(gw.stripe, { amount: 5_000, paymentMethod: 'pm_card_pendingRefund' });
    const made = await refund(gw, 'pending-1', { payment_intent: p.intent, amount: 500 });
    expect(made.body.status).toBe('pending');
    emulator.control.advanceClock(11 * 60);
    expect((await gw.http.get(`/v1/refunds/${made.body.id}`).set(auth())).body.status).toBe('succeeded');

    await expect.poll(() => receiver.received.length).toBe(2);
    expect(receiver.received.map((e) => [e.type, e.sequence, e.data.previous_status, e.data.object.status])).toEqual([
      ['refund.created', 1, null, 'pending'],
      ['refund.updated', 2, 'pending', 'succeeded'],
    ]);
  });

  it('when the gateway stops with events undelivered, then the next gateway on the ledger delivers them', async () => {
    const first = await start();
    await receiver.close();
    const p = await createPayment(first.stripe, { amount: 5_000 });
    await refund(first, 'restart-1', { payment_intent: p.intent, amount: 600 });
    await first.close();
    gateways.splice(gateways.indexOf(first), 1);

    receiver = await startReceiverAt(receiver.url, receiver.secret);
    await start();
    await expect.poll(() => receiver.received.length, { timeout: 15_000, interval: 200 }).toBe(1);
    expect(receiver.received[0]?.type).toBe('refund.created');
  }, 20_000);

  it('when a receiver hangs, then refunds are answered all the same (delivery is off the request path)', async () => {
    const hanging = await import('node:http').then(({ createServer }) => createServer(() => undefined));
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(hanging.address() as { port: number }).port}/`;
      const gw = await startTestGateway({
        emulator,
        ledger,
        env: { API_KEYS: JSON.stringify(API_KEYS.map((e) => (e.id === 'billing' ? { ...e, events: { url, secret: receiver.secret } } : e))) },
      });
      gateways.push(gw);
      const p = await createPayment(gw.stripe, { amount: 5_000 });
      for (let i = 0; i < 5; i += 1) expect((await refund(gw, `hang-${i}`, { payment_intent: p.intent, amount: 100 })).status).toBe(201);
      // Every refund answered while the deliveries hang, waiting for their receiver.
      await expect.poll(async () => (await ledger.deliveryBacklog(new Date())).pending).toBe(5);
    } finally {
      hanging.closeAllConnections();
      hanging.close();
    }
  });
});

describe('GET /v1/events, the pull feed', () => {
  it('when a caller pages through its events, then it sees its own, oldest first, and never another caller’s', async () => {
    const gw = await start();
    const p = await createPayment(gw.stripe, { amount: 9_000 });
    for (let i = 0; i < 3; i += 1) await refund(gw, `feed-${i}`, { payment_intent: p.intent, amount: 100 });
    await refund(gw, 'feed-shop', { payment_intent: p.intent, amount: 100 }, KEYS.shop);

    const first = await gw.http.get('/v1/events?limit=2').set(auth());
    expect(first.status).toBe(200);
    expect(first.body.has_more).toBe(true);
    const next = await gw.http.get(`/v1/events?limit=2&starting_after=${first.body.data[1].id}`).set(auth());
    expect(next.body.has_more).toBe(false);
    const mine = [...first.body.data, ...next.body.data];
    expect(mine.map((e: { data: { object: { requested_by: string } } }) => e.data.object.requested_by)).toEqual(['billing', 'billing', 'billing']);
    const shops = (await gw.http.get('/v1/events').set(auth(KEYS.shop))).body.data;
    expect(shops).toHaveLength(1);
    expect((await gw.http.get('/v1/events?limit=100').set(auth(AUDITOR_KEY))).body.data).toHaveLength(4);
    // Another caller's event id is no cursor.
    const refused = await gw.http.get(`/v1/events?starting_after=${shops[0].id}`).set(auth());
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('validation_error');
  });

  it('when the query is malformed, then it is a 400 naming the parameter', async () => {
    const gw = await start();
    const res = await gw.http.get('/v1/events?limit=0&starting_after=re_x').set(auth());
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['/limit', '/starting_after']);
  });
});

/** A receiver on a given URL and secret (the one a gateway is configured with), started again after a stop. */
async function startReceiverAt(url: string, secret: string): Promise<Receiver> {
  const { createServer } = await import('node:http');
  const { Webhook } = await import('standardwebhooks');
  const verifier = new Webhook(secret);
  const received: Receiver['received'] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push(verifier.verify(Buffer.concat(chunks).toString('utf8'), req.headers as Record<string, string>) as Receiver['received'][number]);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(Number(new URL(url).port), '127.0.0.1', resolve));
  return {
    url,
    secret,
    received,
    forged: 0,
    failNext: () => undefined,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
