// `npm run bench`: emulator and gateway as child processes on loopback, six bounded load scenarios, table + JSON.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { assertEmptyLedger } from './database.js';
import { addStripeDelay, createPayments, gatewayCall, mapLimit, sdkFor, type Payment } from './fixtures.js';
import { fire, probe } from './load.js';
import { heapUsedBytes, scrape, servedBetween, servedMeanMsBetween, settle, stripeCallMeanMsBetween, stripeCallsBetween } from './metrics.js';
import { freePort, killAllNow, machineBusySeconds, rssBytes, startService, stopAll, UsageSampler, waitUntilReady } from './processes.js';
import { describeGit, describeMachine, renderReport, type BenchResult, type ScenarioResult } from './report.js';
import { buildScenarios } from './scenarios.js';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const RESULTS = join(ROOT, 'bench', 'results', 'latest.json');

const settingsSchema = z.object({
  BENCH_SECONDS: z.coerce.number().int().min(1).max(300).default(10),
  BENCH_WARMUP_SECONDS: z.coerce.number().int().min(0).max(60).default(1),
  BENCH_CONNECTIONS: z.coerce.number().int().min(1).max(256).default(16),
  BENCH_PAYMENTS: z.coerce.number().int().min(10).max(10_000).default(300),
  /** Comma-separated scenario ids to run (default all): `BENCH_SCENARIOS=a,f`. */
  BENCH_SCENARIOS: z.string().regex(/^[a-f](,[a-f])*$/).optional(),
  BENCH_DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//).optional(),
  /** Pending refunds in the index for (e), and the page size (e) asks for. */
  BENCH_PENDING: z.coerce.number().int().min(1).max(1_000).default(20),
  BENCH_PENDING_LIMIT: z.coerce.number().int().min(1).max(100).default(10),
  /** Added to every /v1 answer of the emulator (its `delay` fault), to see the gateway with Stripe-like latency. */
  BENCH_STRIPE_DELAY_MS: z.coerce.number().int().min(0).max(5_000).default(0),
});

const API_KEY = 'bench-key-0123456789abcdef';
/** The caller may send far more than the default 600 a minute: the benchmark measures the gateway, not its limiter. */
const API_KEYS = [{ id: 'bench', key: API_KEY, scopes: ['refunds:read', 'refunds:write', 'payment_intents:write'], rate_limit_per_minute: 1_000_000 }];
/** Each spread payment can take 400+ refunds of 1–50 cents, far more than a run sends (checked after (a)). */
const SPREAD_AMOUNT = 20_000;
/** Requests sent one at a time after each run to count Stripe calls per request exactly. */
const PROBE_REQUESTS = 20;

const log = (message: string) => process.stderr.write(`${message}\n`);

