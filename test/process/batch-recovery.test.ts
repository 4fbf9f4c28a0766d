// Batches with real processes: a gateway killed mid-batch and restarted finishes it with one refund per item; two
// gateways on one PostgreSQL share a batch and never run an item twice.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { allItems, fetchCall, waitForEnd } from '../helpers/batches.js';
import { createPayment, refundPosts, sdkFor } from '../helpers/gateway.js';
import { createPostgresTestDatabase, testDatabaseUrl } from '../helpers/ledger.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/process.js';

const KEY = 'process-test-key-0123456789abcdef';
const API_KEYS = JSON.stringify([{ id: 'billing', key: KEY, scopes: ['refunds:read', 'refunds:write'] }]);

let emulator: RunningEmulator;
let dir: string;
const running: GatewayProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];

beforeEach(async () => {
  emulator = await startEmulator({ port: 0 });
  dir = await mkdtemp(join(tmpdir(), 'gateway-batch-'));
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((g) => g.stop('SIGKILL')));
  for (const cleanup of cleanups.splice(0)) await cleanup();
  await emulator.close();
  await rm(dir, { recursive: true, force: true });
});

/**
 * Small budgets so a killed run's leases end within the test: LOCK_WAIT_MS 500 + STRIPE_TIMEOUT_MS 3000 × one try +
 * 3000 for the reads = 6.5 s per attempt; its key's lease 5 s more, and the item's 5 s more again.
 */
const env = (extra: Record<string, string>) => ({
  STRIPE_SECRET_KEY: 'sk_test_process',
  STRIPE_API_BASE: emulator.url,
  API_KEYS,
  LOCK_WAIT_MS: '500',
  STRIPE_TIMEOUT_MS: '3000',
  STRIPE_MAX_NETWORK_RETRIES: '0',
  BODY_LIMIT_BYTES: '1048576',
  ...extra,
});

const start = async (extra: Record<string, string>): Promise<GatewayProcess> => {
  const gateway = await startGatewayProcess(env(extra));
  running.push(gateway);
  return gateway;
};

async function paymentsFor(count: number) {
  const stripe = sdkFor(emulator);
  const made = [];
  for (let i = 0; i < count; i += 1) made.push(await createPayment(stripe, { amount: 3_000 }));
  return made;
}

/** How many refunds Stripe holds for each charge, in the order given. */
const refundsAtStripe = async (charges: (string | null)[]) =>
  Promise.all(charges.map(async (charge) => (await sdkFor(emulator).refunds.list({ charge: charge!, limit: 10 })).data.length));

const itemsRun = async (gateway: GatewayProcess): Promise<number> => {
  const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
  return [...metrics.matchAll(/^gateway_batch_item_runs_total\{outcome="refunded"\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
};

describe('a gateway killed in the middle of a batch', () => {
  it('when it is killed with SIGKILL (two refunds made at Stripe but not yet heard of) and restarted, then it finishes the batch with exactly one refund per item', async () => {
    const ledger = { LEDGER_PATH: join(dir, 'ledger.db'), STRIPE_RATE_LIMIT_PER_SECOND: '20', BATCH_CONCURRENCY: '4' };
    const first = await start(ledger);
    const made = await paymentsFor(40);
    // The first two refunds are made at Stripe, whose answers never come back before the kill.
    emulator.control.injectFault({ method: 'POST', path: '/v1/refunds', kind: 'delay_after_work', delay_ms: 30_000, times: 2 });
    const call = fetchCall(first.url, KEY);
    const sent = await call('POST', '/v1/refund-batches', { idempotencyKey: 'killed-1', body: { items: made.map((p, i) => ({ key: `item-${i}`, charge: p.charge, amount: 1_000 })) } });
    expect(sent.status).toBe(202);
    // Killed as soon as Stripe made those two: seconds before their calls would time out (STRIPE_TIMEOUT_MS).
    const stripe = sdkFor(emulator);
    await expect.poll(async () => (await stripe.refunds.list({ limit: 100 })).data.length, { timeout: 30_000, interval: 20 }).toBeGreaterThanOrEqual(2);
    expect(await first.stop('SIGKILL')).toBeNull();
    expect((await stripe.refunds.list({ limit: 100 })).data.length).toBeLessThan(40);

    const second = await start(ledger);
    const ended = await waitForEnd(fetchCall(second.url, KEY), sent.body.id, 90_000);

    expect(ended).toMatchObject({ status: 'completed', counts: { total: 40, pending: 0, refunded: 40, failed: 0 } });
    expect(await refundsAtStripe(made.map((p) => p.charge))).toEqual(made.map(() => 1));
    const items = await allItems(fetchCall(second.url, KEY), sent.body.id);
    expect(new Set(items.map((i) => i.refund?.id)).size).toBe(40);
    // Every refund Stripe made is the one its item answers with.
    const atStripe = await Promise.all(made.map(async (p) => (await sdkFor(emulator).refunds.list({ charge: p.charge! })).data[0]?.id));
    expect(items.map((i) => i.refund?.id)).toEqual(atStripe);
  }, 180_000);
});

describe.skipIf(testDatabaseUrl === undefined)('two gateways on one PostgreSQL', () => {
  it('when a batch is sent to one of two gateways, then both run its items, no item reaches Stripe twice, and the counts are exact', async () => {
    const database = await createPostgresTestDatabase(testDatabaseUrl!);
    cleanups.push(() => database.drop());
    // 40 Stripe calls a second for the deployment, 20 for each: the batch lasts long enough for both to take items.
    const shared = { DATABASE_URL: database.databaseUrl, STRIPE_RATE_LIMIT_PER_SECOND: '40', BATCH_CONCURRENCY: '4' };
    const [a, b] = [await start(shared), await start(shared)] as [GatewayProcess, GatewayProcess];
    const made = await paymentsFor(80);

    const call = fetchCall(a.url, KEY);
    const sent = await call('POST', '/v1/refund-batches', { idempotencyKey: 'shared-1', body: { items: made.map((p, i) => ({ key: `item-${i}`, charge: p.charge })) } });
    const ended = await waitForEnd(fetchCall(b.url, KEY), sent.body.id, 90_000);

    expect(ended).toMatchObject({ status: 'completed', counts: { total: 80, refunded: 80, pending: 0 } });
    const posts = refundPosts(emulator);
    const perKey = new Map<string, number>();
    for (const post of posts) perKey.set(post.idempotency_key ?? '', (perKey.get(post.idempotency_key ?? '') ?? 0) + 1);
    expect(posts).toHaveLength(80);
    expect([...perKey.values()].every((n) => n === 1)).toBe(true);
    expect(await refundsAtStripe(made.map((p) => p.charge))).toEqual(made.map(() => 1));
    const [byA, byB] = [await itemsRun(a), await itemsRun(b)];
    expect(byA + byB).toBe(80);
    expect(byA).toBeGreaterThan(0);
    expect(byB).toBeGreaterThan(0);
  }, 120_000);
});
