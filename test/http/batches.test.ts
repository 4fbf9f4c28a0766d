// Refund batches over HTTP against the emulator: checked at once, run through the refund path, counted, canceled, replayed.
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { agentCall, allItems, waitForEnd, type Call } from '../helpers/batches.js';
import { createPayment, KEYS, refundPosts, startTestGateway, type TestGateway, type TestGatewayOptions } from '../helpers/gateway.js';
import { openSqliteTestLedger, type TestLedger } from '../helpers/ledger.js';
import { OPS_API_KEYS, OPS_KEYS } from '../helpers/operations.js';
import { sampleValue } from '../helpers/prometheus.js';

const opened: { close(): Promise<void> }[] = [];
// Closed newest first: the gateway (and its worker) before the ledger and the emulator it uses.
afterEach(async () => {
  for (const o of opened.splice(0).reverse()) await o.close();
});

async function gateway(options: TestGatewayOptions = {}): Promise<{ gw: TestGateway; call: Call; db: TestLedger }> {
  const db = await openSqliteTestLedger();
  const gw = await startTestGateway({ ...options, ledger: db.ledger, env: { BODY_LIMIT_BYTES: String(4 * 1024 * 1024), ...options.env } });
  opened.push(db, gw);
  return { gw, call: agentCall(gw.http, KEYS.billing), db };
}

async function emulator(): Promise<RunningEmulator> {
  const e = await startEmulator({ port: 0 });
  opened.push(e);
  return e;
}

const payments = async (gw: TestGateway, count: number, amount = 5_000) => {
  const made = [];
  for (let i = 0; i < count; i += 1) made.push(await createPayment(gw.stripe, { amount }));
  return made;
};

const itemRows = (db: TestLedger) => db.sql.query<{ n: number }>('SELECT count(*) AS n FROM refund_batch_items').then(([row]) => Number(row?.n));

describe('POST /v1/refund-batches: every item checked at once', () => {
  it('when items are wrong, then one 400 lists each problem by JSON Pointer, and nothing is queued or sent to Stripe', async () => {
    const { gw, call, db } = await gateway();
    const answer = await call('POST', '/v1/refund-batches', {
      idempotencyKey: 'bad-1',
      body: {
        items: [
          { key: 'ok-0', charge: 'ch_fine', amount: 100 },
          { key: 'a-1', charge: 'ch_x', amount: 12.5 },
          { key: 'a-2', charge: 'ch_x', payment_intent: 'pi_y' },
          { key: 'a-3', charge: 'not-a-charge', colour: 'red' },
          { key: 'ok-0', charge: 'ch_z' },
          { key: 'a-5', charge: 'ch_m', metadata: { gateway_caller: 'me' } },
        ],
      },
    });

    expect(answer.status).toBe(400);
    expect(answer.body.code).toBe('validation_error');
    const paths = (answer.body.errors as { path: string }[]).map((e) => e.path).sort();
    expect(paths).toEqual(['/items/1/amount', '/items/2', '/items/3/charge', '/items/3/colour', '/items/4/key', '/items/5/metadata/gateway_caller'].sort());
    expect(answer.body.errors.find((e: { path: string }) => e.path === '/items/4/key').message).toMatch(/already used by \/items\/0/);
    expect(await itemRows(db)).toBe(0);
    expect(refundPosts(gw.emulator)).toHaveLength(0);

    // A 400 is not stored: the same key with good items is a new batch.
    const fixed = await call('POST', '/v1/refund-batches', { idempotencyKey: 'bad-1', body: { items: [{ key: 'ok-0', charge: 'ch_fine' }] } });
    expect(fixed.status).toBe(202);
  });

  it('when there are no items, more than 10 000, or no items field, then it is a 400 at /items', async () => {
    const { call } = await gateway();
    const many = Array.from({ length: 10_001 }, (_, i) => ({ key: `k${i}`, charge: 'ch_1' }));
    for (const body of [{ items: [] }, { items: many }, {}]) {
      const answer = await call('POST', '/v1/refund-batches', { idempotencyKey: 'empty', body });
      expect(answer.status).toBe(400);
      expect(answer.body.errors.map((e: { path: string }) => e.path)).toEqual(['/items']);
    }
  });

  it('when the Idempotency-Key is missing, the scope lacking or the body over BODY_LIMIT_BYTES, then the contract’s problem answers', async () => {
    const { call } = await gateway({ env: { BODY_LIMIT_BYTES: '2048' } });
    const items = [{ key: 'k', charge: 'ch_1' }];

    const noKey = await call('POST', '/v1/refund-batches', { body: { items } });
    const readOnly = await call('POST', '/v1/refund-batches', { idempotencyKey: 'k', body: { items }, key: KEYS.support });
    const tooBig = await call('POST', '/v1/refund-batches', {
      idempotencyKey: 'k',
      body: { items: Array.from({ length: 100 }, (_, i) => ({ key: `key-${i}`, charge: 'ch_123456789' })) },
    });

    expect([noKey.status, noKey.body.code]).toEqual([400, 'idempotency_key_missing']);
    expect([readOnly.status, readOnly.body.code]).toEqual([403, 'forbidden']);
    expect([tooBig.status, tooBig.body.code]).toEqual([413, 'payload_too_large']);
  });

  it('when a batch id, item status or page key is malformed or unknown, then it is a 400 or 404, never a 500', async () => {
    const { call } = await gateway();
    const sent = await call('POST', '/v1/refund-batches', { idempotencyKey: 'b', body: { items: [{ key: 'only', charge: 'ch_nope' }] } });

    expect((await call('GET', '/v1/refund-batches/not-a-batch')).status).toBe(400);
    expect((await call('GET', '/v1/refund-batches/rb_unknown')).body.code).toBe('not_found');
    expect((await call('GET', '/v1/refund-batches/rb_unknown/items')).body.code).toBe('not_found');
    expect((await call('POST', '/v1/refund-batches/rb_unknown/cancel')).body.code).toBe('not_found');
    expect((await call('GET', `/v1/refund-batches/${sent.body.id}/items?status=done`)).status).toBe(400);
    const unknownKey = await call('GET', `/v1/refund-batches/${sent.body.id}/items?starting_after=nope`);
    expect([unknownKey.status, unknownKey.body.errors?.[0]?.path]).toEqual([400, '/starting_after']);
    expect((await call('POST', `/v1/refund-batches/${sent.body.id}/cancel`, { body: { now: true } })).status).toBe(400);
  });
});

