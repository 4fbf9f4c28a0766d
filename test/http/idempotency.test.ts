// Idempotency end to end: replays, conflicts, per-caller keys, the key Stripe sees, and retries after failures.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, createPayment, KEYS, refundPosts, startTestGateway, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
let n = 0;
const key = () => `idem-${++n}-${Date.now()}`;

beforeAll(async () => {
  // Retries and timeouts small: the point here is what the gateway does with failures, not how long the SDK waits.
  gw = await startTestGateway({ env: { STRIPE_MAX_NETWORK_RETRIES: '0', STRIPE_TIMEOUT_MS: '400' } });
});
afterAll(async () => {
  await gw?.close();
});

const post = (k: string, body: unknown, apiKey: string = KEYS.billing) =>
  gw.http.post('/v1/refunds').set(auth(apiKey)).set('idempotency-key', k).set('content-type', 'application/json').send(body as object);

const postsFor = (intent: string) => refundPosts(gw.emulator).filter((r) => r.body.payment_intent === intent);
const derived = (caller: string, k: string) => `gw_${createHash('sha256').update(`${caller}\nPOST /v1/refunds\n${k}`).digest('hex')}`;

describe('Idempotency-Key on POST /v1/refunds', () => {
  it('when the same key and body come again, then the same refund is replayed with idempotent-replayed and nothing new reaches Stripe', async () => {
    const p = await createPayment(gw.stripe);
    const k = key();
    const first = await post(k, { payment_intent: p.intent, amount: 1_000 });
    expect(first.status).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const again = await post(k, { amount: 1_000, payment_intent: p.intent }); // other key order: the same request
    expect(again.status).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(postsFor(p.intent)).toHaveLength(1);
    expect((await gw.stripe.charges.retrieve(p.charge!)).amount_refunded).toBe(1_000);
  });

  it('when the same key comes with another body, then 422 idempotency_key_reused and nothing reaches Stripe', async () => {
    const p = await createPayment(gw.stripe);
    const k = key();
    expect((await post(k, { payment_intent: p.intent, amount: 1_000 })).status).toBe(201);
    const other = await post(k, { payment_intent: p.intent, amount: 1_001 });
    expect(other.status).toBe(422);
    expect(other.body.code).toBe('idempotency_key_reused');
    // An omitted amount is not the same request as an explicit one.
    const omitted = await post(k, { payment_intent: p.intent });
    expect(omitted.status).toBe(422);
    expect(postsFor(p.intent)).toHaveLength(1);
  });

  it('when two callers use the same key, then they are two requests and make two refunds', async () => {
    const p = await createPayment(gw.stripe);
    const k = key();
    const a = await post(k, { payment_intent: p.intent, amount: 100 }, KEYS.billing);
    const b = await post(k, { payment_intent: p.intent, amount: 100 }, KEYS.shop);
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(a.body.id).not.toBe(b.body.id);
    expect(b.headers['idempotent-replayed']).toBeUndefined();
    expect(postsFor(p.intent).map((r) => r.idempotency_key)).toEqual([derived('billing', k), derived('shop', k)]);
  });

  it('when a caller rotates its key, then its idempotency keys still replay (the identity is the id)', async () => {
    const p = await createPayment(gw.stripe);
    const k = key();
    const first = await post(k, { payment_intent: p.intent, amount: 100 }, KEYS.billing);
    const again = await post(k, { payment_intent: p.intent, amount: 100 }, KEYS.billingRotated);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body.id).toBe(first.body.id);
  });

  it('when a rule refused the first request, then the refusal is replayed as first sent, request_id included', async () => {
    const p = await createPayment(gw.stripe, { amount: 1_000 });
    const k = key();
    const first = await post(k, { payment_intent: p.intent, amount: 5_000 });
    expect(first.status).toBe(409);
    const again = await post(k, { payment_intent: p.intent, amount: 5_000 });
    expect(again.status).toBe(409);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(again.body.request_id).toBe(first.headers['x-request-id']);
    expect(postsFor(p.intent)).toHaveLength(0);
  });

  it('when Stripe failed (502), then nothing is stored and a retry with the same key runs again with the same Stripe key', async () => {
    const p = await createPayment(gw.stripe);
    const k = key();
    gw.emulator.control.injectFault({ method: 'POST', path: '/v1/refunds', kind: 'error', status: 500, times: 1, should_retry: false });
    const failed = await post(k, { payment_intent: p.intent, amount: 300 });
    expect(failed.status).toBe(502);
    expect(failed.body.code).toBe('upstream_error');
    const retried = await post(k, { payment_intent: p.intent, amount: 300 });
    expect(retried.status).toBe(201);
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
    const keys = postsFor(p.intent).map((r) => r.idempotency_key);
    expect(keys).toEqual([derived('billing', k), derived('billing', k)]);
    expect((await gw.stripe.charges.retrieve(p.charge!)).amount_refunded).toBe(300);
  });

  it('when the first attempt is still running, then the same key gets 409 idempotency_request_in_progress with retry-after', async () => {
    const p = await createPayment(gw.stripe);
    const k = key();
    // Slow, but inside STRIPE_TIMEOUT_MS (400 ms): the first attempt really is still running.
    gw.emulator.control.injectFault({ method: 'POST', path: '/v1/refunds', kind: 'delay', delay_ms: 250, times: 1 });
    const first = post(k, { payment_intent: p.intent, amount: 200 }).then((r) => r);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const twin = await post(k, { payment_intent: p.intent, amount: 200 });
    expect(twin.status).toBe(409);
    expect(twin.body.code).toBe('idempotency_request_in_progress');
    // When the first attempt's lease ends at the latest: its budget (LOCK_WAIT_MS 10 s + 400 ms × 1 try + one more
    // 400 ms for the reads) plus 5 s to store the answer, less the ~100 ms it has run.
    expect(Number(twin.headers['retry-after'])).toBeGreaterThanOrEqual(15);
    expect(Number(twin.headers['retry-after'])).toBeLessThanOrEqual(16);
    expect((await first).status).toBe(201);
    expect(postsFor(p.intent)).toHaveLength(1);
  });

  it('when Stripe made the refund but answered too late (504), then a retry with the same key finds that refund instead of making another', async () => {
    const p = await createPayment(gw.stripe, { amount: 2_000 });
    const k = key();
    // The emulator does the work after 700 ms; the gateway gives up after 400 ms.
    gw.emulator.control.injectFault({ method: 'POST', path: '/v1/refunds', kind: 'delay', delay_ms: 700, times: 1 });
    const timedOut = await post(k, { payment_intent: p.intent });
    expect(timedOut.status).toBe(504);
    expect(timedOut.body.code).toBe('upstream_timeout');
    await new Promise((resolve) => setTimeout(resolve, 500));
    // Past Stripe's own 24 h memory of the key: only the gateway's record of the first attempt can find the refund.
    gw.emulator.control.advanceClock(25 * 3600);
    const retried = await post(k, { payment_intent: p.intent });
    expect(retried.status).toBe(201);
    expect(retried.body.amount).toBe(2_000);
    const refunds = await gw.stripe.refunds.list({ payment_intent: p.intent });
    expect(refunds.data).toHaveLength(1);
    expect(retried.body.id).toBe(refunds.data[0]?.id);
    expect(postsFor(p.intent)).toHaveLength(1);
    const replay = await post(k, { payment_intent: p.intent });
    expect(replay.headers['idempotent-replayed']).toBe('true');
  });

  it('when Stripe has forgotten the key (24 h), then the gateway still replays for IDEMPOTENCY_RETENTION_DAYS', async () => {
    const p = await createPayment(gw.stripe);
    const k = key();
    const first = await post(k, { payment_intent: p.intent, amount: 400 });
    gw.emulator.control.advanceClock(48 * 3600);
    const again = await post(k, { payment_intent: p.intent, amount: 400 });
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body.id).toBe(first.body.id);
    expect(postsFor(p.intent)).toHaveLength(1);
  });
});

