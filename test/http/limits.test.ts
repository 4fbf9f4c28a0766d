// Caller limits on POST /v1/refunds: max_amount, daily_amount and approval_above, at, under and over each bound, per currency.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedger } from '../../src/ledger/create-ledger.js';
import { startEmulator } from '../../src/emulator/server.js';
import { createPayment, refundPosts, type TestGateway } from '../helpers/gateway.js';
import { createPostgresTestDatabase, testDatabaseUrl } from '../helpers/ledger.js';
import { newKey, OPS_KEYS, refundAs, startOpsGateway } from '../helpers/operations.js';

const today = () => new Date().toISOString().slice(0, 10);
const postsFor = (gw: TestGateway, intent: string) => refundPosts(gw.emulator).filter((r) => r.body.payment_intent === intent);

describe('max_amount', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startOpsGateway();
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('when a refund is at or under the limit, then it is made; one unit over, then 403 policy_limit_exceeded (window refund) before Stripe', async () => {
    const p = await createPayment(gw.stripe, { amount: 10_000 });
    expect((await refundAs(gw, OPS_KEYS.capped, { payment_intent: p.intent, amount: 2_999 })).status).toBe(201);
    expect((await refundAs(gw, OPS_KEYS.capped, { payment_intent: p.intent, amount: 3_000 })).status).toBe(201);
    const over = await refundAs(gw, OPS_KEYS.capped, { payment_intent: p.intent, amount: 3_001 });
    expect(over.status).toBe(403);
    expect(over.headers['content-type']).toContain('application/problem+json');
    expect(over.body).toMatchObject({ status: 403, code: 'policy_limit_exceeded', window: 'refund', limit: 3_000, remaining: 3_000, currency: 'usd' });
    expect(postsFor(gw, p.intent)).toHaveLength(2);
  });

  it('when the amount is omitted, then what it resolves to counts', async () => {
    const small = await createPayment(gw.stripe, { amount: 3_000 });
    expect((await refundAs(gw, OPS_KEYS.capped, { payment_intent: small.intent })).body).toMatchObject({ amount: 3_000 });
    const big = await createPayment(gw.stripe, { amount: 3_001 });
    const refused = await refundAs(gw, OPS_KEYS.capped, { payment_intent: big.intent });
    expect(refused.body).toMatchObject({ code: 'policy_limit_exceeded', window: 'refund', limit: 3_000 });
    expect(postsFor(gw, big.intent)).toHaveLength(0);
  });

  it('when the currency has its own limit, then that one applies; a currency not listed is unlimited', async () => {
    const eur = await createPayment(gw.stripe, { amount: 10_000, currency: 'eur' });
    expect((await refundAs(gw, OPS_KEYS.capped, { payment_intent: eur.intent, amount: 2_000 })).status).toBe(201);
    expect((await refundAs(gw, OPS_KEYS.capped, { payment_intent: eur.intent, amount: 2_001 })).body).toMatchObject({
      code: 'policy_limit_exceeded',
      limit: 2_000,
      currency: 'eur',
    });
    const gbp = await createPayment(gw.stripe, { amount: 90_000, currency: 'gbp' });
    expect((await refundAs(gw, OPS_KEYS.capped, { payment_intent: gbp.intent, amount: 90_000 })).status).toBe(201);
  });

  it('when a caller has no limits, then nothing is capped', async () => {
    const p = await createPayment(gw.stripe, { amount: 999_999 });
    expect((await refundAs(gw, 'billing-key-0123456789abcdef', { payment_intent: p.intent })).status).toBe(201);
  });

  it('when a rule refuses too, then the rule answers (limits come after the rules)', async () => {
    const p = await createPayment(gw.stripe, { amount: 2_000 });
    const res = await refundAs(gw, OPS_KEYS.capped, { payment_intent: p.intent, amount: 5_000 });
    expect(res.body).toMatchObject({ status: 409, code: 'amount_exceeds_refundable', refundable_amount: 2_000 });
    const mismatch = await refundAs(gw, OPS_KEYS.capped, { payment_intent: p.intent, amount: 5_000, currency: 'eur' });
    expect(mismatch.body.code).toBe('currency_mismatch');
  });

  it('when a refusal by a limit is retried with the same key, then it runs again (a 403 is not stored)', async () => {
    const p = await createPayment(gw.stripe, { amount: 5_000 });
    const key = newKey('max');
    const first = await refundAs(gw, OPS_KEYS.capped, { payment_intent: p.intent, amount: 4_000 }, key);
    const again = await refundAs(gw, OPS_KEYS.capped, { payment_intent: p.intent, amount: 4_000 }, key);
    expect([first.status, again.status]).toEqual([403, 403]);
    expect(again.headers['idempotent-replayed']).toBeUndefined();
  });
});