describe('a batch running', () => {
  it('when a batch mixes refunds that can and cannot be made, then each item gets the answer POST /v1/refunds would give, and the counts are exact', async () => {
    // One item at a time: the two items of the first payment run in the order sent.
    const { gw, call } = await gateway({ env: { BATCH_CONCURRENCY: '1' } });
    const [a, b, c, d] = await payments(gw, 4);
    const items = [
      { key: 'by-intent', payment_intent: a!.intent, amount: 1_000, metadata: { order: '1' } },
      { key: 'by-charge', charge: b!.charge, reason: 'duplicate' },
      { key: 'too-much', charge: c!.charge, amount: 9_999 },
      { key: 'wrong-currency', charge: d!.charge, currency: 'eur' },
      { key: 'unknown', charge: 'ch_DoesNotExist' },
      { key: 'rest-of-a', payment_intent: a!.intent },
    ];

    const sent = await call('POST', '/v1/refund-batches', { idempotencyKey: 'mixed-1', body: { items } });
    expect(sent.status).toBe(202);
    expect(sent.body).toMatchObject({ id: expect.stringMatching(/^rb_[0-9a-f]{24}$/), status: 'queued', requested_by: 'billing', completed_at: null });
    expect(sent.body.counts).toEqual({ total: 6, pending: 6, refunded: 0, refused: 0, awaiting_approval: 0, failed: 0, canceled: 0 });

    const ended = await waitForEnd(call, sent.body.id);
    expect(ended.status).toBe('completed');
    expect(ended.counts).toEqual({ total: 6, pending: 0, refunded: 3, refused: 3, awaiting_approval: 0, failed: 0, canceled: 0 });
    expect(ended.completed_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    const listed = await allItems(call, sent.body.id);
    expect(listed.map((i) => [i.key, i.status, i.problem?.code ?? null])).toEqual([
      ['by-intent', 'refunded', null],
      ['by-charge', 'refunded', null],
      ['too-much', 'refused', 'amount_exceeds_refundable'],
      ['wrong-currency', 'refused', 'currency_mismatch'],
      ['unknown', 'refused', 'not_found'],
      ['rest-of-a', 'refunded', null],
    ]);
    expect(listed[0]).toMatchObject({ payment_intent: a!.intent, charge: null, amount: 1_000, refund: { amount: 1_000, requested_by: 'billing', metadata: { order: '1' } } });
    expect(listed[1]?.refund).toMatchObject({ amount: 5_000, reason: 'duplicate', charge: b!.charge });
    expect(listed[5]?.refund?.amount).toBe(4_000);
    expect(listed[2]?.problem).toMatchObject({ status: 409, refundable_amount: 5_000, currency: 'usd', request_id: `${sent.body.id}.2` });
    expect(listed[4]?.problem?.status).toBe(404);

    // Stripe saw one refund per refunded item, and nothing for the refused ones.
    const made = refundPosts(gw.emulator).filter((r) => r.status === 200);
    expect(made).toHaveLength(3);
    expect(new Set(made.map((r) => r.idempotency_key)).size).toBe(3);
    expect(refundPosts(gw.emulator)).toHaveLength(3);
    // The refunds are in the gateway's index like any other.
    const indexed = await call('GET', '/v1/refunds?requested_by=billing&limit=10');
    expect(indexed.body.data.map((r: { id: string }) => r.id).sort()).toEqual([listed[0], listed[1], listed[5]].map((i) => i?.refund?.id).sort());
  });

  it('when items are listed by status, then only those come, in the order sent', async () => {
    const { gw, call } = await gateway();
    const [a, b] = await payments(gw, 2);
    const sent = await call('POST', '/v1/refund-batches', {
      idempotencyKey: 'filter-1',
      body: { items: [{ key: 'r1', charge: a!.charge }, { key: 'x1', charge: 'ch_Missing1' }, { key: 'r2', charge: b!.charge }, { key: 'x2', charge: 'ch_Missing2' }] },
    });
    await waitForEnd(call, sent.body.id);

    expect((await allItems(call, sent.body.id, 'refunded')).map((i) => i.key)).toEqual(['r1', 'r2']);
    expect((await allItems(call, sent.body.id, 'refused')).map((i) => i.key)).toEqual(['x1', 'x2']);
    expect(await allItems(call, sent.body.id, 'pending')).toEqual([]);
  });

  it('when the batch completes, then its caller gets one refund_batch.completed event with the final counts, beside the refunds’ own events', async () => {
    const { gw, call } = await gateway();
    const [a] = await payments(gw, 1);
    const sent = await call('POST', '/v1/refund-batches', { idempotencyKey: 'event-1', body: { items: [{ key: 'e1', charge: a!.charge }, { key: 'e2', charge: 'ch_Missing' }] } });
    const ended = await waitForEnd(call, sent.body.id);

    const events = (await call('GET', '/v1/events?limit=100')).body.data as { type: string; sequence: number; data: { object: unknown; previous_status: string | null } }[];
    const completed = events.filter((e) => e.type === 'refund_batch.completed');
    expect(completed).toHaveLength(1);
    expect(completed[0]).toMatchObject({ sequence: 1, data: { object: ended, previous_status: 'running' } });
    expect(events.map((e) => e.type)).toContain('refund.created');
    // Another caller does not see it.
    const others = (await call('GET', '/v1/events?limit=100', { key: KEYS.shop })).body.data as { type: string }[];
    expect(others.filter((e) => e.type === 'refund_batch.completed')).toEqual([]);
  });

  it('when Stripe fails an item’s refund with 500s, then the item is run again after a backoff with the same Stripe key, and ends refunded once', async () => {
    const { gw, call } = await gateway({ env: { STRIPE_MAX_NETWORK_RETRIES: '0' } });
    const [a] = await payments(gw, 1);
    gw.emulator.control.injectFault({ method: 'POST', path: '/v1/refunds', kind: 'error', status: 500, times: 2 });

    const sent = await call('POST', '/v1/refund-batches', { idempotencyKey: 'retry-1', body: { items: [{ key: 'flaky', charge: a!.charge, amount: 700 }] } });
    const ended = await waitForEnd(call, sent.body.id);

    expect(ended.counts).toMatchObject({ refunded: 1, failed: 0 });
    const posts = refundPosts(gw.emulator);
    expect(posts.map((p) => p.status)).toEqual([500, 500, 200]);
    expect(new Set(posts.map((p) => p.idempotency_key)).size).toBe(1);
    expect((await gw.stripe.refunds.list({ charge: a!.charge! })).data).toHaveLength(1);
  });
});

describe('a batch by a caller with limits', () => {
  it('when items pass approval_above or max_amount, then they answer as POST /v1/refunds would: a refund request to approve, a policy problem; approving one refunds it once', async () => {
    const { gw, call } = await gateway({ env: { API_KEYS: JSON.stringify(OPS_API_KEYS), BATCH_CONCURRENCY: '1' } });
    const [a, b, c] = await payments(gw, 3, 60_000);
    const items = [
      { key: 'small', charge: a!.charge, amount: 1_000 },
      { key: 'needs-approval', payment_intent: b!.intent, amount: 30_000 },
      { key: 'over-max', charge: c!.charge, amount: 55_000 },
    ];
    const sent = await call('POST', '/v1/refund-batches', { idempotencyKey: 'limits-1', body: { items }, key: OPS_KEYS.desk });
    expect(sent.status).toBe(202);
    const ended = await waitForEnd(call, sent.body.id);
    expect(ended.counts).toEqual({ total: 3, pending: 0, refunded: 1, refused: 1, awaiting_approval: 1, failed: 0, canceled: 0 });

    const listed = await allItems(call, sent.body.id);
    expect(listed.map((i) => [i.key, i.status, i.problem?.code ?? null])).toEqual([
      ['small', 'refunded', null],
      ['needs-approval', 'awaiting_approval', null],
      ['over-max', 'refused', 'policy_limit_exceeded'],
    ]);
    const request = listed[1]!.refund_request as { id: string } & Record<string, unknown>;
    expect(request).toMatchObject({ id: expect.stringMatching(/^rr_/), status: 'awaiting_approval', amount: 30_000, requested_by: 'support-desk', refund: null });
    expect(listed[2]!.problem).toMatchObject({ status: 403, window: 'refund', limit: 50_000 });
    // Nothing reached Stripe for the two that were not refunded.
    expect(refundPosts(gw.emulator).filter((r) => r.body.payment_intent === b!.intent || r.body.charge === c!.charge)).toHaveLength(0);

    // The request is an ordinary refund request: another caller approves it and the refund is made once.
    const approved = await call('POST', `/v1/refund-requests/${request.id}/approve`, { key: OPS_KEYS.finance });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ status: 'approved', decided_by: 'finance', refund: { amount: 30_000, requested_by: 'support-desk' } });
    expect(refundPosts(gw.emulator).filter((r) => r.body.payment_intent === b!.intent)).toHaveLength(1);
  });
});

