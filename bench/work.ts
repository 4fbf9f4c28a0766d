// The measured work of a run, point by point: refunds (by charge, by PaymentIntent), payment reads and replays.
import { loadavg } from 'node:os';
import type { DirectCaller } from './direct-client.js';
import { API_KEY, type StartedGateway } from './gateway.js';
import type { Load, Recorded, RequestShape } from './load.js';
import { directPoint, gatewayPoint, type MeasureHooks, type PointContext, type PointResult, type Work } from './points.js';
import type { Service } from './processes.js';
import { refundsPerPoint, type Settings } from './settings.js';
import { checkMoney, createPayments, emulatorCall, resetEmulator, type MoneyCheck, type Payment } from './stripe-data.js';

/** Each payment's amount; every refund in the refund points takes all of it (no `amount`: "everything left"). */
export const PAYMENT_AMOUNT = 20_000;
/** Payments the read points cycle over, each already holding one refund. */
const READ_PAYMENTS = 200;

const log = (message: string) => process.stderr.write(`${message}\n`);

export interface Run {
  settings: Settings;
  ctx: PointContext;
  emulator: Service;
  runId: string;
  points: PointResult[];
  money: MoneyCheck[];
  maxLoad: number;
}

export const loadAverage = (run: { maxLoad: number }) => () => {
  const now = loadavg()[0] ?? 0;
  run.maxLoad = Math.max(run.maxLoad, now);
  return now;
};

/** Refunds of `payments`, one each, a new key each, by charge or by PaymentIntent; collects the 201s' refund ids. */
export function refundLoad(payments: Payment[], work: Work, keyPrefix: string, answered: Set<string>): Load {
  let i = 0;
  return {
    next: (): RequestShape => {
      // Past the end (only if a run outlives its payments), the last payment again: its 409 shows up as not clean.
      const p = payments[Math.min(i, payments.length - 1)] as Payment;
      const key = `${keyPrefix}-${i++}`;
      return { method: 'POST', path: '/v1/refunds', idempotencyKey: key, body: work === 'refund-by-charge' ? { charge: p.charge } : { payment_intent: p.intent } };
    },
    onAnswer: (status, body) => {
      if (status === 201) answered.add((JSON.parse(body) as { id: string }).id);
    },
  };
}

const only = (status: string) => (r: Recorded) => Object.keys(r.statuses).every((s) => s === status) && r.errors === 0;

export async function refundPoint(run: Run, target: 'direct' | StartedGateway, work: 'refund-by-charge' | 'refund-by-intent', callers: number, direct: DirectCaller | undefined, hooks: MeasureHooks = {}): Promise<void> {
  const { settings, emulator } = run;
  const measured = refundsPerPoint(settings, callers);
  // A fresh emulator each point: every target meets the same state (no older objects, keys or log entries).
  await resetEmulator(emulator.url);
  const payments = await createPayments(emulator.url, settings.BENCH_WARMUP + measured, PAYMENT_AMOUNT);
  const warm = payments.slice(0, settings.BENCH_WARMUP);
  const rest = payments.slice(settings.BENCH_WARMUP);
  const answered = new Set<string>();
  let result: PointResult;
  if (target === 'direct') {
    if (!direct) throw new Error('a direct point needs the direct SDK process');
    const mode = work === 'refund-by-charge' ? 'charge' : 'intent';
    const ids = (list: Payment[]) => list.map((p) => (mode === 'charge' ? p.charge : p.intent));
    const { result: r, refundIds } = await directPoint(run.ctx, direct, work, mode, callers, { warmup: ids(warm), measured: ids(rest) });
    for (const id of refundIds) answered.add(id);
    result = r;
  } else {
    const prefix = `bench-${run.runId}-${target.kind}-${work}-${callers}`;
    result = await gatewayPoint(
      run.ctx,
      target,
      work,
      callers,
      { warmup: { load: refundLoad(warm, work, `${prefix}-warm`, answered), amount: warm.length }, measured: refundLoad(rest, work, prefix, answered), amount: rest.length },
      only('201'),
      hooks,
    );
  }
  result.money = await checkMoney(emulator.url, answered, new Set(payments.map((p) => p.charge)));
  run.money.push(result.money);
  run.points.push(result);
  log(
    `bench: ${result.target} ${work} ×${callers}: ${result.recorded.requestsPerSecond} ops/s, p50 ${result.recorded.latencyMs.p50} ms, ` +
      `server ${result.cpuUsPerOp.server} µs/op, other CPU ${result.otherCpuPercent} %${result.clean && result.money.ok ? '' : ' — NOT CLEAN'}`,
  );
}

/** Payments with one refund each (made at the emulator), for the read points. */
export async function readablePayments(emulatorUrl: string): Promise<Payment[]> {
  await resetEmulator(emulatorUrl);
  const payments = await createPayments(emulatorUrl, READ_PAYMENTS, PAYMENT_AMOUNT);
  for (const p of payments) await emulatorCall(emulatorUrl, 'POST', '/v1/refunds', { charge: p.charge, amount: '500' });
  return payments;
}

export async function readPoint(run: Run, target: 'direct' | StartedGateway, callers: number, payments: Payment[], direct: DirectCaller): Promise<void> {
  let result: PointResult;
  const intents = payments.map((p) => p.intent);
  if (target === 'direct') {
    result = (await directPoint(run.ctx, direct, 'payment-read', 'read', callers, { warmup: intents.slice(0, 50), measured: intents })).result;
  } else {
    let i = 0;
    const load: Load = { next: () => ({ method: 'GET', path: `/v1/payments/${intents[i++ % intents.length] ?? ''}` }) };
    result = await gatewayPoint(run.ctx, target, 'payment-read', callers, { warmup: { load, amount: Math.max(callers, 100) }, measured: load }, only('200'));
  }
  run.points.push(result);
  log(`bench: ${result.target} payment-read ×${callers}: ${result.recorded.requestsPerSecond} ops/s, p50 ${result.recorded.latencyMs.p50} ms, server ${result.cpuUsPerOp.server} µs/op`);
}

export async function replayPoint(run: Run, gateway: StartedGateway, callers: number): Promise<void> {
  await resetEmulator(run.emulator.url);
  const [payment] = await createPayments(run.emulator.url, 1, PAYMENT_AMOUNT);
  const key = `bench-${run.runId}-${gateway.kind}-replay-${callers}`;
  const body = { charge: payment?.charge ?? '', amount: 100 };
  const first = await fetch(`${gateway.service.url}/v1/refunds`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify(body),
  });
  const refund = (await first.json()) as { id: string };
  if (first.status !== 201) throw new Error(`the replay scenario's first refund answered ${first.status}`);
  let replayed = 0;
  let answers = 0;
  const load: Load = {
    next: () => ({ method: 'POST', path: '/v1/refunds', idempotencyKey: key, body }),
    onAnswer: (_status, _body, headers) => {
      answers += 1;
      if (headers['idempotent-replayed'] === 'true') replayed += 1;
    },
  };
  const result = await gatewayPoint(run.ctx, gateway, 'replay', callers, { warmup: { load, amount: Math.max(callers, 100) }, measured: load }, (r) => only('201')(r) && replayed === answers);
  result.money = await checkMoney(run.emulator.url, new Set([refund.id]), new Set([payment?.charge ?? '']));
  run.money.push(result.money);
  run.points.push(result);
  log(`bench: ${gateway.kind} replay ×${callers}: ${result.recorded.requestsPerSecond} ops/s, p50 ${result.recorded.latencyMs.p50} ms, server ${result.cpuUsPerOp.server} µs/op`);
}

