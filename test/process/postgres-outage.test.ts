// A real PostgreSQL that stops, and lock connections that are killed, under a gateway process: answers, not crashes.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { createPayment, refundPosts, sdkFor } from '../helpers/gateway.js';
import { testDatabaseUrl } from '../helpers/ledger.js';
import { postgresBinaries, startPrivatePostgres, type PrivatePostgres } from '../helpers/private-postgres.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/process.js';

const KEY = 'process-test-key-0123456789abcdef';
const API_KEYS = JSON.stringify([{ id: 'billing', key: KEY, scopes: ['refunds:read', 'refunds:write', 'payment_intents:write'] }]);
const skip = testDatabaseUrl === undefined || postgresBinaries === undefined;

describe.skipIf(skip)(`the ledger's PostgreSQL fails under a running gateway${skip ? ' (skipped: TEST_DATABASE_URL not set or no PostgreSQL server programs)' : ''}`, () => {
  let emulator: RunningEmulator;
  let postgres: PrivatePostgres;
  let gateway: GatewayProcess;

  beforeEach(async () => {
    emulator = await startEmulator({ port: 0 });
    postgres = await startPrivatePostgres();
    gateway = await startGatewayProcess({
      STRIPE_SECRET_KEY: 'sk_test_process',
      STRIPE_API_BASE: emulator.url,
      API_KEYS,
      DATABASE_URL: postgres.url,
      DATABASE_STATEMENT_TIMEOUT_MS: '1000',
      STRIPE_MAX_NETWORK_RETRIES: '0',
      STRIPE_TIMEOUT_MS: '5000',
      LOCK_WAIT_MS: '1000',
    });
  }, 60_000);
  afterEach(async () => {
    await gateway?.stop('SIGKILL');
    await emulator?.close();
    postgres?.destroy();
  });

  const post = (key: string, body: object) =>
    fetch(`${gateway.url}/v1/refunds`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify(body),
    });
  const refundsOf = async (paymentIntent: string) => (await sdkFor(emulator).refunds.list({ payment_intent: paymentIntent })).data;

  it('when the database stops, then refunds are 503 ledger_unavailable with nothing sent to Stripe, and they work again once it is back, without a restart', async () => {
    const before = await createPayment(sdkFor(emulator), { amount: 5_000 });
    expect((await post('up-1', { payment_intent: before.intent, amount: 100 })).status).toBe(201);
    const p = await createPayment(sdkFor(emulator), { amount: 5_000 });
    const stripeCallsBefore = emulator.control.requests().length;

    postgres.stop();
    const refused = await post('down-1', { payment_intent: p.intent, amount: 700 });

    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await refused.json()).toMatchObject({ status: 503, code: 'ledger_unavailable' });
    expect(emulator.control.requests()).toHaveLength(stripeCallsBefore);
    expect((await fetch(`${gateway.url}/readyz`)).status).toBe(503);
    expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200);

    postgres.start();
    let answer: Response | undefined;
    await expect
      .poll(async () => (answer = await post('down-1', { payment_intent: p.intent, amount: 700 })).status, { timeout: 15_000, interval: 250 })
      .toBe(201);
    expect(((await answer!.json()) as { amount: number }).amount).toBe(700);
    expect(await refundsOf(p.intent)).toHaveLength(1);
    expect(gateway.child.exitCode).toBeNull();
  }, 60_000);

  it('when the lock connection is killed while the refund waits on Stripe, then the process lives, the refund is answered, and a retry replays it: one refund', async () => {
    const p = await createPayment(sdkFor(emulator), { amount: 5_000 });
    emulator.control.injectFault({ method: 'POST', path: '/v1/refunds', kind: 'delay', delay_ms: 1_500, times: 1 });
    const inFlight = post('kill-1', { payment_intent: p.intent, amount: 800 });
    await expect.poll(() => emulator.control.requests({ method: 'POST', path: '/v1/refunds' }).length).toBe(1);

    expect(await postgres.terminate('%pg_try_advisory_lock%')).toBe(1);
    const answer = await inFlight;

    expect(answer.status).toBe(201);
    expect(gateway.child.exitCode).toBeNull();
    expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200);
    const replay = await post('kill-1', { payment_intent: p.intent, amount: 800 });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(await refundsOf(p.intent)).toHaveLength(1);
    expect(gateway.output()).toContain('the turn is lost');
  }, 60_000);

  it('when the lock connection is killed before the refund is sent, then no refund is sent on a lost turn (503), and a retry makes exactly one', async () => {
    const p = await createPayment(sdkFor(emulator), { amount: 5_000 });
    // The charge read happens while the turn is held; it is slow, and the lock's connection dies meanwhile.
    emulator.control.injectFault({ method: 'GET', path: '/v1/charges/*', kind: 'delay', delay_ms: 1_500, times: 1 });
    const inFlight = post('kill-2', { payment_intent: p.intent, amount: 800 });
    await expect.poll(() => emulator.control.requests({ method: 'GET' }).filter((r) => r.path.startsWith('/v1/charges/')).length).toBeGreaterThanOrEqual(1);

    expect(await postgres.terminate('%pg_try_advisory_lock%')).toBe(1);
    const answer = await inFlight;

    expect(answer.status).toBe(503);
    expect(await answer.json()).toMatchObject({ code: 'ledger_unavailable' });
    expect(refundPosts(emulator)).toHaveLength(0);
    expect(gateway.child.exitCode).toBeNull();
    const retried = await post('kill-2', { payment_intent: p.intent, amount: 800 });
    expect(retried.status).toBe(201);
    expect(await refundsOf(p.intent)).toHaveLength(1);
  }, 60_000);
});
