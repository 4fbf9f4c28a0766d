// Reconciliation with the emulator's webhooks off: Stripe's event list and re-reads of unsettled refunds keep the index right.
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { RECONCILE_JOB } from '../../src/refunds/reconciliation.js';
import type { Ledger } from '../../src/refunds/ledger.js';
import { auth, createPayment, startTestGateway, type TestGateway, type TestGatewayOptions } from '../helpers/gateway.js';
import { newTestLedger } from '../helpers/ledger.js';

/** Short, so a test sees several runs; what is tested is "by the next run", never a duration. */
const INTERVAL_MS = '300';

const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  // Newest first: gateways before the ledger and emulator they share.
  for (const o of opened.splice(0).reverse()) await o.close();
});

class Lines extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
  parsed(): { msg: string; [field: string]: unknown }[] {
    return this.text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as { msg: string });
  }
}

async function shared(): Promise<{ emulator: RunningEmulator; ledger: Ledger }> {
  const emulator = await startEmulator({ port: 0 });
  const ledger = await newTestLedger();
  opened.push(emulator, ledger);
  // No endpoint exists, and none would be sent to: whatever the gateway learns here, it learns by reconciliation.
  emulator.control.updateSettings({ webhooks: false });
  return { emulator, ledger };
}

async function start(options: TestGatewayOptions & { intervalMs?: string; lines?: Lines }): Promise<TestGateway> {
  const gw = await startTestGateway({
    ...options,
    env: { RECONCILE_INTERVAL_MS: options.intervalMs ?? INTERVAL_MS, ...options.env },
    ...(options.lines ? { logger: { level: 'info', stream: options.lines } } : {}),
  });
  opened.push(gw);
  return gw;
}

const metric = async (gw: TestGateway, line: string): Promise<number> => {
  const found = (await gw.http.get('/metrics')).text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? 0 : Number(found.slice(line.length + 1));
};
const doneRuns = (gw: TestGateway) => metric(gw, 'gateway_reconcile_runs_total{outcome="done"}');

/**
 * Waits for two more completed runs: the second of them started after this call, so whatever Stripe knew at the call,
 * it has seen (a change is in the index by the first run that starts after it, i.e. within one interval).
 */
async function twoMoreRuns(gw: TestGateway): Promise<void> {
  const now = await doneRuns(gw);
  await expect.poll(() => doneRuns(gw), { timeout: 15_000 }).toBeGreaterThanOrEqual(now + 2);
}