describe('a batch in the metrics', () => {
  it('when a batch refunds, then its money counts with the refunds’ (once, a replayed item not again), and its item runs by outcome', async () => {
    const { gw, call } = await gateway({ env: { BATCH_CONCURRENCY: '1' } });
    const [a, b] = await payments(gw, 2);
    const items = [{ key: 'm1', charge: a!.charge, amount: 700 }, { key: 'm2', charge: b!.charge, amount: 300 }, { key: 'm3', charge: 'ch_Missing' }];
    await waitForEnd(call, (await call('POST', '/v1/refund-batches', { idempotencyKey: 'money-1', body: { items } })).body.id);
    // The same item keys again in another batch: replays, no new money.
    await waitForEnd(call, (await call('POST', '/v1/refund-batches', { idempotencyKey: 'money-2', body: { items } })).body.id);

    const text = (await gw.http.get('/metrics')).text;
    expect(sampleValue(text, 'gateway_refunded_amount_minor_units_total', { currency: 'usd', caller: 'billing' })).toBe(1_000);
    expect(sampleValue(text, 'gateway_batch_item_runs_total', { outcome: 'refunded' })).toBe(4);
    expect(sampleValue(text, 'gateway_batch_item_runs_total', { outcome: 'refused' })).toBe(2);
  });
});

