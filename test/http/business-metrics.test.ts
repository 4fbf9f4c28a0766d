// Business metrics on /metrics: refunds and cancels by outcome, reason and caller, money refunded, refusals, replays,
// idempotency conflicts, and the ledger's pool gauges on PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outcomeOf } from '../../src/http/business-metrics.js';
import { auth, createPayment, KEYS, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { newPostgresTestLedger, testDatabaseUrl } from '../helpers/ledger.js';
import { declaredMetrics, sampleValue } from '../helpers/prometheus.js';

let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway();
});

afterAll(async () => {
  await gw?.close();
});

const scrape = async (g: TestGateway = gw): Promise<string> => (await g.http.get('/metrics')).text;

/** How much each of `names` (with labels) moved while `act` ran. */
async function delta(samples: Record<string, [string, Record<string, string>]>, act: () => Promise<void>): Promise<Record<string, number>> {
  const before = await scrape();
  await act();
  const after = await scrape();
  return Object.fromEntries(
    Object.entries(samples).map(([key, [name, labels]]) => [key, sampleValue(after, name, labels) - sampleValue(before, name, labels)]),
  );
}

const refund = (key: string, body: Record<string, unknown>, apiKey: string = KEYS.billing) =>
  gw.http.post('/v1/refunds').set({ ...auth(apiKey), 'idempotency-key': key }).send(body);

describe('refund metrics', () => {
  it('when a refund is created and then replayed, then created, replayed, the replay counter and the amount in minor units move once each', async () => {
    const payment = await createPayment(gw.stripe, { amount: 5_000, currency: 'eur' });
    const moved = await delta(
      {
        created: ['gateway_refunds_total', { outcome: 'created', reason: 'duplicate', caller: 'billing' }],
        replayed: ['gateway_refunds_total', { outcome: 'replayed', reason: 'duplicate', caller: 'billing' }],
        replays: ['gateway_idempotency_replays_total', { operation: 'refund' }],
        amount: ['gateway_refunded_amount_minor_units_total', { currency: 'eur', caller: 'billing' }],
      },
      async () => {
        const body = { payment_intent: payment.intent, amount: 1_234, reason: 'duplicate' };
        expect((await refund(`bm-${payment.intent}`, body)).status).toBe(201);
        const again = await refund(`bm-${payment.intent}`, body);
        expect(again.status).toBe(201);
        expect(again.headers['idempotent-replayed']).toBe('true');
      },
    );
    expect(moved).toEqual({ created: 1, replayed: 1, replays: 1, amount: 1_234 });
  });

  it('when a rule refuses, then refused and the refusal by its code move, and no amount is counted', async () => {
    const payment = await createPayment(gw.stripe, { amount: 1_000 });
    const moved = await delta(
      {
        refused: ['gateway_refunds_total', { outcome: 'refused', reason: 'none', caller: 'shop' }],
        byCode: ['gateway_refusals_total', { operation: 'refund', code: 'amount_exceeds_refundable' }],
        amount: ['gateway_refunded_amount_minor_units_total', { caller: 'shop' }],
      },
      async () => {
        expect((await refund(`bm-over-${payment.intent}`, { payment_intent: payment.intent, amount: 5_000 }, KEYS.shop)).status).toBe(409);
      },
    );
    expect(moved).toEqual({ refused: 1, byCode: 1, amount: 0 });
  });

  it('when a key is reused with another body, then conflict and the conflict by code move, not refusals', async () => {
    const payment = await createPayment(gw.stripe);
    const moved = await delta(
      {
        conflict: ['gateway_refunds_total', { outcome: 'conflict', caller: 'billing' }],
        byCode: ['gateway_idempotency_conflicts_total', { operation: 'refund', code: 'idempotency_key_reused' }],
        refusals: ['gateway_refusals_total', { operation: 'refund', code: 'idempotency_key_reused' }],
      },
      async () => {
        expect((await refund(`bm-reuse-${payment.intent}`, { payment_intent: payment.intent, amount: 100 })).status).toBe(201);
        expect((await refund(`bm-reuse-${payment.intent}`, { payment_intent: payment.intent, amount: 200 })).status).toBe(422);
      },
    );
    expect(moved).toEqual({ conflict: 1, byCode: 1, refusals: 0 });
  });

  it('when Stripe fails, then failed moves; when the body is invalid, then rejected moves with the reason bounded to none', async () => {
    const payment = await createPayment(gw.stripe);
    const moved = await delta(
      {
        failed: ['gateway_refunds_total', { outcome: 'failed', caller: 'billing' }],
        rejected: ['gateway_refunds_total', { outcome: 'rejected', reason: 'none', caller: 'billing' }],
        unbounded: ['gateway_refunds_total', { reason: 'x'.repeat(30) }],
      },
      async () => {
        gw.emulator.control.injectFault({ method: 'POST', path: '/v1/refunds', kind: 'error', status: 500, times: 3 });
        expect((await refund(`bm-502-${payment.intent}`, { payment_intent: payment.intent, amount: 100 })).status).toBe(502);
        gw.emulator.control.clearFaults();
        expect((await refund(`bm-400-${payment.intent}`, { payment_intent: payment.intent, reason: 'x'.repeat(30) })).status).toBe(400);
      },
    );
    expect(moved).toEqual({ failed: 1, rejected: 1, unbounded: 0 });
  });

  it('when a request has no valid key, then it counts as rejected under caller none', async () => {
    const moved = await delta({ rejected: ['gateway_refunds_total', { outcome: 'rejected', caller: 'none' }] }, async () => {
      expect((await gw.http.post('/v1/refunds').set('authorization', 'Bearer nobody-0123456789abcdef').send({})).status).toBe(401);
    });
    expect(moved).toEqual({ rejected: 1 });
  });
});

