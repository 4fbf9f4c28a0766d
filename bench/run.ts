// `npm run bench`: the gateway (PostgreSQL and SQLite ledgers), the direct SDK and a bare Fastify route, side by side.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DirectCaller } from './direct-client.js';
import { ensureBuilt } from './ensure-built.js';
import { startEmulatorProcess, startGateway, type GatewayKind, type StartedGateway } from './gateway.js';
import { barePoint, type PointContext } from './points.js';
import { openBenchPostgres } from './postgres.js';
import { probeGateway } from './probe.js';
import { freePort, killAllNow, PeakRss, startProgram, stop, stopAll, waitUntilReady } from './processes.js';
import { describeGit, describeMachine, evaluateTargets, renderReport, type BenchResult, type StartSample } from './report.js';
import { loadSettings } from './settings.js';
import { checkMoney, resetEmulator, type MoneyCheck } from './stripe-data.js';
import { WireCounter } from './wire-counter.js';
import { loadAverage, readablePayments, readPoint, refundPoint, replayPoint, type Run } from './work.js';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const RESULTS = join(ROOT, 'bench', 'results', 'latest.json');
const log = (message: string) => process.stderr.write(`${message}\n`);

async function main(): Promise<number> {
  const loaded = loadSettings(process.env);
  if (!loaded.ok) {
    for (const problem of loaded.problems) log(`bench: ${problem}`);
    return 2;
  }
  const settings = loaded.settings;
  const startedAt = new Date().toISOString();
  const abort = new AbortController();
  // Every run stops by itself: a hard cap far above the sum of its bounded parts.
  const budgetMs = 600_000 + 40 * settings.BENCH_SECONDS * 1000 * settings.callers.length;
  const watchdog = setTimeout(() => {
    log(`bench: still running after ${budgetMs / 1000} s; giving up`);
    abort.abort();
    void stopAll(1_000).finally(() => process.exit(3));
  }, budgetMs).unref();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`bench: ${signal}, stopping`);
      abort.abort();
      void stopAll(2_000).finally(() => process.exit(130));
    });
  }
  process.once('exit', killAllNow);

  const atStart = loadavg()[0] ?? 0;
  if (atStart > 1) log(`bench: the machine is busy (load average ${atStart.toFixed(2)}); numbers will be noisy`);
  await ensureBuilt(ROOT, log);
  const logDir = await mkdtemp(join(tmpdir(), 'refund-bench-'));
  log(`bench: child logs in ${logDir}`);

  const emulator = await startEmulatorProcess(ROOT, logDir);

  const postgres = await openBenchPostgres(settings);
  if (!postgres) log('bench: PostgreSQL is not installed and BENCH_DATABASE_URL is not set: the PostgreSQL ledger is skipped');

  const run: Run = {
    settings,
    emulator,
    runId: randomBytes(4).toString('hex'),
    points: [],
    money: [],
    maxLoad: atStart,
    ctx: undefined as unknown as PointContext,
  };
  run.ctx = { emulator, signal: abort.signal, seconds: settings.BENCH_SECONDS, loadAverage: loadAverage(run), ...(postgres?.postmasterPid !== undefined ? { postgresPid: postgres.postmasterPid } : {}) };

  try {
    // 1. Start-up: fresh starts of each kind, each on a new ledger, one at a time.
    const kinds: GatewayKind[] = [...(postgres ? (['postgresql'] as const) : []), 'sqlite', 'sandbox'];
    const starts: StartSample[] = [];
    let n = 0;
    const launch = async (kind: GatewayKind, name: string, nodeFlags: string[] = []): Promise<StartedGateway> => {
      n += 1;
      const gateway = await startGateway({
        kind,
        name,
        root: ROOT,
        logDir,
        logLevel: settings.BENCH_LOG_LEVEL,
        emulatorUrl: emulator.url,
        env: settings.BENCH_GATEWAY_ENV,
        ...(kind === 'postgresql' && postgres ? { databaseUrl: await postgres.freshDatabase(`bench_${n}`) } : {}),
        ...(kind === 'sqlite' ? { ledgerPath: join(logDir, `ledger-${n}.db`) } : {}),
        nodeFlags,
      });
      starts.push({ kind, readyMs: gateway.readyMs, idleRssBytes: gateway.idleRssBytes });
      return gateway;
    };
    for (let i = 0; settings.parts.has('starts') && i < settings.BENCH_STARTS; i++) {
      for (const kind of kinds) await stop((await launch(kind, `start-${kind}-${i}`)).service);
    }
    log(`bench: start-up: ${starts.map((s) => `${s.kind} ${Math.round(s.readyMs)} ms ${Math.round(s.idleRssBytes / 1e6)} MB`).join(', ')}`);

    // 2. The measured processes, started once and kept for the whole run.
    const gateways: StartedGateway[] = [];
    if (postgres) gateways.push(await launch('postgresql', 'gateway-postgresql'));
    gateways.push(await launch('sqlite', 'gateway-sqlite'));
    const peaks = gateways.map((g) => [g.kind, new PeakRss(g.service.pid)] as const);
    const direct = await DirectCaller.start({ root: ROOT, logDir, emulatorUrl: emulator.url });

    // 3. Refunds, interleaved target by target at each caller count, so a change in the machine's load hits all alike.
    for (const work of settings.parts.has('refunds') ? (['refund-by-charge', 'refund-by-intent'] as const) : []) {
      for (const callers of settings.callers) {
        for (const target of ['direct' as const, ...gateways]) {
          if (abort.signal.aborted) break;
          await refundPoint(run, target, work, callers, direct);
        }
      }
    }
    // 4. Payment reads and replays, at one caller (latency) and at the middle count (throughput).
    const fewCallers = [...new Set([1, settings.callers[Math.floor(settings.callers.length / 2)] ?? 8])];
    if (settings.parts.has('reads')) {
      const readable = await readablePayments(emulator.url);
      for (const callers of fewCallers) for (const target of ['direct' as const, ...gateways]) await readPoint(run, target, callers, readable, direct);
    }
    if (settings.parts.has('replays')) for (const callers of fewCallers) for (const gateway of gateways) await replayPoint(run, gateway, callers);
    await stop(direct.service);

    // 5. The floor: a bare Fastify route.
    if (settings.parts.has('bare')) {
      const barePort = await freePort();
      const bare = startProgram({ name: 'bare-fastify', args: ['--import', 'tsx', 'bench/bare-fastify.ts'], cwd: ROOT, port: barePort, logDir, env: { PORT: String(barePort) } });
      await waitUntilReady(bare, '/ping', 60_000);
      for (const callers of settings.callers) {
        const result = await barePoint(run.ctx, bare, callers);
        run.points.push(result);
        log(`bench: bare-fastify ×${callers}: ${result.recorded.requestsPerSecond} req/s, server ${result.cpuUsPerOp.server} µs/op`);
      }
      await stop(bare);
    }

    // 6. Exact per-request counts, one request at a time: the SQLite gateway as it is, PostgreSQL through the counter.
    const peakRssBytes: BenchResult['peakRssBytes'] = {};
    for (const [kind, peak] of peaks) peakRssBytes[kind] = peak.stop();
    const probes: BenchResult['probes'] = {};
    const probeMoney: MoneyCheck[] = [];
    const sqlite = gateways.find((g) => g.kind === 'sqlite');
    for (const gateway of gateways) await stop(gateway.service);
    if (sqlite && settings.parts.has('probe')) {
      const again = await launch('sqlite', 'probe-sqlite');
      await resetEmulator(emulator.url);
      const p = await probeGateway({ gatewayUrl: again.service.url, emulatorUrl: emulator.url, count: settings.BENCH_PROBE, runId: run.runId });
      probes.sqlite = p.groups;
      probeMoney.push(await checkMoney(emulator.url, p.answered, p.askedOnce));
      await stop(again.service);
    }
    if (postgres && settings.parts.has('probe')) {
      const databaseUrl = await postgres.freshDatabase('bench_probe');
      const upstream = new URL(databaseUrl);
      const { counter, port } = await WireCounter.start({ host: upstream.hostname, port: Number(upstream.port || 5432) });
      const relayed = new URL(databaseUrl);
      relayed.hostname = '127.0.0.1';
      relayed.port = String(port);
      const counted = await startGateway({ kind: 'postgresql', name: 'probe-postgresql', root: ROOT, logDir, logLevel: settings.BENCH_LOG_LEVEL, emulatorUrl: emulator.url, env: settings.BENCH_GATEWAY_ENV, databaseUrl: relayed.toString() });
      await resetEmulator(emulator.url);
      const p = await probeGateway({ gatewayUrl: counted.service.url, emulatorUrl: emulator.url, counter, count: settings.BENCH_PROBE, runId: run.runId });
      probes.postgresql = p.groups;
      probeMoney.push(await checkMoney(emulator.url, p.answered, p.askedOnce));
      await stop(counted.service);
      await counter.close();
    }
    for (const check of probeMoney) run.money.push(check);

    const partial: Omit<BenchResult, 'targets' | 'ok'> = {
      schema: 2,
      startedAt,
      finishedAt: new Date().toISOString(),
      git: describeGit(),
      machine: describeMachine(),
      loadAverage: { atStart, maxDuringRun: run.maxLoad },
      settings: Object.fromEntries(Object.entries(settings).filter(([k]) => k !== 'BENCH_DATABASE_URL' && k !== 'parts')),
      postgres: postgres?.origin ?? null,
      starts,
      peakRssBytes,
      points: run.points,
      probes,
      money: {
        ok: run.money.every((m) => m.ok),
        checks: run.money.length,
        problems: run.money.flatMap((m) => m.problems).slice(0, 20),
        probe: probeMoney,
      },
    };
    const result: BenchResult = { ...partial, targets: evaluateTargets(partial), ok: partial.money.ok };
    clearTimeout(watchdog);
    await mkdir(dirname(RESULTS), { recursive: true });
    await writeFile(RESULTS, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`${renderReport(result)}\n`);
    log(`bench: results written to ${RESULTS}`);
    return result.ok ? 0 : 1;
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