async function main(): Promise<number> {
  const parsed = settingsSchema.safeParse(Object.fromEntries(Object.entries(process.env).filter(([k, v]) => k.startsWith('BENCH_') && v !== '')));
  if (!parsed.success) {
    for (const issue of parsed.error.issues) log(`bench: ${issue.path.join('.')}: ${issue.message}`);
    return 2;
  }
  const env = parsed.data;
  const wanted = new Set((env.BENCH_SCENARIOS ?? 'a,b,c,d,e,f').split(','));

  // Every run stops by itself: a hard cap well above the sum of its bounded parts.
  const budgetMs = 180_000 + wanted.size * (env.BENCH_SECONDS + env.BENCH_WARMUP_SECONDS + 30) * 1000;
  const abort = new AbortController();
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

  if (env.BENCH_DATABASE_URL !== undefined) await assertEmptyLedger(env.BENCH_DATABASE_URL);

  const startedAt = new Date().toISOString();
  const [load1] = loadavg();
  if ((load1 ?? 0) > 1) log(`bench: the machine is already busy (load average ${load1?.toFixed(2)}); numbers will be noisy`);
  const logDir = await mkdtemp(join(tmpdir(), 'refund-bench-'));
  log(`bench: child logs in ${logDir}`);
  const [emulatorPort, gatewayPort] = [await freePort(), await freePort()];
  const emulator = startService({
    name: 'emulator',
    entry: 'src/emulator/main.ts',
    cwd: ROOT,
    port: emulatorPort,
    logDir,
    env: { EMULATOR_PORT: String(emulatorPort), EMULATOR_HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
  });
  const gatewaySpawned = performance.now();
  const gateway = startService({
    name: 'gateway',
    entry: 'src/server.ts',
    cwd: ROOT,
    port: gatewayPort,
    logDir,
    env: {
      PORT: String(gatewayPort),
      HOST: '127.0.0.1',
      STRIPE_SECRET_KEY: 'sk_test_bench',
      STRIPE_API_BASE: emulator.url,
      API_KEYS: JSON.stringify(API_KEYS),
      LOG_LEVEL: 'warn',
      ...(env.BENCH_DATABASE_URL !== undefined ? { DATABASE_URL: env.BENCH_DATABASE_URL } : {}),
    },
  });
  const emulatorReadyMs = await waitUntilReady(emulator, '/_emulator/settings', 60_000);
  await waitUntilReady(gateway, '/readyz', 90_000);
  const gatewayReadyMs = performance.now() - gatewaySpawned;
  log(`bench: emulator ready in ${Math.round(emulatorReadyMs)} ms, gateway in ${Math.round(gatewayReadyMs)} ms`);
  const idleRss = await rssBytes(gateway.pid);
  const idleHeap = heapUsedBytes(await scrape(gateway.url));

  // Test data, made through the SDK as a shop would; none of this is measured.
  const stripe = sdkFor(emulator.url);
  const runId = randomBytes(4).toString('hex');
  const spread = await createPayments(stripe, env.BENCH_PAYMENTS, SPREAD_AMOUNT);
  const [single, replayPayment] = [...(await createPayments(stripe, 1, 99_999_999)), ...(await createPayments(stripe, 1, 10_000))] as [Payment, Payment];
  const replay = { payment: replayPayment, key: `bench-${runId}-replay`, body: { payment_intent: replayPayment.intent, amount: 100 } };
  await gatewayCall(gateway.url, API_KEY, { method: 'POST', path: '/v1/refunds', body: replay.body, idempotencyKey: replay.key, expect: 201 });
  // pm_card_pendingRefund keeps its refunds pending for 10 emulator minutes, longer than the whole run.
  const pendingPayments = await createPayments(stripe, env.BENCH_PENDING, 5_000, 'pm_card_pendingRefund');
  await mapLimit(pendingPayments, 8, async (payment, i) => {
    const refund = (await gatewayCall(gateway.url, API_KEY, {
      method: 'POST',
      path: '/v1/refunds',
      body: { payment_intent: payment.intent, amount: 1_000 },
      idempotencyKey: `bench-${runId}-pending-${i}`,
      expect: 201,
    })) as { status: string };
    if (refund.status !== 'pending') throw new Error(`a pm_card_pendingRefund refund came back ${refund.status}, not pending`);
  });
  log(`bench: ${spread.length + 2 + pendingPayments.length} payments made`);
  if (env.BENCH_STRIPE_DELAY_MS > 0) await addStripeDelay(emulator.url, env.BENCH_STRIPE_DELAY_MS);

  const scenarios = buildScenarios({
    stripe,
    runId,
    spread,
    single,
    replay,
    pending: { count: env.BENCH_PENDING, limit: env.BENCH_PENDING_LIMIT },
  }).filter((s) => wanted.has(s.id));
  const target = { url: gateway.url, apiKey: API_KEY };
  const results: ScenarioResult[] = [];
  for (const scenario of scenarios) {
    if (abort.signal.aborted) break;
    await scenario.before?.();
    if (env.BENCH_WARMUP_SECONDS > 0) {
      await fire(target, scenario.load, { connections: env.BENCH_CONNECTIONS, seconds: env.BENCH_WARMUP_SECONDS, signal: abort.signal });
    }
    scenario.startMeasuring?.();
    const { method, route } = scenario.metricsRoute;
    const before = await settle(gateway.url, method, route);
    const gatewayUsage = new UsageSampler(gateway.pid);
    const emulatorUsage = new UsageSampler(emulator.pid);
    await Promise.all([gatewayUsage.start(), emulatorUsage.start()]);
    const selfCpu = process.cpuUsage();
    const selfWall = performance.now();
    const machineBefore = await machineBusySeconds();
    const recorded = await fire(target, scenario.load, { connections: env.BENCH_CONNECTIONS, seconds: env.BENCH_SECONDS, signal: abort.signal });
    const self = process.cpuUsage(selfCpu);
    const wallMs = performance.now() - selfWall;
    const loadCpu = ((self.user + self.system) / 1000 / wallMs) * 100;
    const machineCpu = (((await machineBusySeconds()) - machineBefore) / (wallMs / 1000)) * 100;
    const [gatewayWindow, emulatorWindow] = await Promise.all([gatewayUsage.stop(), emulatorUsage.stop()]);
    // Whatever else ran on the machine meanwhile (other people's test runs): the run's noise, shown, not hidden.
    const otherCpu = Math.max(0, machineCpu - gatewayWindow.cpuPercent - emulatorWindow.cpuPercent - loadCpu);
    const after = await settle(gateway.url, method, route);
    const served = servedBetween(before, after, method, route);
    const check = await scenario.check(recorded);
    await probe(target, scenario.load, PROBE_REQUESTS);
    const probed = await scrape(gateway.url);
    const calls = stripeCallsBetween(after, probed);
    const result: ScenarioResult = {
      id: scenario.id,
      title: scenario.title,
      load: recorded,
      servedByGateway: served,
      stripeCallsPerRequest: Object.fromEntries(Object.entries(calls).map(([op, n]) => [op, Math.round((n / PROBE_REQUESTS) * 100) / 100])),
      stripeCallMeanMs: stripeCallMeanMsBetween(before, after),
      gatewayMeanMs: servedMeanMsBetween(before, after, method, route),
      gateway: { ...gatewayWindow, heapUsedBytesEnd: heapUsedBytes(after) },
      emulator: emulatorWindow,
      loadGeneratorCpuPercent: loadCpu,
      otherCpuPercent: otherCpu,
      check,
    };
    results.push(result);
    log(`bench: (${scenario.id}) ${scenario.title}: ${recorded.requestsPerSecond} req/s, p99 ${recorded.latencyMs.p99} ms, other CPU ${otherCpu.toFixed(0)} % — ${check.summary}`);
  }

  const result: BenchResult = {
    schema: 1,
    startedAt,
    git: describeGit(),
    machine: describeMachine(),
    settings: {
      seconds: env.BENCH_SECONDS,
      warmupSeconds: env.BENCH_WARMUP_SECONDS,
      connections: env.BENCH_CONNECTIONS,
      payments: env.BENCH_PAYMENTS,
      ledger: env.BENCH_DATABASE_URL !== undefined ? 'postgresql' : 'pglite (in memory)',
      pendingRefunds: env.BENCH_PENDING,
      pendingPageLimit: env.BENCH_PENDING_LIMIT,
      stripeDelayMs: env.BENCH_STRIPE_DELAY_MS,
    },
    startup: { emulatorReadyMs, gatewayReadyMs, gatewayIdleRssBytes: idleRss, gatewayIdleHeapUsedBytes: idleHeap },
    scenarios: results,
    ok: results.length === scenarios.length && results.every((r) => r.check.ok),
  };
  await stopAll();
  clearTimeout(watchdog);
  await mkdir(dirname(RESULTS), { recursive: true });
  await writeFile(RESULTS, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${renderReport(result)}\n`);
  log(`bench: results written to ${RESULTS}`);
  return result.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  async (error: unknown) => {
    log(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    await stopAll(2_000);
    process.exit(1);
  },
);
