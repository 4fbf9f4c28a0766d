// Concurrent refunds of one payment: never more than captured, refusals never reach Stripe, one process or several.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedger } from '../../src/ledger/create-ledger.js';
import { startEmulator } from '../../src/emulator/server.js';
import { auth, createPayment, refundPosts, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { createPostgresTestDatabase, testDatabaseUrl } from '../helpers/ledger.js';

const refund = (gw: TestGateway, k: string, body: Record<string, unknown>) =>
  gw.http.post('/v1/refunds').set(auth()).set('idempotency-key', k).send(body);

const statuses = (responses: { status: number; body: { code?: string } }[]) =>
  responses.reduce<Record<string, number>>((acc, r) => {
    const label = r.status === 201 ? '201' : `${r.status} ${r.body.code}`;
    acc[label] = (acc[label] ?? 0) + 1;
    return acc;
  }, {});

describe('concurrent refunds in one gateway', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('when 20 refunds of 1000 race on a 10000 charge, then exactly 10 succeed, the rest are refused before Stripe', async () => {
    const p = await createPayment(gw.stripe, { amount: 10_000 });
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => refund(gw, `race-${i}`, i % 2 ? { charge: p.charge, amount: 1_000 } : { payment_intent: p.intent, amount: 1_000 })),
    );
    expect(responses.filter((r) => r.status === 201)).toHaveLength(10);
    expect(responses.filter((r) => r.status !== 201).every((r) => r.status === 409 && r.body.code === 'charge_already_refunded')).toBe(true);
    expect((await gw.stripe.charges.retrieve(p.charge!)).amount_refunded).toBe(10_000);
    // Serialised, so Stripe never had to refuse anything: it saw exactly the ten refunds it made.
    const posts = refundPosts(gw.emulator).filter((r) => r.body.charge === p.charge || r.body.payment_intent === p.intent);
    expect(posts).toHaveLength(10);
    expect(posts.every((r) => r.status === 200)).toBe(true);
  });

  it('when full refunds race, then one succeeds and every other is charge_already_refunded', async () => {
    const p = await createPayment(gw.stripe, { amount: 3_000 });
    const responses = await Promise.all(Array.from({ length: 8 }, (_, i) => refund(gw, `full-${i}`, { payment_intent: p.intent })));
    expect(statuses(responses)).toEqual({ '201': 1, '409 charge_already_refunded': 7 });
  });

  it('when a refund waits longer than LOCK_WAIT_MS for its turn, then 409 payment_busy with retry-after, and it is not stored', async () => {
    const busy = await startTestGateway({ env: { LOCK_WAIT_MS: '50' } });
    try {
      const p = await createPayment(busy.stripe);
      busy.emulator.control.injectFault({ method: 'POST', path: '/v1/refunds', kind: 'delay', delay_ms: 400, times: 1 });
      const slow = refund(busy, 'slow', { payment_intent: p.intent, amount: 100 }).then((r) => r);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const waiting = await refund(busy, 'waiting', { payment_intent: p.intent, amount: 100 });
      expect(waiting.status).toBe(409);
      expect(waiting.body.code).toBe('payment_busy');
      expect(waiting.headers['retry-after']).toBe('1');
      expect((await slow).status).toBe(201);
      // payment_busy says nothing final: the same key runs again once the payment is free.
      const retried = await refund(busy, 'waiting', { payment_intent: p.intent, amount: 100 });
      expect(retried.status).toBe(201);
      expect(retried.headers['idempotent-replayed']).toBeUndefined();
    } finally {
      await busy.close();
    }
  });

  it('when one payment’s refund is held at Stripe, then a refund of another payment completes meanwhile (they do not wait for each other)', async () => {
    const slow = await createPayment(gw.stripe, { amount: 1_000 });
    const other = await createPayment(gw.stripe, { amount: 1_000 });
    // Only the slow payment's refund is held at Stripe, until the fault is cleared: no timing decides this test.
    gw.emulator.control.injectFault({ method: 'POST', path: '/v1/refunds', kind: 'delay', delay_ms: 600_000, match: { payment_intent: slow.intent } });
    try {
      let heldAnswered = false;
      const held = refund(gw, 'held', { payment_intent: slow.intent }).then((r) => {
        heldAnswered = true;
        return r;
      });
      // The held refund is in flight: it has reached Stripe, holding its payment's turn, and waits there.
      const atStripe = () => refundPosts(gw.emulator).some((r) => r.body.payment_intent === slow.intent && r.status === null);
      await expect.poll(atStripe, { timeout: 20_000 }).toBe(true);
      const meanwhile = await refund(gw, 'meanwhile', { payment_intent: other.intent });
      expect(meanwhile.status).toBe(201);
      expect(heldAnswered).toBe(false);
      gw.emulator.control.clearFaults();
      expect((await held).status).toBe(201);
    } finally {
      gw.emulator.control.clearFaults();
    }
  });
});

describe.skipIf(testDatabaseUrl === undefined)(
  `two replicas on one PostgreSQL${testDatabaseUrl === undefined ? ' (skipped: TEST_DATABASE_URL not set)' : ''}`,
  () => {
    it('when 20 refunds race across two gateway replicas, then the advisory lock keeps them within the charge and Stripe refuses nothing', async () => {
      const database = await createPostgresTestDatabase(testDatabaseUrl ?? '');
      const emulator = await startEmulator();
      const [ledgerA, ledgerB] = await Promise.all([
        createLedger({ kind: 'postgres', databaseUrl: database.databaseUrl }),
        createLedger({ kind: 'postgres', databaseUrl: database.databaseUrl }),
      ]);
      const a = await startTestGateway({ emulator, ledger: ledgerA });
      const b = await startTestGateway({ emulator, ledger: ledgerB });
      try {
        const p = await createPayment(a.stripe, { amount: 10_000 });
        const responses = await Promise.all(
          Array.from({ length: 20 }, (_, i) => refund(i % 2 ? a : b, `replica-${i}`, { payment_intent: p.intent, amount: 1_000 })),
        );
        expect(statuses(responses)).toEqual({ '201': 10, '409 charge_already_refunded': 10 });
        expect((await a.stripe.charges.retrieve(p.charge!)).amount_refunded).toBe(10_000);
        expect(refundPosts(emulator).every((r) => r.status === 200)).toBe(true);
        expect(refundPosts(emulator)).toHaveLength(10);
      } finally {
        await Promise.allSettled([a.close(), b.close()]);
        await Promise.allSettled([ledgerA.close(), ledgerB.close(), emulator.close()]);
        await database.drop();
      }
    });
  },
);