describe('IDEMPOTENCY_RETENTION_DAYS', () => {
  it('when a key is older than the retention, then its record is pruned, yet reusing it finds the refund it made instead of making another', async () => {
    const p = await createPayment(gw.stripe);
    const k = key();
    const first = await post(k, { payment_intent: p.intent, amount: 100 });
    expect(first.status).toBe(201);
    // Another replica starts 31 days later on the same ledger and emulator; Stripe has long forgotten the key too.
    gw.emulator.control.advanceClock(31 * 86_400);
    const later = await startTestGateway({
      ledger: gw.ledger,
      emulator: gw.emulator,
      now: () => new Date(Date.now() + 31 * 86_400_000),
    });
    try {
      // Pruning runs in the background once the app is ready; until it lands, the stored answer is replayed.
      const again = () => later.http.post('/v1/refunds').set(auth()).set('idempotency-key', k).send({ payment_intent: p.intent, amount: 100 });
      let answer = await again();
      const settled = async () => {
        if (answer.headers['idempotent-replayed'] === 'true') answer = await again();
        return answer.headers['idempotent-replayed'] ?? 'not replayed';
      };
      await expect.poll(settled).toBe('not replayed');
      // No stored answer any more, but the same derived request id: the refund it made is found, not made twice.
      expect(answer.status).toBe(201);
      expect(answer.body.id).toBe(first.body.id);
      expect(postsFor(p.intent)).toHaveLength(1);
      expect((await gw.stripe.charges.retrieve(p.charge!)).amount_refunded).toBe(100);
    } finally {
      await later.close();
    }
  });
});

describe('an attempt that outlives its lease', () => {
  it('when a retry took over and stored a success, then the late first attempt answers that success and never overwrites it', async () => {
    let clock = Date.now();
    const own = await startTestGateway({ now: () => new Date(clock), env: { STRIPE_MAX_NETWORK_RETRIES: '0', STRIPE_TIMEOUT_MS: '3000' } });
    try {
      const p = await createPayment(own.stripe, { amount: 10_000 });
      const send = () =>
        own.http.post('/v1/refunds').set(auth()).set('idempotency-key', 'late-1').send({ payment_intent: p.intent, amount: 6_000 });
      // The first attempt is slow on its first Stripe read, before it takes the payment's lock.
      own.emulator.control.injectFault({ method: 'GET', path: `/v1/payment_intents/${p.intent}`, kind: 'delay', delay_ms: 1_000, times: 1 });
      const first = send().then((r) => r);
      await new Promise((resolve) => setTimeout(resolve, 200));
      clock += 60 * 60 * 1000; // its lease runs out while it still runs
      const second = await send();
      expect(second.status).toBe(201);
      // Left alone, the first attempt would now find only 4000 left and store 409 amount_exceeds_refundable.
      const late = await first;
      expect(late.status).toBe(201);
      expect(late.headers['idempotent-replayed']).toBe('true');
      expect(late.body).toEqual(second.body);
      const replay = await send();
      expect(replay.status).toBe(201);
      expect(replay.body.id).toBe(second.body.id);
      expect((await own.stripe.charges.retrieve(p.charge!)).amount_refunded).toBe(6_000);
    } finally {
      await own.close();
    }
  });
});
