// Traces through buildApp with an in-memory exporter: the request span, its Stripe and ledger children, a caller's traceparent, log lines, background runs.
import { Writable } from 'node:stream';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { API_KEYS, auth, createPayment, KEYS, startTestGateway, type TestGateway, type TestGatewayOptions } from '../helpers/gateway.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { agentCall, waitForEnd } from '../helpers/batches.js';

class Lines extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
  parsed(): { msg: string; request_id?: string; trace_id?: string; span_id?: string; [field: string]: unknown }[] {
    return this.text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as { msg: string });
  }
}

let exporter: InMemorySpanExporter;
let provider: BasicTracerProvider;
const opened: { close(): Promise<void> }[] = [];

beforeEach(() => {
  exporter = new InMemorySpanExporter();
  // Simple (not batched): a span is in the exporter as soon as it ends.
  provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
});
afterEach(async () => {
  for (const o of opened.splice(0).reverse()) await o.close();
  await provider.shutdown();
});

async function start(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const gw = await startTestGateway({ tracerProvider: provider, ...options });
  opened.push(gw);
  return gw;
}

const spans = (): ReadableSpan[] => exporter.getFinishedSpans();
const named = (name: string): ReadableSpan[] => spans().filter((s) => s.name === name);
const one = (name: string): ReadableSpan => {
  const found = named(name);
  expect(found.map((s) => s.name)).toEqual([name]);
  return found[0] as ReadableSpan;
};
const parentOf = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId;
/** Every span below `root` (children, grandchildren, …) in its trace. */
const descendants = (root: ReadableSpan): ReadableSpan[] => {
  const inTrace = spans().filter((s) => s.spanContext().traceId === root.spanContext().traceId);
  const below = new Set([root.spanContext().spanId]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const s of inTrace) {
      const parent = parentOf(s);
      if (parent !== undefined && below.has(parent) && !below.has(s.spanContext().spanId)) {
        below.add(s.spanContext().spanId);
        grew = true;
      }
    }
  }
  return inTrace.filter((s) => s !== root && below.has(s.spanContext().spanId));
};

const refund = (gw: TestGateway, key: string, body: object) => gw.http.post('/v1/refunds').set(auth()).set('idempotency-key', key).send(body);

