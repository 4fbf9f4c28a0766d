// Never twice, never stuck, proven with real processes: SIGKILL between Stripe's answer and the ledger's record,
// a restart on the same, a deleted or a forgotten ledger, one process per ledger file, and SIGTERM mid-refund.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { createPayment, refundPosts, sdkFor } from '../helpers/gateway.js';
import { runGatewayToExit, startGatewayProcess, type GatewayProcess } from '../helpers/process.js';

const KEY = 'process-test-key-0123456789abcdef';
const API_KEYS = JSON.stringify([{ id: 'billing', key: KEY, scopes: ['refunds:read', 'refunds:write', 'payment_intents:write'] }]);

let emulator: RunningEmulator;
let dir: string;
const running: GatewayProcess[] = [];

beforeEach(async () => {
  emulator = await startEmulator({ port: 0 });
  dir = await mkdtemp(join(tmpdir(), 'gateway-process-'));
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((g) => g.stop('SIGKILL')));
  await emulator.close();
  await rm(dir, { recursive: true, force: true });
});

/**
 * Small budgets so a crashed attempt's lease runs out within the test: LOCK_WAIT_MS 500 + STRIPE_TIMEOUT_MS 3000 ×
 * one try + 3000 for the reads = 6.5 s, and the lease 5 s more.
 */
const env = () => ({
  STRIPE_SECRET_KEY: 'sk_test_process',
  STRIPE_API_BASE: emulator.url,
  API_KEYS,
  LEDGER_PATH: join(dir, 'ledger', 'ledger.db'),
  LOCK_WAIT_MS: '500',
  STRIPE_TIMEOUT_MS: '3000',
  STRIPE_MAX_NETWORK_RETRIES: '0',
});

const start = async (extra: Record<string, string> = {}): Promise<GatewayProcess> => {
  const gateway = await startGatewayProcess({ ...env(), ...extra });
  running.push(gateway);
  return gateway;
};

const postRefund = (gateway: GatewayProcess, key: string, body: object) =>
  fetch(`${gateway.url}/v1/refunds`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify(body),
  });

/** Kills the gateway with SIGKILL after Stripe made the refund but before the gateway heard back (or recorded it). */
async function crashAfterStripeMadeTheRefund(paymentIntent: string): Promise<string> {
  const gateway = await start();
  const stripe = sdkFor(emulator);
  emulator.control.injectFault({ method: 'POST', path: '/v1/refunds', kind: 'delay_after_work', delay_ms: 20_000, times: 1 });
  const inFlight = postRefund(gateway, 'crash-1', { payment_intent: paymentIntent, amount: 1_500 }).catch((error: unknown) => error);
  await expect.poll(async () => (await stripe.refunds.list({ payment_intent: paymentIntent })).data.length, { timeout: 10_000 }).toBe(1);
  expect(await gateway.stop('SIGKILL')).toBeNull();
  // The caller never got an answer: its connection died with the process.
  expect(await inFlight).toBeInstanceOf(Error);
  const [made] = (await stripe.refunds.list({ payment_intent: paymentIntent })).data;
  return made!.id;
}

async function onlyRefundsOf(paymentIntent: string): Promise<string[]> {
  return (await sdkFor(emulator).refunds.list({ payment_intent: paymentIntent })).data.map((r) => r.id);
}