describe('cancel metrics', () => {
  it('when an authorisation is cancelled, replayed, and a succeeded payment is asked to cancel, then canceled, replayed and refused move', async () => {
    const authorised = await createPayment(gw.stripe, { captureMethod: 'manual' });
    const succeeded = await createPayment(gw.stripe);
    const moved = await delta(
      {
        canceled: ['gateway_payment_intent_cancels_total', { outcome: 'canceled', caller: 'billing' }],
        replayed: ['gateway_payment_intent_cancels_total', { outcome: 'replayed', caller: 'billing' }],
        refused: ['gateway_payment_intent_cancels_total', { outcome: 'refused', caller: 'billing' }],
        byCode: ['gateway_refusals_total', { operation: 'cancel', code: 'payment_intent_not_cancelable' }],
        replays: ['gateway_idempotency_replays_total', { operation: 'cancel' }],
        refunds: ['gateway_refunds_total', {}],
      },
      async () => {
        const cancel = (id: string, key?: string) =>
          gw.http.post(`/v1/payment-intents/${id}/cancel`).set({ ...auth(), ...(key ? { 'idempotency-key': key } : {}) });
        expect((await cancel(authorised.intent, `bm-cancel-${authorised.intent}`)).status).toBe(200);
        expect((await cancel(authorised.intent, `bm-cancel-${authorised.intent}`)).headers['idempotent-replayed']).toBe('true');
        expect((await cancel(succeeded.intent)).status).toBe(409);
      },
    );
    expect(moved).toEqual({ canceled: 1, replayed: 1, refused: 1, byCode: 1, replays: 1, refunds: 0 });
  });
});

describe('outcomeOf', () => {
  it.each([
    ['refund', 201, undefined, false, 'created'],
    ['refund', 202, undefined, false, 'requested'],
    ['cancel', 200, undefined, false, 'canceled'],
    ['refund', 409, 'charge_already_refunded', true, 'replayed'],
    ['refund', 404, 'not_found', false, 'refused'],
    ['refund', 409, 'payment_busy', false, 'refused'],
    ['refund', 409, 'idempotency_request_in_progress', false, 'conflict'],
    ['refund', 422, 'idempotency_key_reused', false, 'conflict'],
    ['refund', 504, 'upstream_timeout', false, 'failed'],
    ['refund', 503, 'overloaded', false, 'rejected'],
    ['refund', 429, 'rate_limited', false, 'rejected'],
  ] as const)('when %s answers %i %s (replayed: %s), then the outcome is %s', (operation, status, code, replayed, outcome) => {
    expect(outcomeOf(operation, status, code, replayed)).toBe(outcome);
  });
});

describe.skipIf(testDatabaseUrl === undefined)('ledger pool gauges (PostgreSQL)', () => {
  it('when the gateway runs on PostgreSQL, then /metrics shows both pools with their maximum, open, idle and waiting counts', async () => {
    const pg = await newPostgresTestLedger();
    const onPostgres = await startTestGateway({ ledger: pg.ledger });
    try {
      expect((await onPostgres.http.get('/readyz')).status).toBe(200);
      const text = await scrape(onPostgres);
      expect(sampleValue(text, 'gateway_ledger_pool_max_connections', { pool: 'queries' })).toBe(10);
      expect(sampleValue(text, 'gateway_ledger_pool_max_connections', { pool: 'locks' })).toBe(20);
      expect(sampleValue(text, 'gateway_ledger_pool_connections', { pool: 'queries' })).toBeGreaterThanOrEqual(1);
      expect(text).toMatch(/^gateway_ledger_pool_idle_connections\{pool="queries"\} \d+$/m);
      expect(sampleValue(text, 'gateway_ledger_pool_waiting_requests', { pool: 'queries' })).toBe(0);
    } finally {
      await onPostgres.close();
      await pg.close();
    }
  });
});

describe('on the embedded ledger', () => {
  it('when there are no pools, then the pool gauges are declared but carry no samples', async () => {
    const text = await scrape();
    expect(declaredMetrics(text).get('gateway_ledger_pool_waiting_requests')).toBe('gauge');
    expect(text).not.toMatch(/^gateway_ledger_pool_waiting_requests\{/m);
  });
});