describe('a span per request', () => {
  it('when a refund is made, then its request span (route, caller, status, request id) holds the Stripe and ledger calls as children', async () => {
    const gw = await start();
    const p = await createPayment(gw.stripe, { amount: 5_000 });
    const before = gw.emulator.control.requests().length;
    const made = await refund(gw, 'trace-1', { payment_intent: p.intent, amount: 1_200 });
    expect(made.status).toBe(201);

    const request = one('POST /v1/refunds');
    expect(request.kind).toBe(SpanKind.SERVER);
    expect(parentOf(request)).toBeUndefined();
    expect(request.attributes).toMatchObject({
      'http.route': '/v1/refunds',
      'http.request.method': 'POST',
      'http.response.status_code': 201,
      'gateway.caller': 'billing',
      'gateway.request_id': made.headers['x-request-id'],
    });

    const below = descendants(request);
    const create = below.find((s) => s.name === 'stripe refunds.create');
    const [posted] = gw.emulator.control.requests({ method: 'POST', path: '/v1/refunds' });
    expect(create?.kind).toBe(SpanKind.CLIENT);
    expect(create?.attributes).toMatchObject({
      'stripe.operation': 'refunds.create',
      'stripe.request_id': posted?.request_id,
      'stripe.attempts': 1,
      'stripe.outcome': 'ok',
      'http.response.status_code': 200,
    });
    // The refund's Stripe calls run holding the payment's turn, and so sit under its span.
    const turn = below.find((s) => s.name === 'ledger.paymentLocks.withTurn');
    expect(turn).toBeDefined();
    expect(parentOf(create as ReadableSpan)).toBe(turn?.spanContext().spanId);
    expect(turn?.events.map((e) => e.name)).toEqual(['turn taken']);
    expect(below.find((s) => s.name === 'ledger.beginIdempotent')?.attributes).toMatchObject({ 'ledger.idempotency': 'started' });
    expect(below.find((s) => s.name === 'ledger.completeIdempotent')?.attributes).toMatchObject({ 'ledger.stored': true });
    // Every Stripe call of the request has its span, and nothing of the request is left outside its trace.
    const stripeCalls = gw.emulator.control.requests().length - before;
    expect(stripeCalls).toBeGreaterThan(1);
    expect(below.filter((s) => s.name.startsWith('stripe ')).length).toBe(stripeCalls);
    expect(spans().filter((s) => !below.includes(s) && s !== request)).toEqual([]);
  });

  it('when a replayed key is answered from the ledger, then the request span has ledger children and no Stripe call', async () => {
    const gw = await start();
    const p = await createPayment(gw.stripe, { amount: 5_000 });
    expect((await refund(gw, 'trace-replay', { payment_intent: p.intent, amount: 300 })).status).toBe(201);
    exporter.reset();

    const replay = await refund(gw, 'trace-replay', { payment_intent: p.intent, amount: 300 });
    expect(replay.status).toBe(201);
    const below = descendants(one('POST /v1/refunds'));
    expect(below.map((s) => s.name)).toEqual(['ledger.beginIdempotent']);
    expect(below[0]?.attributes).toMatchObject({ 'ledger.idempotency': 'replay' });
  });

  it('when Stripe answers 500 once, then the Stripe span counts both attempts and carries the request id of the one that worked', async () => {
    const gw = await start();
    const p = await createPayment(gw.stripe, { amount: 5_000 });
    gw.emulator.control.injectFault({ method: 'POST', path: '/v1/refunds', kind: 'error', status: 500, times: 1 });
    expect((await refund(gw, 'trace-retry', { payment_intent: p.intent, amount: 300 })).status).toBe(201);

    const posts = gw.emulator.control.requests({ method: 'POST', path: '/v1/refunds' });
    expect(posts.map((r) => r.status)).toEqual([500, 200]);
    expect(one('stripe refunds.create').attributes).toMatchObject({ 'stripe.attempts': 2, 'stripe.outcome': 'ok', 'stripe.request_id': posts[1]?.request_id });
  });

  it('when a refund is refused, then the request span has the refusal status and a failed Stripe call shows its code', async () => {
    const gw = await start();
    const p = await createPayment(gw.stripe, { amount: 5_000 });
    gw.emulator.control.injectFault({ method: 'GET', path: '/v1/payment_intents/*', kind: 'error', status: 400, code: 'resource_missing', times: 1 });
    const refused = await refund(gw, 'trace-missing', { payment_intent: p.intent, amount: 300 });
    expect(refused.status).toBe(404);

    expect(one('POST /v1/refunds').attributes).toMatchObject({ 'http.response.status_code': 404 });
    const read = one('stripe payment_intents.retrieve');
    expect(read.status.code).toBe(SpanStatusCode.ERROR);
    expect(read.attributes).toMatchObject({ 'stripe.outcome': 'error', 'gateway.error_code': 'not_found', 'http.response.status_code': 400 });
    expect(named('stripe refunds.create')).toEqual([]);
  });

  it('when a caller sends a W3C traceparent, then the request span continues its trace under its span', async () => {
    const gw = await start();
    const p = await createPayment(gw.stripe, { amount: 5_000 });
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentId = '00f067aa0ba902b7';
    const made = await refund(gw, 'trace-parent', { payment_intent: p.intent, amount: 300 }).set('traceparent', `00-${traceId}-${parentId}-01`);
    expect(made.status).toBe(201);

    const request = one('POST /v1/refunds');
    expect(request.spanContext().traceId).toBe(traceId);
    expect(parentOf(request)).toBe(parentId);
    expect(descendants(request).every((s) => s.spanContext().traceId === traceId)).toBe(true);
  });

  it('when a route has a path parameter or none matches, then the span name is the template or the method, never the raw path', async () => {
    const gw = await start();
    expect((await gw.http.get('/v1/refunds/re_doesnotexist').set(auth())).status).toBe(404);
    expect((await gw.http.get('/v1/nothing-here/123').set(auth())).status).toBe(404);

    expect(spans().map((s) => s.name).filter((n) => n.startsWith('GET'))).toEqual(['GET /v1/refunds/:id', 'GET']);
  });

  it('when probes and scrapes come in, then they make no spans', async () => {
    const gw = await start();
    expect((await gw.http.get('/healthz')).status).toBe(200);
    expect((await gw.http.get('/readyz')).status).toBe(200);
    expect((await gw.http.get('/metrics')).status).toBe(200);
    expect((await gw.http.get('/v1/refunds').set(auth())).status).toBe(200);

    // The last request shows spans are being made at all; the probes (and their ledger and Stripe pings) made none.
    expect(spans().map((s) => s.name)).toEqual(['ledger.listIndexedRefunds', 'GET /v1/refunds']);
  });
});

describe('the trace id in the logs', () => {
  it('when a refund is served, then every line logged for it carries its trace id', async () => {
    const lines = new Lines();
    // At debug: a good Stripe call's own line is debug (at info it is folded into the request line).
    const gw = await start({ logger: { level: 'debug', stream: lines } });
    const p = await createPayment(gw.stripe, { amount: 5_000 });
    const made = await refund(gw, 'trace-logs', { payment_intent: p.intent, amount: 300 });
    expect(made.status).toBe(201);

    const request = one('POST /v1/refunds');
    const traceId = request.spanContext().traceId;
    const ofRequest = lines.parsed().filter((l) => l.request_id === made.headers['x-request-id']);
    expect(ofRequest.map((l) => l.msg)).toEqual(expect.arrayContaining(['stripe call', 'request']));
    for (const line of ofRequest) expect(line.trace_id).toBe(traceId);
    expect(ofRequest.find((l) => l.msg === 'request')?.span_id).toBe(request.spanContext().spanId);
  });
});

