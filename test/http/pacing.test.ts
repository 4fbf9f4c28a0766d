// Pacing Stripe: a burst well over the rate limit waits its turn across replicas instead of earning Stripe's 429s.
import { describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/server.js';
import { createLedger } from '../../src/ledger/create-ledger.js';
import { auth, createPayment, refundPosts, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { createPostgresTestDatabase, testDatabaseUrl } from '../helpers/ledger.js';

const rateShare = async (gw: TestGateway): Promise<number> =>
  Number(/^gateway_stripe_rate_share_per_second (\S+)$/m.exec((await gw.http.get('/metrics')).text)?.[1]);

describe('pacing Stripe calls in one gateway', () => {
  it('when a burst of refunds asks for 3× the calls Stripe allows a second, then every refund is made and Stripe answers no 429', async () => {
    const emulator = await startEmulator({ port: 0 });
    const gw = await startTestGateway({ emulator, env: { STRIPE_RATE_LIMIT_PER_SECOND: '20' } });
    try {
      const payments = [];
      for (let i = 0; i < 30; i += 1) payments.push(await createPayment(gw.stripe, { amount: 1_000 }));
      // Stripe's test-mode limits, once the shop's own calls have left the emulator's one-second window.
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      emulator.control.updateSettings({ rate_limit: { per_second: 25, per_endpoint_per_second: 25 } });
      const before = emulator.control.rateLimitStats().rate_limited;

      // 30 refunds by charge = 60 Stripe calls at once, against 20 a second.
      const answers = await Promise.all(
        payments.map((p, i) => gw.http.post('/v1/refunds').set(auth()).set('idempotency-key', `burst-${i}`).send({ charge: p.charge })),
      );

      expect(answers.map((a) => a.status)).toEqual(payments.map(() => 201));
      expect(emulator.control.rateLimitStats().rate_limited - before).toBe(0);
      expect(refundPosts(emulator).filter((r) => r.status === 200)).toHaveLength(30);
    } finally {
      await gw.close();
      await emulator.close();
    }
  }, 30_000);

  it('when the burst could not be served within a request’s budget, then that request is 503 with retry-after and nothing reaches Stripe for it', async () => {
    const emulator = await startEmulator({ port: 0 });
    // A budget of 100 + 300 + 300 ms for each refund, against 2 calls a second.
    const gw = await startTestGateway({ emulator, env: { STRIPE_RATE_LIMIT_PER_SECOND: '2', LOCK_WAIT_MS: '100', STRIPE_TIMEOUT_MS: '300', STRIPE_MAX_NETWORK_RETRIES: '0' } });
    try {
      const payments = [];
      for (let i = 0; i < 4; i += 1) payments.push(await createPayment(gw.stripe, { amount: 1_000 }));
      const answers = await Promise.all(
        payments.map((p, i) => gw.http.post('/v1/refunds').set(auth()).set('idempotency-key', `late-${i}`).send({ charge: p.charge })),
      );
      const refused = answers.filter((a) => a.status === 503);
      expect(refused.length).toBeGreaterThan(0);
      for (const answer of refused) {
        expect(answer.body.code).toBe('upstream_unavailable');
        expect(Number(answer.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      }
      expect(refundPosts(emulator)).toHaveLength(answers.filter((a) => a.status === 201).length);
    } finally {
      await gw.close();
      await emulator.close();
    }
  }, 30_000);
});

describe.skipIf(testDatabaseUrl === undefined)(
  `pacing across two replicas on one PostgreSQL${testDatabaseUrl === undefined ? ' (skipped: TEST_DATABASE_URL not set)' : ''}`,
  () => {
    it('when a burst at 3× the limit is spread over two replicas, then each keeps to half the rate: no 429 and no request lost', async () => {
      const database = await createPostgresTestDatabase(testDatabaseUrl ?? '');
      const emulator = await startEmulator({ port: 0 });
      const ledgers = await Promise.all([0, 1].map(() => createLedger({ kind: 'postgres', databaseUrl: database.databaseUrl })));
      const [a, b] = await Promise.all(ledgers.map((ledger) => startTestGateway({ emulator, ledger, env: { STRIPE_RATE_LIMIT_PER_SECOND: '20' } })));
      try {
        // Each replica learns from its heartbeat that there are two of them.
        await expect.poll(async () => [await rateShare(a!), await rateShare(b!)], { timeout: 10_000 }).toEqual([10, 10]);
        const payments = [];
        for (let i = 0; i < 30; i += 1) payments.push(await createPayment(a!.stripe, { amount: 1_000 }));
        await new Promise((resolve) => setTimeout(resolve, 1_100));
        emulator.control.updateSettings({ rate_limit: { per_second: 25, per_endpoint_per_second: 25 } });
        const before = emulator.control.rateLimitStats().rate_limited;

        const answers = await Promise.all(
          payments.map((p, i) => (i % 2 ? a! : b!).http.post('/v1/refunds').set(auth()).set('idempotency-key', `replicas-${i}`).send({ charge: p.charge })),
        );

        expect(answers.map((r) => r.status)).toEqual(payments.map(() => 201));
        expect(emulator.control.rateLimitStats().rate_limited - before).toBe(0);
        expect(refundPosts(emulator).filter((r) => r.status === 200)).toHaveLength(30);
      } finally {
        await Promise.allSettled([a?.close(), b?.close()]);
        await Promise.allSettled([...ledgers.map((l) => l.close()), emulator.close()]);
        await database.drop();
      }
    }, 60_000);
  },
);
