// One measured point each: a gateway, the direct SDK or the bare route, one kind of work, one number of callers.
import { setTimeout as sleep } from 'node:timers/promises';
import { CpuWindow, type CpuUse } from './cpu-window.js';
import type { DirectCaller } from './direct-client.js';
import type { DirectMode } from './direct-caller.js';
import { API_KEY, type StartedGateway } from './gateway.js';
import { fire, type Load, type Recorded } from './load.js';
import { servedBetween, settle, stripeCallsBetween } from './metrics.js';
import { PeakRss, type Service } from './processes.js';
import type { MoneyCheck } from './stripe-data.js';

export type Target = 'direct' | 'postgresql' | 'sqlite' | 'bare-fastify';
export type Work = 'refund-by-charge' | 'refund-by-intent' | 'payment-read' | 'replay' | 'bare-route';

export interface PointResult {
  target: Target;
  work: Work;
  callers: number;
  recorded: Recorded;
  /** Operations the server itself finished in the window (the gateway's own count: cut-off requests included). */
  served: number;
  /** CPU per served operation, in µs: the server (gateway or bare route), PostgreSQL, the emulator, the caller. */
  cpuUsPerOp: { server: number; serverSystem: number; postgres: number | null; emulator: number; caller: number };
  /** Server CPU in % of one core over the window (100 = one core busy). */
  serverCpuPercent: number;
  otherCpuPercent: number;
  /** Stripe calls per served request, from the gateway's /metrics over the window (direct: what it does by design). */
  stripeCallsPerOp?: Record<string, number>;
  peakRssBytes?: number;
  /** Every answer was the expected one (201 for refunds, 200 for reads, replayed for replays). */
  clean: boolean;
  money?: MoneyCheck;
  loadAverage: number;
}

/** Called around the measured run only (the profile keeps the samples between them). */
export interface MeasureHooks {
  onMeasureStart?: () => void;
  onMeasureEnd?: () => void;
}

export interface PointContext {
  emulator: Service;
  postgresPid?: number;
  signal: AbortSignal;
  seconds: number;
  loadAverage: () => number;
}

/** Time for requests cut off by a time cap to finish inside the CPU window (each takes a few ms here). */
const DRAIN_MS = 200;

const round = (n: number, digits = 1): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** `postgresWatched`: PostgreSQL runs here and its processes were read (not so for a server given by URL). */
function perOp(cpu: CpuUse, served: number, postgresWatched = false): PointResult['cpuUsPerOp'] {
  const us = (seconds: number) => round((seconds * 1e6) / Math.max(1, served));
  return { server: us(cpu.server), serverSystem: us(cpu.serverSystem), postgres: postgresWatched ? us(cpu.postgres) : null, emulator: us(cpu.emulator), caller: us(cpu.caller) };
}

/** The route label the gateway's metrics use for a kind of work. */
const routeOf = (work: Work): { method: 'GET' | 'POST'; route: string } =>
  work === 'payment-read' ? { method: 'GET', route: '/v1/payments/:id' } : { method: 'POST', route: '/v1/refunds' };

/**
 * A gateway point: warm-up, then the measured run between two settled /metrics scrapes, CPU from /proc over the same
 * window. Settling first means requests cut off by the previous run's time cap are finished and not counted here.
 */
