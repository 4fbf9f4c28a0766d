// The benchmark's output: the machine it ran on, a readable table for people, the same numbers as JSON for tools.
import { execFileSync } from 'node:child_process';
import { cpus, freemem, release, totalmem } from 'node:os';
import type { Check } from './scenarios.js';
import type { Recorded } from './load.js';
import type { UsageWindow } from './processes.js';

export interface ScenarioResult {
  id: string;
  title: string;
  load: Recorded;
  /** Requests the gateway counted on the route (its own metrics; requests cut off when the run stopped are not in it). */
  servedByGateway: number;
  /** From 20 requests sent one at a time after the run: exact, unlike a ratio over the load window. */
  stripeCallsPerRequest: Record<string, number>;
  /** Mean time of each Stripe call (as the gateway timed it), and the gateway's own mean time per request. */
  stripeCallMeanMs: Record<string, number>;
  gatewayMeanMs: number;
  gateway: UsageWindow & { heapUsedBytesEnd: number };
  emulator: UsageWindow;
  loadGeneratorCpuPercent: number;
  /** CPU the rest of the machine used during the run (100 = one core): the noise in these numbers. */
  otherCpuPercent: number;
  check: Check;
}

export interface BenchResult {
  schema: 1;
  startedAt: string;
  git: { commit: string; dirty: boolean };
  machine: { cpuModel: string; cpus: number; memoryGiB: number; freeMemoryGiB: number; kernel: string; node: string };
  settings: {
    seconds: number;
    warmupSeconds: number;
    connections: number;
    payments: number;
    ledger: 'pglite (in memory)' | 'postgresql';
    pendingRefunds: number;
    pendingPageLimit: number;
    stripeDelayMs: number;
  };
  startup: { emulatorReadyMs: number; gatewayReadyMs: number; gatewayIdleRssBytes: number; gatewayIdleHeapUsedBytes: number };
  scenarios: ScenarioResult[];
  ok: boolean;
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

export function describeGit(): BenchResult['git'] {
  // Only src/ and package-lock.json change what is measured; other people's edits elsewhere do not make a run dirty.
  return { commit: git(['rev-parse', '--short', 'HEAD']) || 'unknown', dirty: git(['status', '--porcelain', '--', 'src', 'package-lock.json']) !== '' };
}

export function describeMachine(): BenchResult['machine'] {
  const gib = (bytes: number) => Math.round((bytes / 2 ** 30) * 10) / 10;
  return {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cpus: cpus().length,
    memoryGiB: gib(totalmem()),
    freeMemoryGiB: gib(freemem()),
    kernel: release(),
    node: process.version,
  };
}

const mib = (bytes: number): string => `${Math.round(bytes / 2 ** 20)}`;

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const nonSuccess = (r: Recorded): string => {
  const parts = Object.entries(r.errorCodes).map(([code, n]) => `${n}× ${code}`);
  if (r.errors > 0) parts.push(`${r.errors} conn. errors (${r.timeouts} timeouts)`);
  return parts.length > 0 ? parts.join(', ') : '-';
};

const perRequest = (calls: Record<string, number>): string => {
  const total = Object.values(calls).reduce((a, b) => a + b, 0);
  return total === 0 ? '0' : total.toFixed(2);
};

export function renderReport(result: BenchResult): string {
  const { machine: m, settings: s, startup } = result;
  const lines = [
    '',
    `refund gateway benchmark — ${result.startedAt} — commit ${result.git.commit}${result.git.dirty ? ' (src/ modified)' : ''}`,
    `machine: ${m.cpus}× ${m.cpuModel}, ${m.memoryGiB} GiB, Linux ${m.kernel}, Node ${m.node}`,
    `settings: ${s.seconds} s per scenario after ${s.warmupSeconds} s warm-up, ${s.connections} connections, ${s.payments} payments, ledger ${s.ledger}, ` +
      `${s.pendingRefunds} pending refunds (page ${s.pendingPageLimit}), Stripe delay ${s.stripeDelayMs} ms`,
    `start-up: emulator ready in ${Math.round(startup.emulatorReadyMs)} ms, gateway in ${Math.round(startup.gatewayReadyMs)} ms; ` +
      `gateway idle RSS ${mib(startup.gatewayIdleRssBytes)} MiB, heap ${mib(startup.gatewayIdleHeapUsedBytes)} MiB`,
    '',
    table(
      ['scenario', 'req/s', 'p50 ms', 'p97.5 ms', 'p99 ms', 'max ms', 'requests', 'non-2xx (status code)'],
      result.scenarios.map((r) => [
        `(${r.id}) ${r.title}`,
        r.load.requestsPerSecond.toFixed(1),
        r.load.latencyMs.p50.toFixed(1),
        r.load.latencyMs.p97_5.toFixed(1),
        r.load.latencyMs.p99.toFixed(1),
        r.load.latencyMs.max.toFixed(0),
        String(r.load.requests),
        nonSuccess(r.load),
      ]),
    ),
    '',
    table(
      ['scenario', 'gw RSS max MiB', 'gw heap MiB', 'gw CPU %', 'emu CPU %', 'load CPU %', 'other CPU %', 'Stripe calls/req', 'check'],
      result.scenarios.map((r) => [
        `(${r.id})`,
        mib(r.gateway.rssMaxBytes),
        mib(r.gateway.heapUsedBytesEnd),
        r.gateway.cpuPercent.toFixed(0),
        r.emulator.cpuPercent.toFixed(0),
        r.loadGeneratorCpuPercent.toFixed(0),
        r.otherCpuPercent.toFixed(0),
        perRequest(r.stripeCallsPerRequest),
        r.check.summary,
      ]),
    ),
    '',
    'Where the time goes: the gateway\'s own mean per request; Stripe calls per request × their mean ms:',
    ...result.scenarios.map(
      (r) =>
        `  (${r.id}) ${r.gatewayMeanMs.toFixed(1)} ms; ${
          Object.entries(r.stripeCallsPerRequest)
            .map(([op, n]) => `${op} ${n.toFixed(2)} × ${(r.stripeCallMeanMs[op] ?? 0).toFixed(1)} ms`)
            .join(', ') || 'no Stripe calls'
        }`,
    ),
    '',
    `CPU % is of one core (the machine has ${m.cpus}); "other" is what the rest of the machine used meanwhile` +
      (s.ledger === 'postgresql' ? ' (PostgreSQL included, when it runs on this machine).' : '.'),
    ...(result.scenarios.some((r) => r.otherCpuPercent > 20) ? ['WARNING: other processes used more than 20 % CPU during some scenarios; compare with care.'] : []),
    result.ok ? 'All checks passed.' : 'SOME CHECKS FAILED (see the check column).',
  ];
  return lines.join('\n');
}