describe('daily_amount', () => {
  // The gateway's clock, ahead of the real one (attempt deadlines are measured against it).
  let clock = new Date('2030-01-07T08:00:00Z');
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startOpsGateway({ now: () => clock, env: { STRIPE_MAX_NETWORK_RETRIES: '0', STRIPE_TIMEOUT_MS: '1000' } });
  });
  afterAll(async () => {
    await gw?.close();
  });
  const used = () => gw.ledger.dailyUsed({ caller: 'daily', currency: 'usd', day: clock.toISOString().slice(0, 10) });

  it('when the day adds up to the cap exactly, then each refund is made; one unit more is 403 with remaining 0; the next UTC day starts afresh', async () => {
    clock = new Date('2030-01-07T08:00:00Z');
    const p = await createPayment(gw.stripe, { amount: 20_000 });
    expect((await refundAs(gw, OPS_KEYS.daily, { payment_intent: p.intent, amount: 3_000 })).status).toBe(201);
    const partial = await refundAs(gw, OPS_KEYS.daily, { payment_intent: p.intent, amount: 2_001 });
    expect(partial.body).toMatchObject({ status: 403, code: 'policy_limit_exceeded', window: 'day', limit: 5_000, remaining: 2_000, currency: 'usd' });
    expect((await refundAs(gw, OPS_KEYS.daily, { payment_intent: p.intent, amount: 2_000 })).status).toBe(201);
    expect((await refundAs(gw, OPS_KEYS.daily, { payment_intent: p.intent, amount: 1 })).body).toMatchObject({ window: 'day', remaining: 0 });
    expect(await used()).toBe(5_000);
    expect(postsFor(gw, p.intent)).toHaveLength(2);

    clock = new Date('2030-01-07T23:59:59Z');
    expect((await refundAs(gw, OPS_KEYS.daily, { payment_intent: p.intent, amount: 1 })).status).toBe(403);
    clock = new Date('2030-01-08T00:00:00Z');
    expect((await refundAs(gw, OPS_KEYS.daily, { payment_intent: p.intent, amount: 5_000 })).status).toBe(201);
  });

  it('when a refund is refused by a rule or by Stripe, then it takes nothing from the day', async () => {
    clock = new Date('2030-01-09T08:00:00Z');
    const p = await createPayment(gw.stripe, { amount: 4_000 });
    expect((await refundAs(gw, OPS_KEYS.daily, { payment_intent: p.intent, amount: 4_001 })).body.code).toBe('amount_exceeds_refundable');
    // Stripe's own refusal after the reservation was made: it is given back.
    gw.emulator.control.injectFault({ method: 'POST', path: '/v1/refunds', kind: 'error', status: 400, code: 'charge_already_refunded', times: 1 });
    expect((await refundAs(gw, OPS_KEYS.daily, { payment_intent: p.intent, amount: 4_000 })).body.code).toBe('charge_already_refunded');
    expect(await used()).toBe(0);
    // Stripe never reached (rate-limited throughout): surely not made, given back too.
    gw.emulator.control.injectFault({ method: 'POST', path: '/v1/refunds', kind: 'rate_limit', times: 5 });
    expect((await refundAs(gw, OPS_KEYS.daily, { payment_intent: p.intent, amount: 4_000 })).body.code).toBe('upstream_unavailable');
    gw.emulator.control.clearFaults();
    expect(await used()).toBe(0);
    expect((await refundAs(gw, OPS_KEYS.daily, { payment_intent: p.intent, amount: 4_000 })).status).toBe(201);
    expect(await used()).toBe(4_000);
  });

  it('when Stripe made the refund but the answer was lost (504), then the reservation is kept, and the retry that settles it reserves nothing more', async () => {
    clock = new Date('2030-01-10T08:00:00Z');
    const p = await createPayment(gw.stripe, { amount: 5_000 });
    const key = newKey('daily-504');
    // The work is done at once, the answer comes after the gateway stopped waiting (STRIPE_TIMEOUT_MS 1000).
    gw.emulator.control.injectFault({ method: 'POST', path: '/v1/refunds', kind: 'delay_after_work', delay_ms: 2_500, times: 1 });
    const lost = await refundAs(gw, OPS_KEYS.daily, { payment_intent: p.intent, amount: 3_000 }, key);
    expect(lost.body.code).toBe('upstream_timeout');
    expect(await used()).toBe(3_000);
    // Until the retry, the outcome is unknown: the day treats it as made (2 000 left, not 5 000).
    const other = await createPayment(gw.stripe, { amount: 5_000 });
    expect((await refundAs(gw, OPS_KEYS.daily, { payment_intent: other.intent, amount: 2_001 })).body).toMatchObject({ window: 'day', remaining: 2_000 });
    const retried = await refundAs(gw, OPS_KEYS.daily, { payment_intent: p.intent, amount: 3_000 }, key);
    expect(retried.status).toBe(201);
    expect(await used()).toBe(3_000);
    expect((await gw.stripe.refunds.list({ payment_intent: p.intent })).data).toHaveLength(1);
  });

  it('when a refund fails at Stripe before the answer (a 504 that made nothing), then the retry that is refused gives the reservation back', async () => {
    clock = new Date('2030-01-11T08:00:00Z');
    const p = await createPayment(gw.stripe, { amount: 5_000 });
    const key = newKey('daily-504-none');
    gw.emulator.control.injectFault({ method: 'POST', path: '/v1/refunds', kind: 'reset', times: 10 });
    expect((await refundAs(gw, OPS_KEYS.daily, { payment_intent: p.intent, amount: 3_000 }, key)).body.code).toBe('upstream_timeout');
    gw.emulator.control.clearFaults();
    expect(await used()).toBe(3_000);
    // Meanwhile someone refunded the whole payment in the Dashboard: the retry is refused by the rules.
    await gw.stripe.refunds.create({ payment_intent: p.intent });
    expect((await refundAs(gw, OPS_KEYS.daily, { payment_intent: p.intent, amount: 3_000 }, key)).body.code).toBe('charge_already_refunded');
    expect(await used()).toBe(0);
  });
});