describe('idempotency of batches and of their items', () => {
  it('when the batch is posted again with the same key and items, then the 202 is replayed: the same batch, no item run twice', async () => {
    const { gw, call } = await gateway();
    const [a, b] = await payments(gw, 2);
    const body = { items: [{ key: 'i1', charge: a!.charge }, { key: 'i2', payment_intent: b!.intent, amount: 300 }] };
    const first = await call('POST', '/v1/refund-batches', { idempotencyKey: 'same-1', body });
    await waitForEnd(call, first.body.id);

    const again = await call('POST', '/v1/refund-batches', { idempotencyKey: 'same-1', body: { items: [body.items[0], { amount: 300, payment_intent: b!.intent, key: 'i2' }] } });
    const changed = await call('POST', '/v1/refund-batches', { idempotencyKey: 'same-1', body: { items: [body.items[0]] } });

    expect(again.status).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expect([changed.status, changed.body.code]).toEqual([422, 'idempotency_key_reused']);
    expect(refundPosts(gw.emulator)).toHaveLength(2);
  });

  it('when another batch carries an item key already used, then that item answers what it first did (no second refund), and a changed body under it fails', async () => {
    const { gw, call } = await gateway();
    const [a, b] = await payments(gw, 2);
    const first = await call('POST', '/v1/refund-batches', { idempotencyKey: 'run-1', body: { items: [{ key: 'order-1', charge: a!.charge, amount: 500 }] } });
    const firstItem = (await allItems(call, (await waitForEnd(call, first.body.id)).id))[0];

    const rerun = await call('POST', '/v1/refund-batches', {
      idempotencyKey: 'run-2',
      body: { items: [{ key: 'order-1', charge: a!.charge, amount: 500 }, { key: 'order-2', charge: b!.charge, amount: 500 }, { key: 'order-1-b', charge: a!.charge, amount: 500 }] },
    });
    const reused = await call('POST', '/v1/refund-batches', { idempotencyKey: 'run-3', body: { items: [{ key: 'order-1', charge: a!.charge, amount: 600 }] } });

    const rerunItems = await allItems(call, (await waitForEnd(call, rerun.body.id)).id);
    expect(rerunItems.map((i) => [i.key, i.status])).toEqual([
      ['order-1', 'refunded'],
      ['order-2', 'refunded'],
      ['order-1-b', 'refunded'],
    ]);
    expect(rerunItems[0]?.refund?.id).toBe(firstItem?.refund?.id);
    const reusedItems = await allItems(call, (await waitForEnd(call, reused.body.id)).id);
    expect(reusedItems.map((i) => [i.status, i.problem?.code])).toEqual([['failed', 'idempotency_key_reused']]);
    // order-1 once, order-2 once, order-1-b once: three refunds at Stripe.
    expect(refundPosts(gw.emulator).filter((r) => r.status === 200)).toHaveLength(3);
    expect((await gw.stripe.refunds.list({ charge: a!.charge! })).data).toHaveLength(2);
  });

  it('when the same item key is sent by two callers, then they are two different refunds', async () => {
    const { gw, call } = await gateway();
    const [a] = await payments(gw, 1);
    const byBilling = await call('POST', '/v1/refund-batches', { idempotencyKey: 'k', body: { items: [{ key: 'same', charge: a!.charge, amount: 100 }] } });
    const byShop = await call('POST', '/v1/refund-batches', { idempotencyKey: 'k', key: KEYS.shop, body: { items: [{ key: 'same', charge: a!.charge, amount: 100 }] } });

    expect(byShop.body.id).not.toBe(byBilling.body.id);
    await waitForEnd(call, byBilling.body.id);
    await waitForEnd(call, byShop.body.id);
    expect((await gw.stripe.refunds.list({ charge: a!.charge! })).data).toHaveLength(2);
  });
});