describe('a gateway killed between Stripe’s answer and the ledger’s record', () => {
  it('when it restarts on the same ledger file, then a retry waits out the first attempt’s lease, then finds the refund: one refund', async () => {
    const p = await createPayment(sdkFor(emulator), { amount: 5_000 });
    const made = await crashAfterStripeMadeTheRefund(p.intent);

    const restarted = await start();
    const early = await postRefund(restarted, 'crash-1', { payment_intent: p.intent, amount: 1_500 });
    expect(early.status).toBe(409);
    expect(((await early.json()) as { code: string }).code).toBe('idempotency_request_in_progress');
    const wait = Number(early.headers.get('retry-after'));
    // The lease is the attempt budget (6.5 s) plus 5 s: never the old fixed ~160 s.
    expect(wait).toBeGreaterThanOrEqual(1);
    expect(wait).toBeLessThanOrEqual(12);

    await sleep(wait * 1000);
    const retried = await postRefund(restarted, 'crash-1', { payment_intent: p.intent, amount: 1_500 });
    expect(retried.status).toBe(201);
    expect(((await retried.json()) as { id: string }).id).toBe(made);
    expect(await onlyRefundsOf(p.intent)).toEqual([made]);
    expect(refundPosts(emulator)).toHaveLength(1);
  }, 60_000);

  it('when the ledger file was deleted before the restart, then the retry finds the refund by its derived request id at once', async () => {
    const p = await createPayment(sdkFor(emulator), { amount: 5_000 });
    const made = await crashAfterStripeMadeTheRefund(p.intent);
    await rm(join(dir, 'ledger'), { recursive: true, force: true });

    const restarted = await start();
    const retried = await postRefund(restarted, 'crash-1', { payment_intent: p.intent, amount: 1_500 });

    expect(retried.status).toBe(201);
    expect(((await retried.json()) as { id: string }).id).toBe(made);
    expect(await onlyRefundsOf(p.intent)).toEqual([made]);
    expect(refundPosts(emulator)).toHaveLength(1);
  }, 60_000);

  it('when the ledger was lost and Stripe has forgotten the key (25 h later), then the refund is still found by its metadata and adopted', async () => {
    const p = await createPayment(sdkFor(emulator), { amount: 5_000 });
    const made = await crashAfterStripeMadeTheRefund(p.intent);
    await rm(join(dir, 'ledger'), { recursive: true, force: true });
    emulator.control.advanceClock(25 * 3600);

    const restarted = await start();
    const retried = await postRefund(restarted, 'crash-1', { payment_intent: p.intent, amount: 1_500 });

    expect(retried.status).toBe(201);
    expect(((await retried.json()) as { id: string }).id).toBe(made);
    expect(await onlyRefundsOf(p.intent)).toEqual([made]);
  }, 60_000);
});

describe('the embedded ledger file across processes', () => {
  it('when a second process opens a ledger file another process holds, then it stops at start and names the holder', async () => {
    const first = await start();
    const second = await runGatewayToExit(env());

    expect(second.code).toBe(1);
    expect(second.output).toMatch(new RegExp(`^start: .*ledger file .*ledger\\.db is held by process ${first.child.pid} on `, 'm'));
    // The first one is untouched.
    expect((await fetch(`${first.url}/healthz`)).status).toBe(200);
  });

  it('when the gateway restarts on the same file, then a stored answer is replayed exactly', async () => {
    const p = await createPayment(sdkFor(emulator), { amount: 5_000 });
    const first = await start();
    const made = await postRefund(first, 'replay-1', { payment_intent: p.intent, amount: 700 });
    expect(made.status).toBe(201);
    const body = await made.json();
    expect(await first.stop('SIGTERM')).toBe(0);

    const second = await start();
    const replay = await postRefund(second, 'replay-1', { payment_intent: p.intent, amount: 700 });

    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(await replay.json()).toEqual(body);
    expect(refundPosts(emulator)).toHaveLength(1);
  }, 60_000);
});

describe('SIGTERM with a refund in flight', () => {
  it('when SIGTERM comes while Stripe is still working, then the refund is answered and recorded before the process exits 0', async () => {
    const p = await createPayment(sdkFor(emulator), { amount: 5_000 });
    const gateway = await start();
    emulator.control.injectFault({ method: 'POST', path: '/v1/refunds', kind: 'delay', delay_ms: 1_500, times: 1 });
    const inFlight = postRefund(gateway, 'term-1', { payment_intent: p.intent, amount: 900 });
    await expect.poll(() => emulator.control.requests({ method: 'POST', path: '/v1/refunds' }).length).toBe(1);

    const exited = gateway.stop('SIGTERM');
    const answer = await inFlight;
    expect(answer.status).toBe(201);
    expect(await exited).toBe(0);

    // Recorded: a new process on the same file replays it.
    const again = await start();
    const replay = await postRefund(again, 'term-1', { payment_intent: p.intent, amount: 900 });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
  }, 60_000);
});