describe('reconciliation with webhooks off', () => {
  it('when a refund made through the gateway fails later at Stripe, then the next run makes every list say failed', async () => {
    const { emulator, ledger } = await shared();
    const gw = await start({ emulator, ledger });
    const p = await createPayment(gw.stripe, { amount: 3_000, paymentMethod: 'pm_card_refundFail' });
    const made = await gw.http.post('/v1/refunds').set(auth()).set('idempotency-key', 'fails-1').send({ payment_intent: p.intent, amount: 1_000 });
    expect(made.body.status).toBe('succeeded');
    await expect.poll(async () => (await gw.stripe.refunds.retrieve(made.body.id)).status).toBe('failed');

    await twoMoreRuns(gw);

    expect(await ledger.getIndexedRefund(made.body.id)).toMatchObject({ status: 'failed', failureReason: 'expired_or_canceled_card' });
    expect((await gw.http.get('/v1/refunds?status=failed').set(auth())).body.data.map((r: { id: string }) => r.id)).toEqual([made.body.id]);
    expect(await metric(gw, 'gateway_reconcile_events_applied_total')).toBeGreaterThanOrEqual(3);
    expect(await metric(gw, 'gateway_stripe_events_total{source="reconcile",outcome="recorded"}')).toBeGreaterThanOrEqual(3);
  });

  it('when a refund is made in the Dashboard, then the next run indexes it with requested_by null', async () => {
    const { emulator, ledger } = await shared();
    const gw = await start({ emulator, ledger });
    await twoMoreRuns(gw);
    const p = await createPayment(gw.stripe, { amount: 5_000 });
    const dashboard = await gw.stripe.refunds.create({ payment_intent: p.intent, amount: 900 });

    await twoMoreRuns(gw);

    const list = await gw.http.get('/v1/refunds').set(auth());
    expect(list.body.data).toEqual([expect.objectContaining({ id: dashboard.id, amount: 900, status: 'succeeded', requested_by: null })]);
    const job = await ledger.jobStatus(RECONCILE_JOB);
    expect(job?.state).toMatchObject({ cursor: expect.stringMatching(/^evt_/) });
    expect(job?.lastSuccessAt).toBeInstanceOf(Date);
    expect(await metric(gw, 'gateway_reconcile_last_success_timestamp_seconds')).toBeGreaterThan(0);
  });

  it('when events were already applied (by webhook or an earlier run), then a run applies nothing again and asks Stripe no refund', async () => {
    const { emulator, ledger } = await shared();
    const gw = await start({ emulator, ledger });
    const p = await createPayment(gw.stripe, { amount: 5_000 });
    await gw.stripe.refunds.create({ payment_intent: p.intent, amount: 100 });
    await twoMoreRuns(gw);
    const applied = await metric(gw, 'gateway_reconcile_events_applied_total');
    emulator.control.clearRequests();

    await twoMoreRuns(gw);

    expect(await metric(gw, 'gateway_reconcile_events_applied_total')).toBe(applied);
    const paths = emulator.control.requests().map((r) => `${r.method} ${r.path}`);
    expect(paths.length).toBeGreaterThan(0);
    expect(new Set(paths)).toEqual(new Set(['GET /v1/events']));
  });

  it('when a refund stayed pending and Stripe no longer lists the events about it, then the re-read of unsettled refunds brings its status', async () => {
    const { emulator, ledger } = await shared();
    // A gateway without reconciliation makes the refund; it is pending in the index.
    const maker = await start({ emulator, ledger, intervalMs: '0' });
    const p = await createPayment(maker.stripe, { amount: 5_000, paymentMethod: 'pm_card_pendingRefund' });
    const made = await maker.http.post('/v1/refunds').set(auth()).set('idempotency-key', 'pending-1').send({ payment_intent: p.intent, amount: 1_000 });
    expect(made.body.status).toBe('pending');
    // At Stripe it succeeds 10 minutes in; 31 days later every event about it is past the 30 days Stripe keeps.
    emulator.control.advanceClock(600);
    emulator.control.advanceClock(31 * 86_400);
    expect((await maker.stripe.events.list({ limit: 100 })).data).toEqual([]);

    const gw = await start({ emulator, ledger });
    await twoMoreRuns(gw);

    expect(await ledger.getIndexedRefund(made.body.id)).toMatchObject({ status: 'succeeded' });
    expect(await metric(gw, 'gateway_reconcile_refunds_reread_total')).toBeGreaterThanOrEqual(1);
    expect(await metric(gw, 'gateway_reconcile_events_applied_total')).toBe(0);
    expect(emulator.control.requests({ method: 'GET', path: `/v1/refunds/${made.body.id}` }).length).toBeGreaterThanOrEqual(1);
  });

  it('when the stored cursor is an event Stripe no longer has, then the run starts from the present, says so, and goes on from there', async () => {
    const { emulator, ledger } = await shared();
    const lines = new Lines();
    // The row as a run left it a month ago: its cursor event has since expired at Stripe.
    await ledger.takeJob({ job: RECONCILE_JOB, holder: 'old', now: new Date(0), leaseMs: 1 });
    await ledger.finishJob({ job: RECONCILE_JOB, holder: 'old', now: new Date(0), nextRunAt: new Date(0), succeeded: true, state: { cursor: 'evt_expiredLongAgo' } });
    const gw = await start({ emulator, ledger, lines });

    await twoMoreRuns(gw);
    const p = await createPayment(gw.stripe, { amount: 5_000 });
    const dashboard = await gw.stripe.refunds.create({ payment_intent: p.intent, amount: 250 });
    await twoMoreRuns(gw);

    expect(lines.parsed().filter((l) => l.msg.startsWith('reconciliation cursor is older'))).toHaveLength(1);
    expect(await ledger.getIndexedRefund(dashboard.id)).toMatchObject({ requestedBy: null, amount: 250 });
    const runs = lines.parsed().filter((l) => l.msg === 'reconciliation run');
    expect(runs.at(-1)).toMatchObject({ job: 'reconcile', events_applied: expect.any(Number), refunds_reread: 0, lag_seconds: expect.any(Number) });
    expect(runs.some((l) => (l.events_applied as number) >= 2)).toBe(true);
    expect(await metric(gw, 'gateway_reconcile_errors_total')).toBe(0);
  });

  it('when Stripe fails during a run, then the error is counted and logged, and the next run catches up', async () => {
    const { emulator, ledger } = await shared();
    const lines = new Lines();
    emulator.control.injectFault({ method: 'GET', path: '/v1/events', kind: 'error', status: 500, times: 10 });
    const gw = await start({ emulator, ledger, lines, env: { STRIPE_MAX_NETWORK_RETRIES: '0' } });
    const p = await createPayment(gw.stripe, { amount: 5_000 });
    const dashboard = await gw.stripe.refunds.create({ payment_intent: p.intent, amount: 300 });

    await expect.poll(() => metric(gw, 'gateway_reconcile_errors_total'), { timeout: 15_000 }).toBeGreaterThanOrEqual(1);
    await expect.poll(() => ledger.getIndexedRefund(dashboard.id), { timeout: 15_000 }).toMatchObject({ amount: 300 });

    expect(lines.parsed().some((l) => l.msg.startsWith('reconciliation run failed'))).toBe(true);
  });

  it('when Stripe calls must wait for the gateway’s rate limit, then reconciliation’s calls wait as background work', async () => {
    const { emulator, ledger } = await shared();
    // One call a second for this gateway: each run's read of the event list waits its turn.
    const gw = await start({ emulator, ledger, intervalMs: '100', env: { STRIPE_RATE_LIMIT_PER_SECOND: '1' } });
    const waiting = async () => {
      const text = (await gw.http.get('/metrics')).text;
      const of = (priority: string) => Number(new RegExp(`^gateway_stripe_calls_waiting\\{priority="${priority}"\\} (\\S+)$`, 'm').exec(text)?.[1]);
      return { interactive: of('interactive'), background: of('background') };
    };

    await expect.poll(waiting, { timeout: 15_000 }).toEqual({ interactive: 0, background: 1 });
  });

  it('when RECONCILE_INTERVAL_MS is 0, then the gateway never reads Stripe’s event list', async () => {
    const { emulator, ledger } = await shared();
    const gw = await start({ emulator, ledger, intervalMs: '0' });
    const p = await createPayment(gw.stripe, { amount: 5_000 });
    await gw.stripe.refunds.create({ payment_intent: p.intent, amount: 300 });
    // A request that surely comes after the start: any run would have begun at start.
    expect((await gw.http.get('/readyz')).status).toBe(200);

    expect(emulator.control.requests({ method: 'GET', path: '/v1/events' })).toEqual([]);
    expect(await ledger.jobStatus(RECONCILE_JOB)).toBeNull();
  });
});
