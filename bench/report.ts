// The benchmark's output: the run's numbers as JSON for tools, the ratios and targets as tables for people.
import { execFileSync } from 'node:child_process';
import { cpus, release, totalmem } from 'node:os';
import type { GatewayKind } from './gateway.js';
import type { PointResult, Target, Work } from './points.js';
import type { ProbeGroup } from './probe.js';
import type { MoneyCheck } from './stripe-data.js';

export interface StartSample {
  kind: GatewayKind;
  readyMs: number;
  idleRssBytes: number;
}

export interface BenchResult {
  schema: 2;
  startedAt: string;
  finishedAt: string;
  git: { commit: string; dirty: boolean };
  machine: { cpuModel: string; cpus: number; memoryGiB: number; kernel: string; node: string };
  /** 1-minute load average before the run, and the highest seen at the start of a point. */
  loadAverage: { atStart: number; maxDuringRun: number };
  settings: Record<string, unknown>;
  postgres: string | null;
  starts: StartSample[];
  /** Largest RSS of each measured gateway over the whole run. */
  peakRssBytes: Partial<Record<GatewayKind, number>>;
  points: PointResult[];
  probes: Partial<Record<'postgresql' | 'sqlite', ProbeGroup[]>>;
  money: { ok: boolean; checks: number; problems: string[]; probe: MoneyCheck[] };
  targets: TargetVerdict[];
  ok: boolean;
}

export interface TargetVerdict {
  target: string;
  measured: string;
  met: boolean | null;
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

export function describeGit(): BenchResult['git'] {
  // Only src/ and package-lock.json change what is measured; edits elsewhere do not make a run dirty.
  return { commit: git(['rev-parse', '--short', 'HEAD']) || 'unknown', dirty: git(['status', '--porcelain', '--', 'src', 'package-lock.json']) !== '' };
}

export function describeMachine(): BenchResult['machine'] {
  return {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cpus: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    node: process.version,
  };
}

/** Decimal megabytes, the unit the targets are stated in. */
const mb = (bytes: number): number => Math.round(bytes / 1e5) / 10;
const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length === 0 ? Number.NaN : sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};

export const findPoint = (points: PointResult[], target: Target, work: Work, callers: number): PointResult | undefined =>
  points.find((p) => p.target === target && p.work === work && p.callers === callers);

const sumCalls = (calls: Record<string, number> | undefined): number => Object.values(calls ?? {}).reduce((a, b) => a + b, 0);