describe('background work', () => {
  let emulator: RunningEmulator;
  beforeEach(async () => {
    emulator = await startEmulator({ port: 0 });
    opened.push(emulator);
  });

  it('when reconciliation runs, then each run is a trace of its own holding its ledger and Stripe calls', async () => {
    // Webhooks off: the refund reaches the index's events only by reconciliation.
    emulator.control.updateSettings({ webhooks: false });
    const gw = await start({ emulator, env: { RECONCILE_INTERVAL_MS: '300' } });
    const p = await createPayment(gw.stripe, { amount: 5_000 });
    await gw.stripe.refunds.create({ payment_intent: p.intent, amount: 100 });

    // The refund's events (refund.created, charge.refunded) are applied by the first run that reads them.
    const applying = () => named('reconcile run').find((s) => Number(s.attributes['reconcile.events_applied']) > 0);
    await expect.poll(applying, { timeout: 20_000 }).toBeDefined();
    const run = applying() as ReadableSpan;
    expect(parentOf(run)).toBeUndefined();
    const below = descendants(run).map((s) => s.name);
    expect(below).toEqual(expect.arrayContaining(['stripe events.list', 'ledger.applyStripeEvent', 'ledger.saveJob', 'ledger.finishJob']));
    // Looks that found the job not due made no trace: each run span is one that ran.
    expect(named('ledger.takeJob')).toEqual([]);
  });

  it('when an event is delivered to a caller, then the delivery is a trace of its own with its outcome', async () => {
    const receiver: Receiver = await startReceiver();
    opened.push(receiver);
    const apiKeys = API_KEYS.map((entry) => (entry.id === 'billing' ? { ...entry, events: { url: receiver.url, secret: receiver.secret } } : entry));
    const gw = await start({ emulator, env: { API_KEYS: JSON.stringify(apiKeys) } });
    const p = await createPayment(gw.stripe, { amount: 5_000 });
    expect((await gw.http.post('/v1/refunds').set(auth(KEYS.billing)).set('idempotency-key', 'trace-event').send({ payment_intent: p.intent, amount: 300 })).status).toBe(201);

    await expect.poll(() => named('event delivery').length).toBeGreaterThan(0);
    const delivery = one('event delivery');
    expect(parentOf(delivery)).toBeUndefined();
    expect(delivery.attributes).toMatchObject({ 'event.type': 'refund.created', 'gateway.caller': 'billing', 'event.result': 'delivered', 'event.attempt': 1 });
    expect(descendants(delivery).map((s) => s.name)).toEqual(['ledger.settleDelivery']);
  });

  it('when a refund batch runs, then each item run is a trace of its own holding its refund path, and the POST that queued it holds none of it', async () => {
    const gw = await start({ emulator, env: { BATCH_CONCURRENCY: '1' } });
    const call = agentCall(gw.http, KEYS.billing);
    const p = await createPayment(gw.stripe, { amount: 5_000 });
    const items = [
      { key: 'traced-ok', payment_intent: p.intent, amount: 1_000 },
      { key: 'traced-refused', payment_intent: p.intent, amount: 9_999 },
    ];
    const sent = await call('POST', '/v1/refund-batches', { idempotencyKey: 'trace-batch', body: { items } });
    expect(sent.status).toBe(202);
    expect((await waitForEnd(call, String(sent.body.id))).status).toBe('completed');

    const runs = named('batch item').sort((a, b) => Number(a.attributes['batch.position']) - Number(b.attributes['batch.position']));
    expect(runs.map((r) => r.attributes)).toEqual([
      expect.objectContaining({ 'batch.id': sent.body.id, 'batch.position': 0, 'gateway.caller': 'billing', 'batch.item_attempt': 1, 'batch.item_outcome': 'refunded', 'batch.item_stored': true }),
      expect.objectContaining({ 'batch.position': 1, 'batch.item_outcome': 'refused', 'gateway.error_code': 'amount_exceeds_refundable' }),
    ]);
    for (const run of runs) expect(parentOf(run)).toBeUndefined();
    const first = descendants(runs[0] as ReadableSpan).map((s) => s.name);
    expect(first).toEqual(expect.arrayContaining(['ledger.beginIdempotent', 'ledger.paymentLocks.withTurn', 'stripe refunds.create', 'ledger.settleBatchItem']));
    // The POST answered 202 before any item ran: its trace has the batch's creation, not the items' refunds.
    const post = one('POST /v1/refund-batches');
    expect(descendants(post).map((s) => s.name)).not.toContain('stripe refunds.create');
  });
});