export async function gatewayPoint(
  ctx: PointContext,
  gateway: StartedGateway,
  work: Work,
  callers: number,
  loads: { warmup?: { load: Load; amount: number }; measured: Load; amount?: number },
  expected: (recorded: Recorded) => boolean,
  hooks: MeasureHooks = {},
): Promise<PointResult> {
  const target = { url: gateway.service.url, apiKey: API_KEY };
  if (loads.warmup && loads.warmup.amount > 0) {
    await fire(target, loads.warmup.load, { callers, seconds: ctx.seconds, amount: loads.warmup.amount, signal: ctx.signal });
  }
  const { method, route } = routeOf(work);
  const loadAverage = ctx.loadAverage();
  const before = await settle(gateway.service.url, method, route);
  const peak = new PeakRss(gateway.service.pid);
  const window = await CpuWindow.open({
    server: gateway.service.pid,
    emulator: ctx.emulator.pid,
    ...(gateway.kind === 'postgresql' && ctx.postgresPid !== undefined ? { postgres: ctx.postgresPid } : {}),
  });
  hooks.onMeasureStart?.();
  const recorded = await fire(target, loads.measured, {
    callers,
    seconds: ctx.seconds,
    ...(loads.amount !== undefined ? { amount: loads.amount } : {}),
    signal: ctx.signal,
  });
  hooks.onMeasureEnd?.();
  // Closed before the settling scrapes (each /metrics answer costs the gateway CPU too): a short pause lets the
  // requests a time cap cut off finish first; they are at most one per caller, against hundreds measured.
  await sleep(DRAIN_MS);
  const cpu = await window.close();
  const after = await settle(gateway.service.url, method, route);
  const served = servedBetween(before, after, method, route);
  const calls = stripeCallsBetween(before, after);
  return {
    target: gateway.kind === 'postgresql' ? 'postgresql' : 'sqlite',
    work,
    callers,
    recorded,
    served,
    cpuUsPerOp: perOp(cpu, served, gateway.kind === 'postgresql' && ctx.postgresPid !== undefined),
    serverCpuPercent: round((cpu.server / cpu.wallSeconds) * 100),
    otherCpuPercent: round(cpu.otherPercent),
    stripeCallsPerOp: Object.fromEntries(Object.entries(calls).map(([op, n]) => [op, round(n / Math.max(1, served), 2)])),
    peakRssBytes: peak.stop(),
    clean: expected(recorded),
    loadAverage,
  };
}

/** The direct SDK point: the baseline process runs the same closed loop itself and reports what it saw. */
export async function directPoint(
  ctx: PointContext,
  direct: DirectCaller,
  work: Work,
  mode: DirectMode,
  callers: number,
  ids: { warmup: string[]; measured: string[] },
): Promise<{ result: PointResult; refundIds: string[] }> {
  if (ids.warmup.length > 0) await direct.run(mode, ids.warmup, callers, ctx.seconds);
  const loadAverage = ctx.loadAverage();
  const window = await CpuWindow.open({ emulator: ctx.emulator.pid, caller: direct.service.pid });
  const { recorded, refundIds } = await direct.run(mode, ids.measured, callers, ctx.seconds);
  const cpu = await window.close();
  const calls: Record<string, number> = mode === 'read' ? { 'payment_intents.retrieve': 1 } : mode === 'charge' ? { 'charges.retrieve': 1, 'refunds.create': 1 } : { 'payment_intents.retrieve': 1, 'refunds.create': 1 };
  return {
    refundIds,
    result: {
      target: 'direct',
      work,
      callers,
      recorded,
      served: recorded.requests,
      cpuUsPerOp: perOp(cpu, recorded.requests),
      serverCpuPercent: 0,
      otherCpuPercent: round(cpu.otherPercent),
      stripeCallsPerOp: calls,
      clean: Object.keys(recorded.errorCodes).length === 0,
      loadAverage,
    },
  };
}

/** The bare Fastify route: a fixed time, every answer must be 200. */
export async function barePoint(ctx: PointContext, bare: Service, callers: number): Promise<PointResult> {
  const load: Load = { next: () => ({ method: 'GET', path: '/ping' }) };
  await fire({ url: bare.url }, load, { callers, seconds: 1, signal: ctx.signal });
  const loadAverage = ctx.loadAverage();
  const window = await CpuWindow.open({ server: bare.pid, emulator: ctx.emulator.pid });
  const recorded = await fire({ url: bare.url }, load, { callers, seconds: ctx.seconds, signal: ctx.signal });
  const cpu = await window.close();
  return {
    target: 'bare-fastify',
    work: 'bare-route',
    callers,
    recorded,
    served: recorded.requests,
    cpuUsPerOp: perOp(cpu, recorded.requests),
    serverCpuPercent: round((cpu.server / cpu.wallSeconds) * 100),
    otherCpuPercent: round(cpu.otherPercent),
    clean: Object.keys(recorded.statuses).every((s) => s === '200') && recorded.errors === 0,
    loadAverage,
  };
}