describe('canceling a batch', () => {
  it('when a batch is canceled while it runs, then the items not started are canceled and never reach Stripe, and the batch ends canceled', async () => {
    // Two Stripe calls a second, one item at a time: the batch is certainly still running when the cancel comes.
    const { gw, call } = await gateway({ env: { STRIPE_RATE_LIMIT_PER_SECOND: '2', BATCH_CONCURRENCY: '1' } });
    const made = await payments(gw, 8);
    const sent = await call('POST', '/v1/refund-batches', { idempotencyKey: 'cancel-1', body: { items: made.map((p, i) => ({ key: `c${i}`, charge: p.charge })) } });
    await expect.poll(async () => (await call('GET', `/v1/refund-batches/${sent.body.id}`)).body.counts.refunded, { timeout: 20_000 }).toBeGreaterThanOrEqual(1);

    const canceled = await call('POST', `/v1/refund-batches/${sent.body.id}/cancel`, { idempotencyKey: 'cancel-once' });
    expect(canceled.status).toBe(200);
    expect(canceled.body.counts.canceled).toBeGreaterThan(0);
    const ended = await waitForEnd(call, sent.body.id);

    expect(ended.status).toBe('canceled');
    expect(ended.counts.pending).toBe(0);
    expect(ended.counts.refunded + ended.counts.canceled).toBe(8);
    const items = await allItems(call, sent.body.id);
    const stripeRefunds = await Promise.all(made.map(async (p) => (await gw.stripe.refunds.list({ charge: p.charge! })).data.length));
    expect(stripeRefunds).toEqual(items.map((i) => (i.status === 'refunded' ? 1 : 0)));
    expect(items.filter((i) => i.status === 'canceled').every((i) => i.refund === null && i.problem === null)).toBe(true);
    // Canceling again answers the ended batch as it is.
    expect((await call('POST', `/v1/refund-batches/${sent.body.id}/cancel`)).body).toEqual(ended);
  });
});

