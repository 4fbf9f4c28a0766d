// `npm run bench`: the gateway (PostgreSQL and SQLite ledgers), the direct SDK and a bare Fastify route, side by side.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DirectCaller } from './direct-client.js';
import { ensureBuilt } from './ensure-built.js';
import { API_KEY, startGateway, type GatewayKind, type StartedGateway } from './gateway.js';
import type { Load, Recorded, RequestShape } from './load.js';
import { barePoint, directPoint, gatewayPoint, type PointContext, type PointResult, type Work } from './points.js';
import { givenServer, postgresBinaries, startPrivateCluster, type BenchPostgres } from './postgres.js';
import { probeGateway } from './probe.js';
import { freePort, killAllNow, PeakRss, startProgram, stop, stopAll, waitUntilReady, type Service } from './processes.js';
import { describeGit, describeMachine, evaluateTargets, renderReport, type BenchResult, type StartSample } from './report.js';
import { loadSettings, refundsPerPoint, type Settings } from './settings.js';
import { checkMoney, createPayments, emulatorCall, resetEmulator, type MoneyCheck, type Payment } from './stripe-data.js';
import { WireCounter } from './wire-counter.js';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const RESULTS = join(ROOT, 'bench', 'results', 'latest.json');
/** Each payment's amount; every refund in the refund points takes all of it (no `amount`: "everything left"). */
const PAYMENT_AMOUNT = 20_000;
/** Payments the read points cycle over, each already holding one refund. */
const READ_PAYMENTS = 200;

const log = (message: string) => process.stderr.write(`${message}\n`);

interface Run {
  settings: Settings;
  ctx: PointContext;
  emulator: Service;
  runId: string;
  points: PointResult[];
  money: MoneyCheck[];
  maxLoad: number;
}

const loadAverage = (run: { maxLoad: number }) => () => {
  const now = loadavg()[0] ?? 0;
  run.maxLoad = Math.max(run.maxLoad, now);
  return now;
};

/** Refunds of `payments`, one each, a new key each, by charge or by PaymentIntent; collects the 201s' refund ids. */
function refundLoad(payments: Payment[], work: Work, keyPrefix: string, answered: Set<string>): Load {
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

async function refundPoint(run: Run, target: 'direct' | StartedGateway, work: 'refund-by-charge' | 'refund-by-intent', callers: number, direct: DirectCaller): Promise<void> {
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
async function readablePayments(emulatorUrl: string): Promise<Payment[]> {
  await resetEmulator(emulatorUrl);
  const payments = await createPayments(emulatorUrl, READ_PAYMENTS, PAYMENT_AMOUNT);
  for (const p of payments) await emulatorCall(emulatorUrl, 'POST', '/v1/refunds', { charge: p.charge, amount: '500' });
  return payments;
}

async function readPoint(run: Run, target: 'direct' | StartedGateway, callers: number, payments: Payment[], direct: DirectCaller): Promise<void> {
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

async function replayPoint(run: Run, gateway: StartedGateway, callers: number): Promise<void> {
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

  const emulatorPort = await freePort();
  const emulator = startProgram({
    name: 'emulator',
    args: [join(ROOT, 'dist', 'emulator', 'main.js')],
    cwd: ROOT,
    port: emulatorPort,
    logDir,
    env: { EMULATOR_PORT: String(emulatorPort), EMULATOR_HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
  });
  await waitUntilReady(emulator, '/_emulator/settings', 30_000);

  let postgres: BenchPostgres | undefined;
  if (settings.BENCH_DATABASE_URL !== undefined) postgres = await givenServer(settings.BENCH_DATABASE_URL);
  else if (postgresBinaries() !== undefined) postgres = await startPrivateCluster(await freePort(), settings.BENCH_PG_DURABLE);
  else log('bench: PostgreSQL is not installed and BENCH_DATABASE_URL is not set: the PostgreSQL ledger is skipped');

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
        ...(kind === 'postgresql' && postgres ? { databaseUrl: await postgres.freshDatabase(`bench_${n}`) } : {}),
        ...(kind === 'sqlite' ? { ledgerPath: join(logDir, `ledger-${n}.db`) } : {}),
        nodeFlags,
      });
      starts.push({ kind, readyMs: gateway.readyMs, idleRssBytes: gateway.idleRssBytes });
      return gateway;
    };
    for (let i = 0; i < settings.BENCH_STARTS; i++) {
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
    for (const work of ['refund-by-charge', 'refund-by-intent'] as const) {
      for (const callers of settings.callers) {
        for (const target of ['direct' as const, ...gateways]) {
          if (abort.signal.aborted) break;
          await refundPoint(run, target, work, callers, direct);
        }
      }
    }
    // 4. Payment reads and replays, at one caller (latency) and at the middle count (throughput).
    const fewCallers = [...new Set([1, settings.callers[Math.floor(settings.callers.length / 2)] ?? 8])];
    const readable = await readablePayments(emulator.url);
    for (const callers of fewCallers) for (const target of ['direct' as const, ...gateways]) await readPoint(run, target, callers, readable, direct);
    for (const callers of fewCallers) for (const gateway of gateways) await replayPoint(run, gateway, callers);
    await stop(direct.service);

    // 5. The floor: a bare Fastify route.
    const barePort = await freePort();
    const bare = startProgram({ name: 'bare-fastify', args: ['--import', 'tsx', 'bench/bare-fastify.ts'], cwd: ROOT, port: barePort, logDir, env: { PORT: String(barePort) } });
    await waitUntilReady(bare, '/ping', 60_000);
    for (const callers of settings.callers) {
      const result = await barePoint(run.ctx, bare, callers);
      run.points.push(result);
      log(`bench: bare-fastify ×${callers}: ${result.recorded.requestsPerSecond} req/s, server ${result.cpuUsPerOp.server} µs/op`);
    }
    await stop(bare);

    // 6. Exact per-request counts, one request at a time: the SQLite gateway as it is, PostgreSQL through the counter.
    const peakRssBytes: BenchResult['peakRssBytes'] = {};
    for (const [kind, peak] of peaks) peakRssBytes[kind] = peak.stop();
    const probes: BenchResult['probes'] = {};
    const probeMoney: MoneyCheck[] = [];
    const sqlite = gateways.find((g) => g.kind === 'sqlite');
    for (const gateway of gateways) await stop(gateway.service);
    if (sqlite) {
      const again = await launch('sqlite', 'probe-sqlite');
      await resetEmulator(emulator.url);
      const p = await probeGateway({ gatewayUrl: again.service.url, emulatorUrl: emulator.url, count: settings.BENCH_PROBE, runId: run.runId });
      probes.sqlite = p.groups;
      probeMoney.push(await checkMoney(emulator.url, p.answered, p.askedOnce));
      await stop(again.service);
    }
    if (postgres) {
      const databaseUrl = await postgres.freshDatabase('bench_probe');
      const upstream = new URL(databaseUrl);
      const { counter, port } = await WireCounter.start({ host: upstream.hostname, port: Number(upstream.port || 5432) });
      const relayed = new URL(databaseUrl);
      relayed.hostname = '127.0.0.1';
      relayed.port = String(port);
      const counted = await startGateway({ kind: 'postgresql', name: 'probe-postgresql', root: ROOT, logDir, logLevel: settings.BENCH_LOG_LEVEL, emulatorUrl: emulator.url, databaseUrl: relayed.toString() });
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
      settings: Object.fromEntries(Object.entries(settings).filter(([k]) => k !== 'BENCH_DATABASE_URL')),
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