/** The targets, each against what this run measured (null: not measured in this run). */
export function evaluateTargets(result: Omit<BenchResult, 'targets' | 'ok'>): TargetVerdict[] {
  const { points, starts, probes } = result;
  const verdicts: TargetVerdict[] = [];
  const add = (target: string, value: number | undefined, format: (v: number) => string, met: (v: number) => boolean) =>
    verdicts.push(value === undefined || Number.isNaN(value) ? { target, measured: 'not measured', met: null } : { target, measured: format(value), met: met(value) });

  for (const work of ['refund-by-charge', 'refund-by-intent'] as const) {
    const how = work === 'refund-by-charge' ? 'by charge' : 'by PaymentIntent';
    const direct = findPoint(points, 'direct', work, 8);
    const pg = findPoint(points, 'postgresql', work, 8);
    add(`PostgreSQL-ledger refunds/s ≥ 0.6× direct at 8 callers (${how})`, pg && direct ? pg.recorded.requestsPerSecond / direct.recorded.requestsPerSecond : undefined, (v) => `${v.toFixed(2)}×`, (v) => v >= 0.6);
  }
  for (const kind of ['postgresql', 'sqlite'] as const) {
    const gw = findPoint(points, kind, 'refund-by-charge', 1);
    const direct = findPoint(points, 'direct', 'refund-by-charge', 1);
    add(`added p50 ≤ 1 ms at 1 caller, ${kind} (by charge)`, gw && direct ? gw.recorded.latencyMs.p50 - direct.recorded.latencyMs.p50 : undefined, (v) => `${v >= 0 ? '+' : ''}${v.toFixed(2)} ms`, (v) => v <= 1);
  }
  const cpuLimit = { postgresql: 600, sqlite: 400 } as const;
  for (const kind of ['postgresql', 'sqlite'] as const) {
    for (const work of ['refund-by-charge', 'refund-by-intent'] as const) {
      const gw = findPoint(points, kind, work, 8);
      add(`gateway CPU ≤ ${cpuLimit[kind]} µs per refund, ${kind} (${work === 'refund-by-charge' ? 'by charge' : 'by PaymentIntent'}, 8 callers)`, gw?.cpuUsPerOp.server, (v) => `${v.toFixed(0)} µs`, (v) => v <= cpuLimit[kind]);
    }
  }
  const probe = probes.postgresql ?? probes.sqlite;
  for (const group of probe ?? []) {
    const limit = group.kind.startsWith('GET') ? 1 : group.kind.startsWith('replay') ? 0 : 2;
    add(`Stripe calls per request = ${limit}: ${group.kind}`, group.stripeCallsPerRequest, (v) => v.toFixed(2), (v) => v <= limit);
  }
  for (const group of probes.postgresql ?? []) {
    if (!group.ledger || group.kind.startsWith('GET')) continue;
    const replay = group.kind.startsWith('replay');
    const limit = replay ? 2 : 4;
    // The request's own statements: the timers' that fell into the window are shown beside them, not counted.
    const timers = group.ledger.timerStatementsPerRequest ?? 0;
    add(
      `PostgreSQL statements per request ≤ ${limit}: ${group.kind}`,
      group.ledger.statementsPerRequest - timers,
      (v) => `${v.toFixed(2)} (+${timers.toFixed(2)} timers)`,
      (v) => v <= limit,
    );
    if (group.ledger.roundTripsAnswerWaitsFor !== undefined) {
      add(`PostgreSQL round trips the answer waits for ≤ 3: ${group.kind}`, group.ledger.roundTripsAnswerWaitsFor, (v) => `${v.toFixed(2)} (of ${group.ledger?.roundTripsPerRequest.toFixed(2)})`, (v) => v <= 3);
    }
  }
  const rssLimit = { postgresql: 100, sqlite: 120 } as const;
  for (const kind of ['postgresql', 'sqlite'] as const) {
    const mine = starts.filter((s) => s.kind === kind);
    add(`idle RSS ≤ ${rssLimit[kind]} MB, ${kind} (median of ${mine.length} starts)`, mine.length ? mb(median(mine.map((s) => s.idleRssBytes))) : undefined, (v) => `${v.toFixed(1)} MB`, (v) => v <= rssLimit[kind]);
    add(`ready ≤ 0.5 s, ${kind} (median of ${mine.length} starts)`, mine.length ? median(mine.map((s) => s.readyMs)) : undefined, (v) => `${(v / 1000).toFixed(3)} s`, (v) => v <= 500);
  }
  return verdicts;
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const signed = (n: number): string => `${n >= 0 ? '+' : ''}${n.toFixed(2)}`;
const fixed = (n: number | undefined, digits = 0): string => (n === undefined || Number.isNaN(n) ? '-' : n.toFixed(digits));

function pointRows(result: BenchResult, work: Work): string[][] {
  const rows: string[][] = [];
  for (const p of result.points.filter((x) => x.work === work)) {
    const direct = findPoint(result.points, 'direct', work, p.callers);
    const bare = findPoint(result.points, 'bare-fastify', 'bare-route', p.callers);
    const isGateway = p.target === 'postgresql' || p.target === 'sqlite';
    rows.push([
      `${p.target} ×${p.callers}`,
      fixed(p.recorded.requestsPerSecond),
      isGateway && direct ? `${(p.recorded.requestsPerSecond / direct.recorded.requestsPerSecond).toFixed(2)}×` : '-',
      isGateway && bare ? `${(p.recorded.requestsPerSecond / bare.recorded.requestsPerSecond).toFixed(3)}×` : '-',
      fixed(p.recorded.latencyMs.p50, 2),
      fixed(p.recorded.latencyMs.p99, 2),
      isGateway && direct ? signed(p.recorded.latencyMs.p50 - direct.recorded.latencyMs.p50) : '-',
      isGateway && direct ? signed(p.recorded.latencyMs.p99 - direct.recorded.latencyMs.p99) : '-',
      p.target !== 'direct' ? fixed(p.cpuUsPerOp.server) : '-',
      p.target !== 'direct' ? fixed(p.cpuUsPerOp.serverSystem) : '-',
      p.cpuUsPerOp.postgres !== null ? fixed(p.cpuUsPerOp.postgres) : '-',
      fixed(p.cpuUsPerOp.emulator),
      fixed(p.cpuUsPerOp.caller),
      fixed(sumCalls(p.stripeCallsPerOp), 2),
      String(p.recorded.requests),
      fixed(p.otherCpuPercent),
      p.clean && (p.money?.ok ?? true) ? 'ok' : `FAIL ${JSON.stringify(p.recorded.errorCodes)} ${p.money?.problems.join('; ') ?? ''}`,
    ]);
  }
  return rows;
}

const POINT_HEAD = ['target ×callers', 'ops/s', '÷direct', '÷bare', 'p50 ms', 'p99 ms', '+p50', '+p99', 'server µs/op', 'of it sys', 'pg µs/op', 'emu µs/op', 'caller µs/op', 'Stripe/op', 'ops', 'other %', 'check'];

export function renderReport(result: BenchResult): string {
  const m = result.machine;
  const lines: string[] = [
    '',
    `refund gateway benchmark — ${result.startedAt} — commit ${result.git.commit}${result.git.dirty ? ' (src/ modified)' : ''}`,
    `machine: ${m.cpus}× ${m.cpuModel}, ${m.memoryGiB} GiB, Linux ${m.kernel}, Node ${m.node}; load average ${result.loadAverage.atStart.toFixed(2)} at start, ≤ ${result.loadAverage.maxDuringRun.toFixed(2)} during`,
    `PostgreSQL: ${result.postgres ?? 'not available (initdb/pg_ctl not installed and no BENCH_DATABASE_URL): PostgreSQL points skipped'}`,
    `settings: ${JSON.stringify(result.settings)}`,
  ];
  const titles: Record<Work, string> = {
    'refund-by-charge': 'POST /v1/refunds {charge}, each refund on its own fresh charge (direct: charges.retrieve + refunds.create)',
    'refund-by-intent': 'POST /v1/refunds {payment_intent}, each on its own fresh PaymentIntent (direct: paymentIntents.retrieve + refunds.create)',
    'payment-read': 'GET /v1/payments/pi_… (direct: paymentIntents.retrieve, expand latest_charge.refunds)',
    replay: 'POST /v1/refunds replayed (same key, same body)',
    'bare-route': 'bare Fastify route (GET /ping → small JSON)',
  };
  for (const work of Object.keys(titles) as Work[]) {
    if (!result.points.some((p) => p.work === work)) continue;
    lines.push('', titles[work], table(POINT_HEAD, pointRows(result, work)));
  }
  const starts = (['postgresql', 'sqlite', 'sandbox'] as const).map((kind) => {
    const mine = result.starts.filter((s) => s.kind === kind);
    return [
      kind,
      mine.map((s) => (s.readyMs / 1000).toFixed(3)).join(' / ') || '-',
      fixed(median(mine.map((s) => s.readyMs)) / 1000, 3),
      mine.map((s) => mb(s.idleRssBytes).toFixed(1)).join(' / ') || '-',
      result.peakRssBytes[kind] !== undefined ? mb(result.peakRssBytes[kind] ?? 0).toFixed(1) : '-',
    ];
  });
  lines.push('', 'start-up (node dist/server.js; spawn → first 200 on /readyz) and memory (MB = 10^6 bytes)');
  lines.push(table(['gateway', 'ready s (each start)', 'median s', 'idle RSS MB (each)', 'peak RSS MB under load'], starts));
  for (const [kind, groups] of Object.entries(result.probes)) {
    lines.push('', `per request, one at a time (${kind} gateway): Stripe calls from the emulator's request log${kind === 'postgresql' ? ', ledger statements and round trips from the PostgreSQL wire protocol' : ''}`);
    lines.push(
      table(
        ['request', 'Stripe calls', 'which', ...(kind === 'postgresql' ? ['statements', 'round trips', 'which statements'] : [])],
        (groups ?? []).map((g) => [
          g.kind,
          g.stripeCallsPerRequest.toFixed(2),
          Object.entries(g.stripeCalls)
            .map(([call, n]) => `${n.toFixed(2)}× ${call}`)
            .join(', ') || '-',
          ...(g.ledger
            ? [
                g.ledger.statementsPerRequest.toFixed(2),
                g.ledger.roundTripsPerRequest.toFixed(2),
                Object.entries(g.ledger.byLabel)
                  .map(([label, n]) => `${n.toFixed(2)}× ${label}`)
                  .join(', ') || '-',
              ]
            : []),
        ]),
      ),
    );
  }
  const causal = result.probes.postgresql?.find((g) => g.ledger?.delayedReply)?.ledger;
  if (causal?.delayedReply) {
    const entries = Object.entries(causal.delayedReply);
    const say = (waits: boolean) =>
      entries
        .filter(([, d]) => d.answerWaits === waits)
        .map(([label, d]) => `${label} (${signed(d.extraMs)} ms)`)
        .join(', ') || 'none';
    lines.push(
      '',
      `which round trips a refund's answer waits for (PostgreSQL's reply to one kind of statement held back at a time; the answer's median change):`,
      `  waits for: ${say(true)}`,
      `  does not wait for: ${say(false)}`,
    );
  }
  lines.push('', 'targets (issue 8)', table(['target', 'measured', 'met'], result.targets.map((t) => [t.target, t.measured, t.met === null ? '-' : t.met ? 'yes' : 'NO'])));
  lines.push(
    '',
    'µs/op is CPU time (utime+stime from /proc) per operation the server finished; "other %" is what the rest of the machine used meanwhile (100 = one core).',
    result.money.ok ? `money checks: all ${result.money.checks} passed (no over-refund, no double refund, every 201 exists at the emulator).` : `MONEY CHECKS FAILED: ${result.money.problems.join('; ')}`,
  );
  return lines.join('\n');
}