describe('a batch beside interactive requests', () => {
  it('when a batch holds the Stripe rate limit, then a caller’s own refund is served before the batch ends', async () => {
    const { gw, call } = await gateway({ env: { STRIPE_RATE_LIMIT_PER_SECOND: '4', BATCH_CONCURRENCY: '4' } });
    const made = await payments(gw, 13);
    const [own, ...rest] = made;
    const sent = await call('POST', '/v1/refund-batches', { idempotencyKey: 'busy-1', body: { items: rest.map((p, i) => ({ key: `b${i}`, charge: p.charge })) } });
    await expect.poll(async () => (await call('GET', `/v1/refund-batches/${sent.body.id}`)).body.status).toBe('running');

    const interactive = await call('POST', '/v1/refunds', { idempotencyKey: 'own-1', body: { charge: own!.charge } });

    expect(interactive.status).toBe(201);
    const meanwhile = (await call('GET', `/v1/refund-batches/${sent.body.id}`)).body;
    expect(meanwhile.counts.pending).toBeGreaterThan(0);
    await waitForEnd(call, sent.body.id);
  }, 60_000);
});

describe('a batch of 1 000 items', () => {
  it('when 1 000 refunds are sent as one batch, then it completes with exact counts and exactly one refund per refunded item at Stripe', async () => {
    const e = await emulator();
    const { gw, call } = await gateway({ emulator: e });
    const made = await payments(gw, 1_000, 2_000);
    // Every tenth asks for more than was paid: refused before Stripe.
    const items = made.map((p, i) => ({ key: `big-${i}`, ...(i % 2 === 0 ? { charge: p.charge } : { payment_intent: p.intent }), amount: i % 10 === 9 ? 2_001 : 1_500 }));

    const sent = await call('POST', '/v1/refund-batches', { idempotencyKey: 'big-1', body: { items } });
    expect(sent.status).toBe(202);
    const ended = await waitForEnd(call, sent.body.id, 240_000);

    expect(ended.counts).toEqual({ total: 1_000, pending: 0, refunded: 900, refused: 100, awaiting_approval: 0, failed: 0, canceled: 0 });
    const listed = await allItems(call, sent.body.id);
    expect(listed.map((i) => i.key)).toEqual(items.map((i) => i.key));
    const posts = refundPosts(e).filter((r) => r.status === 200);
    expect(posts).toHaveLength(900);
    expect(new Set(posts.map((r) => r.idempotency_key)).size).toBe(900);
    expect(new Set(listed.flatMap((i) => (i.refund ? [i.refund.id] : []))).size).toBe(900);
  }, 300_000);
});