describe('the daily cap under concurrent refunds', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startOpsGateway();
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('when 20 refunds of one caller race across 20 charges, then the refunds Stripe made never add up past the cap', async () => {
    const payments = await Promise.all(Array.from({ length: 20 }, () => createPayment(gw.stripe, { amount: 1_000 })));
    const responses = await Promise.all(payments.map((p) => refundAs(gw, OPS_KEYS.daily, { payment_intent: p.intent, amount: 700 })));
    const made = responses.filter((r) => r.status === 201);
    expect(made).toHaveLength(7);
    expect(responses.filter((r) => r.status !== 201).every((r) => r.status === 403 && r.body.code === 'policy_limit_exceeded' && r.body.window === 'day')).toBe(
      true,
    );
    // At Stripe: exactly the seven, 4 900 of the 5 000.
    const ids = new Set(payments.map((p) => p.intent));
    const posts = refundPosts(gw.emulator).filter((r) => ids.has(String(r.body.payment_intent)));
    expect(posts.filter((r) => r.status === 200).map((r) => Number(r.body.amount)).reduce((a, b) => a + b, 0)).toBe(4_900);
    expect(posts).toHaveLength(7);
    expect(await gw.ledger.dailyUsed({ caller: 'daily', currency: 'usd', day: today() })).toBe(4_900);
  });

  it('when refunds of one caller race on one charge, then the cap and the charge both hold', async () => {
    const other = await startOpsGateway();
    try {
      const p = await createPayment(other.stripe, { amount: 10_000 });
      const responses = await Promise.all(Array.from({ length: 10 }, () => refundAs(other, OPS_KEYS.daily, { payment_intent: p.intent, amount: 700 })));
      expect(responses.filter((r) => r.status === 201)).toHaveLength(7);
      expect((await other.stripe.charges.retrieve(p.charge!)).amount_refunded).toBe(4_900);
    } finally {
      await other.close();
    }
  });
});

