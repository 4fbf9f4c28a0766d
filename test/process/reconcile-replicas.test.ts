// Two gateway processes on one PostgreSQL: reconciliation runs in one of them at a time, and still keeps the index right.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { createPayment, sdkFor } from '../helpers/gateway.js';
import { createPostgresTestDatabase, testDatabaseUrl } from '../helpers/ledger.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/process.js';

const KEY = 'process-test-key-0123456789abcdef';
const API_KEYS = JSON.stringify([{ id: 'billing', key: KEY, scopes: ['refunds:read', 'refunds:write', 'payment_intents:write'] }]);
const skip = testDatabaseUrl === undefined;

interface RunLine {
  msg: string;
  holder: string;
  started_at: string;
  duration_ms: number;
  events_applied: number;
}

/** The 'reconciliation run' lines a process logged (JSON lines on stdout). */
const runsOf = (gateway: GatewayProcess): RunLine[] =>
  gateway
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as RunLine)
    .filter((line) => line.msg === 'reconciliation run');

const metric = async (gateway: GatewayProcess, line: string): Promise<number> => {
  const found = (await (await fetch(`${gateway.url}/metrics`)).text()).split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? 0 : Number(found.slice(line.length + 1));
};

describe.skipIf(skip)(`reconciliation with two gateway processes on PostgreSQL${skip ? ' (skipped: TEST_DATABASE_URL not set)' : ''}`, () => {
  let emulator: RunningEmulator;
  let database: { databaseUrl: string; drop(): Promise<void> };
  let gateways: GatewayProcess[] = [];

  beforeEach(async () => {
    emulator = await startEmulator({ port: 0 });
    emulator.control.updateSettings({ webhooks: false });
    database = await createPostgresTestDatabase(testDatabaseUrl ?? '');
    const env = {
      STRIPE_SECRET_KEY: 'sk_test_replicas',
      STRIPE_API_BASE: emulator.url,
      API_KEYS,
      DATABASE_URL: database.databaseUrl,
      DATABASE_POOL_SIZE: '3',
      RECONCILE_INTERVAL_MS: '200',
      STRIPE_MAX_NETWORK_RETRIES: '0',
      // Longer than the held run below: the held call must not time out while the test looks.
      STRIPE_TIMEOUT_MS: '30000',
    };
    // One after the other: the first applies the migrations, the second finds them done.
    gateways = [await startGatewayProcess(env), await startGatewayProcess(env)];
  }, 90_000);
  afterEach(async () => {
    await Promise.all(gateways.map((g) => g.stop('SIGTERM')));
    await emulator?.close();
    await database?.drop();
  });

  it('when one process’s run is held at Stripe, then the other finds the job busy and never reads Stripe meanwhile; every run is one at a time', async () => {
    const [a, b] = gateways as [GatewayProcess, GatewayProcess];
    await expect.poll(async () => (await metric(a, 'gateway_reconcile_runs_total{outcome="done"}')) + (await metric(b, 'gateway_reconcile_runs_total{outcome="done"}')), { timeout: 20_000 }).toBeGreaterThanOrEqual(2);

    // The next read of the event list hangs for 10 s at Stripe, with the job's lease held by whoever made it.
    emulator.control.clearRequests();
    emulator.control.injectFault({ method: 'GET', path: '/v1/events', kind: 'delay', delay_ms: 10_000, times: 1 });
    await expect.poll(() => emulator.control.requests({ method: 'GET', path: '/v1/events' }).length, { timeout: 10_000 }).toBe(1);
    const busyBefore = (await metric(a, 'gateway_reconcile_runs_total{outcome="busy"}')) + (await metric(b, 'gateway_reconcile_runs_total{outcome="busy"}'));

    // Both keep looking (every 50 ms) and find the job held: still exactly the one read at Stripe.
    await expect
      .poll(async () => (await metric(a, 'gateway_reconcile_runs_total{outcome="busy"}')) + (await metric(b, 'gateway_reconcile_runs_total{outcome="busy"}')), {
        timeout: 9_000,
      })
      .toBeGreaterThanOrEqual(busyBefore + 5);
    expect(emulator.control.requests({ method: 'GET', path: '/v1/events' })).toHaveLength(1);

    // A Dashboard refund made meanwhile is in the index once the held run is over and the next one ran.
    const p = await createPayment(sdkFor(emulator), { amount: 5_000 });
    const dashboard = await sdkFor(emulator).refunds.create({ payment_intent: p.intent, amount: 400 });
    await expect
      .poll(async () => (await (await fetch(`${a.url}/v1/refunds`, { headers: { authorization: `Bearer ${KEY}` } })).json()) as { data: { id: string }[] }, {
        timeout: 30_000,
        interval: 250,
      })
      .toMatchObject({ data: [{ id: dashboard.id, requested_by: null }] });

    // Every run either process logged, in time order: each started after the previous one (by either) had ended.
    const runs = [...runsOf(a), ...runsOf(b)]
      .map((r) => ({ holder: r.holder, start: Date.parse(r.started_at), end: Date.parse(r.started_at) + r.duration_ms }))
      .sort((x, y) => x.start - y.start);
    expect(runs.length).toBeGreaterThanOrEqual(3);
    const overlaps = runs.slice(1).filter((run, i) => run.start < (runs[i]?.end ?? 0));
    expect(overlaps).toEqual([]);
    // The held run among them: it failed in neither process.
    expect((await metric(a, 'gateway_reconcile_errors_total')) + (await metric(b, 'gateway_reconcile_errors_total'))).toBe(0);
  }, 90_000);
});
