// `npm run bench:profile`: one CPU profile of the gateway (node --cpu-prof) under 8 callers refunding by charge.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureBuilt } from './ensure-built.js';
import { startEmulatorProcess, startGateway } from './gateway.js';
import { openBenchPostgres } from './postgres.js';
import { killAllNow, stop, stopAll } from './processes.js';
import { summarise, type CpuProfile } from './profile-summary.js';
import { loadSettings } from './settings.js';
import { loadAverage, refundPoint, type Run } from './work.js';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const OUT = join(ROOT, 'bench', 'results', 'profile-latest.json');
const CALLERS = 8;
const log = (message: string) => process.stderr.write(`${message}\n`);

async function main(): Promise<number> {
  const loaded = loadSettings(process.env);
  if (!loaded.ok) {
    for (const problem of loaded.problems) log(`bench: ${problem}`);
    return 2;
  }
  const settings = loaded.settings;
  process.once('exit', killAllNow);
  await ensureBuilt(ROOT, log);
  const logDir = await mkdtemp(join(tmpdir(), 'refund-profile-'));
  const profileDir = join(logDir, 'cpu-profile');
  const emulator = await startEmulatorProcess(ROOT, logDir);
  const postgres = await openBenchPostgres(settings);
  try {
    const gateway = await startGateway({
      kind: postgres ? 'postgresql' : 'sqlite',
      name: 'gateway-profiled',
      root: ROOT,
      logDir,
      logLevel: settings.BENCH_LOG_LEVEL,
      emulatorUrl: emulator.url,
      env: settings.BENCH_GATEWAY_ENV,
      ...(postgres ? { databaseUrl: await postgres.freshDatabase('bench_profile') } : { ledgerPath: join(logDir, 'ledger.db') }),
      nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`],
    });
    const run: Run = {
      settings,
      emulator,
      runId: randomBytes(4).toString('hex'),
      points: [],
      money: [],
      maxLoad: loadavg()[0] ?? 0,
      ctx: { emulator, signal: new AbortController().signal, seconds: settings.BENCH_SECONDS, loadAverage: () => 0 },
    };
    run.ctx.loadAverage = loadAverage(run);
    // The profile keeps only the measured run's samples: start-up and warm-up are left out by time.
    const window = { startUs: 0, endUs: 0 };
    await refundPoint(run, gateway, 'refund-by-charge', CALLERS, undefined, {
      onMeasureStart: () => (window.startUs = Number(process.hrtime.bigint() / 1000n)),
      onMeasureEnd: () => (window.endUs = Number(process.hrtime.bigint() / 1000n)),
    });
    // SIGTERM: the gateway closes gracefully and node writes the profile as it exits.
    await stop(gateway.service, 30_000);
    const file = (await readdir(profileDir)).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error(`no .cpuprofile in ${profileDir}`);
    const profile = JSON.parse(await readFile(join(profileDir, file), 'utf8')) as CpuProfile;
    const inside = window.startUs >= profile.startTime && window.endUs <= profile.endTime;
    const summary = summarise(profile, 30, inside ? window : undefined);
    const point = run.points[0];
    const result = {
      startedAt: new Date().toISOString(),
      ledger: gateway.kind,
      callers: CALLERS,
      refunds: point?.served,
      refundsPerSecond: point?.recorded.requestsPerSecond,
      gatewayCpuUsPerRefund: point?.cpuUsPerOp.server,
      window: inside ? 'the measured run only' : 'WHOLE process life (the clocks did not line up)',
      loadAverage: run.maxLoad,
      profileFile: join(profileDir, file),
      ...summary,
    };
    await mkdir(dirname(OUT), { recursive: true });
    await writeFile(OUT, `${JSON.stringify(result, null, 2)}\n`);
    const line = (cells: string[]) => cells.join('  ');
    process.stdout.write(
      [
        `CPU profile of the ${gateway.kind} gateway, ${CALLERS} callers refunding by charge: ${result.refunds} refunds at ${result.refundsPerSecond}/s, ` +
          `${result.gatewayCpuUsPerRefund} µs CPU per refund (/proc); sampled ${summary.busyMs} ms busy, ${summary.idleMs} ms idle (${result.window})`,
        '',
        'by origin (self time):',
        ...summary.byOrigin.map((o) => line([`${o.percent.toFixed(1).padStart(5)} %`, `${o.selfMs.toFixed(0).padStart(6)} ms`, o.origin])),
        '',
        'native writes (sockets, files) by who made them:',
        ...summary.writesBy.map((w) => line([`${w.percent.toFixed(1).padStart(5)} %`, `${w.selfMs.toFixed(0).padStart(6)} ms`, w.writer])),
        '',
        'top functions (self time):',
        ...summary.top.map((f) => line([`${f.percent.toFixed(1).padStart(5)} %`, `${f.selfMs.toFixed(0).padStart(6)} ms`, f.name, f.where])),
        '',
        'Self time is sampled wall time on the main thread: a write that wakes its peer and is preempted keeps being',
        'sampled while it waits, so writes look larger here than in /proc (see "of it sys" in the benchmark).',
        `raw profile: ${result.profileFile} (open it in Chrome DevTools → Performance, or speedscope)`,
        `summary written to ${OUT}`,
        '',
      ].join('\n'),
    );
    return 0;
  } finally {
    await stopAll(2_000);
    await postgres?.close();
  }
}

main().then(
  (code) => process.exit(code),
  async (error: unknown) => {
    log(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    await stopAll(2_000);
    process.exit(1);
  },
);