describe('approval_above', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startOpsGateway();
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('when a refund is at the threshold, then it is made; one unit over, then 202 with a refund request and nothing at Stripe', async () => {
    const p = await createPayment(gw.stripe, { amount: 50_000 });
    expect((await refundAs(gw, OPS_KEYS.desk, { payment_intent: p.intent, amount: 20_000 })).status).toBe(201);
    const over = await refundAs(gw, OPS_KEYS.desk, { payment_intent: p.intent, amount: 20_001 });
    expect(over.status).toBe(202);
    expect(over.body).toMatchObject({ status: 'awaiting_approval', amount: 20_001, currency: 'usd', requested_by: 'support-desk' });
    expect(postsFor(gw, p.intent)).toHaveLength(1);
  });

  it('when the amount is over max_amount too, then 403 (it could never be approved), not a request', async () => {
    const p = await createPayment(gw.stripe, { amount: 60_000 });
    expect((await refundAs(gw, OPS_KEYS.desk, { payment_intent: p.intent })).body).toMatchObject({ code: 'policy_limit_exceeded', limit: 50_000 });
  });

  it('when the currency has no threshold, then no approval is needed', async () => {
    const p = await createPayment(gw.stripe, { amount: 40_000, currency: 'eur' });
    expect((await refundAs(gw, OPS_KEYS.desk, { payment_intent: p.intent })).status).toBe(201);
  });
});

describe.skipIf(testDatabaseUrl === undefined)(
  `the daily cap across two replicas on one PostgreSQL${testDatabaseUrl === undefined ? ' (skipped: TEST_DATABASE_URL not set)' : ''}`,
  () => {
    it('when 20 refunds of one caller race across two replicas and 20 charges, then Stripe makes refunds within the cap only', async () => {
      const database = await createPostgresTestDatabase(testDatabaseUrl ?? '');
      const emulator = await startEmulator();
      const [ledgerA, ledgerB] = await Promise.all([
        createLedger({ kind: 'postgres', databaseUrl: database.databaseUrl }),
        createLedger({ kind: 'postgres', databaseUrl: database.databaseUrl }),
      ]);
      const a = await startOpsGateway({ emulator, ledger: ledgerA });
      const b = await startOpsGateway({ emulator, ledger: ledgerB });
      try {
        const payments = await Promise.all(Array.from({ length: 20 }, () => createPayment(a.stripe, { amount: 1_000 })));
        const responses = await Promise.all(payments.map((p, i) => refundAs(i % 2 ? a : b, OPS_KEYS.daily, { payment_intent: p.intent, amount: 600 })));
        expect(responses.filter((r) => r.status === 201)).toHaveLength(8);
        const made = refundPosts(emulator).filter((r) => r.status === 200);
        expect(made.map((r) => Number(r.body.amount)).reduce((x, y) => x + y, 0)).toBe(4_800);
        expect(refundPosts(emulator)).toHaveLength(8);
      } finally {
        await Promise.allSettled([a.close(), b.close()]);
        await Promise.allSettled([ledgerA.close(), ledgerB.close(), emulator.close()]);
        await database.drop();
      }
    });
  },
);
