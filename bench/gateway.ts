// Starting the gateway as production runs it (`node dist/server.js`), on either ledger or as the sandbox, and timing it.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, rssBytes, startProgram, waitUntilReady, type Service } from './processes.js';

export type GatewayKind = 'postgresql' | 'sqlite' | 'sandbox';

export const API_KEY = 'bench-key-0123456789abcdef';
/** The caller may send far more than the default 600 a minute: the benchmark measures the gateway, not its limiter. */
const API_KEYS = [{ id: 'bench', key: API_KEY, scopes: ['refunds:read', 'refunds:write', 'payment_intents:write'], rate_limit_per_minute: 1_000_000 }];
/** How long after its first 200 on /readyz an untouched gateway's RSS is read as its idle RSS. */
const IDLE_SETTLE_MS = 500;

export interface StartedGateway {
  kind: GatewayKind;
  service: Service;
  /** Spawn → first 200 on /readyz (ledger reachable and migrated, Stripe answered). */
  readyMs: number;
  idleRssBytes: number;
}

export interface GatewayOptions {
  kind: GatewayKind;
  name: string;
  root: string;
  logDir: string;
  logLevel: string;
  emulatorUrl?: string;
  databaseUrl?: string;
  /** A fresh file per start: the embedded ledger is held by one process at a time. */
  ledgerPath?: string;
  /** Variables added to the gateway's own (BENCH_GATEWAY_ENV); they cannot replace the ledger's or the port. */
  env?: Record<string, string>;
  /** Node flags before the entry point (the profile run adds --cpu-prof). */
  nodeFlags?: string[];
}

export async function startGateway(options: GatewayOptions): Promise<StartedGateway> {
  const port = await freePort();
  const ledger: Record<string, string> =
    options.kind === 'sandbox'
      ? { SANDBOX: 'true' }
      : {
          STRIPE_SECRET_KEY: 'sk_test_bench',
          STRIPE_API_BASE: options.emulatorUrl ?? '',
          API_KEYS: JSON.stringify(API_KEYS),
          // The gateway paces its Stripe calls under Stripe's limit (20/s for a test key); against the emulator that
          // pacing would be all the benchmark measured, so it is lifted to the most the config allows.
          STRIPE_RATE_LIMIT_PER_SECOND: '10000',
          ...(options.kind === 'postgresql' ? { DATABASE_URL: options.databaseUrl ?? '' } : { LEDGER_PATH: options.ledgerPath ?? '' }),
        };
  const service = startProgram({
    name: options.name,
    args: [...(options.nodeFlags ?? []), join(options.root, 'dist', 'server.js')],
    cwd: options.root,
    port,
    logDir: options.logDir,
    env: { LOG_LEVEL: options.logLevel, ...options.env, PORT: String(port), HOST: '127.0.0.1', ...ledger },
  });
  const readyMs = await waitUntilReady(service, '/readyz', 60_000);
  await sleep(IDLE_SETTLE_MS);
  return { kind: options.kind, service, readyMs, idleRssBytes: await rssBytes(service.pid) };
}

/** The emulator as its own compiled process on a free loopback port, ready to answer. */
export async function startEmulatorProcess(root: string, logDir: string): Promise<Service> {
  const port = await freePort();
  const emulator = startProgram({
    name: 'emulator',
    args: [join(root, 'dist', 'emulator', 'main.js')],
    cwd: root,
    port,
    logDir,
    env: { EMULATOR_PORT: String(port), EMULATOR_HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
  });
  await waitUntilReady(emulator, '/_emulator/settings', 30_000);
  return emulator;
}
