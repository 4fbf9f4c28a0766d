// `npm run soak`: minutes of load and chaos against a gateway process on the emulator — faults on and off, a restart
// in the middle — then the money is checked at the emulator. Loopback only, bounded in time; exits 1 on a violation.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Stripe from 'stripe';
import { STRIPE_API_VERSION } from '../src/config.js';
import type { FaultSpec } from '../src/emulator/faults.js';
import { startEmulator } from '../src/emulator/server.js';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 120);
const CONCURRENCY = Number(process.env.SOAK_CONCURRENCY ?? 8);
const PAYMENTS = Number(process.env.SOAK_PAYMENTS ?? 200);
const KEY = 'soak-key-0123456789abcdef-0123';
const root = new URL('..', import.meta.url).pathname;

interface Sent {
  key: string;
  body: string;
  status: number;
  code?: string;
  refundId?: string;
}

const emulator = await startEmulator({ port: 0, logger: false });
const stripe = new Stripe('sk_test_soak', {
  host: '127.0.0.1',
  port: Number(new URL(emulator.url).port),
  protocol: 'http',
  apiVersion: STRIPE_API_VERSION as Stripe.LatestApiVersion,
  telemetry: false,
});
const dir = mkdtempSync(join(tmpdir(), 'soak-'));
const env = {
  PATH: process.env.PATH ?? '',
  HOST: '127.0.0.1',
  LOG_LEVEL: 'warn',
  STRIPE_SECRET_KEY: 'sk_test_soak',
  STRIPE_API_BASE: emulator.url,
  STRIPE_TIMEOUT_MS: '1500',
  STRIPE_MAX_NETWORK_RETRIES: '1',
  LOCK_WAIT_MS: '3000',
  STRIPE_RATE_LIMIT_PER_SECOND: process.env.SOAK_STRIPE_RATE ?? '10000',
  MAX_EVENT_LOOP_DELAY_MS: '0',
  LEDGER_PATH: join(dir, 'ledger.db'),
  API_KEYS: JSON.stringify([{ id: 'soak', key: KEY, scopes: ['refunds:read', 'refunds:write', 'payment_intents:write'], rate_limit_per_minute: 1_000_000 }]),
};

let gateway!: { child: ChildProcess; url: string };
/** A free loopback port, so the gateway's address is known without reading its logs (kept at warn). */
const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
async function startGateway(): Promise<void> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { cwd: root, env: { ...env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  for (let waited = 0; ; waited += 100) {
    if (child.exitCode !== null) throw new Error(`the gateway exited (${child.exitCode}) before it was ready`);
    if (waited > 60_000) throw new Error('the gateway was not ready within 60 s');
    const ready = await fetch(`${url}/healthz`).then((r) => r.ok, () => false);
    if (ready) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  gateway = { child, url };
}

const rssMb = (pid: number | undefined): number => {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
};

console.error(`soak: ${SECONDS} s, ${CONCURRENCY} callers, ${PAYMENTS} payments of $500, faults on and off, a restart halfway`);
const payments: { charge: string; intent: string }[] = [];
for (let i = 0; i < PAYMENTS; i += 1) {
  const pi = await stripe.paymentIntents.create({ amount: 50_000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true, allowed_payment_method_types: ['card'] } as Stripe.PaymentIntentCreateParams);
  payments.push({ intent: pi.id, charge: typeof pi.latest_charge === 'string' ? pi.latest_charge : (pi.latest_charge?.id ?? '') });
}
await startGateway();

const sent: Sent[] = [];
const latencies: Record<string, number[]> = { refund: [], replay: [], payment: [], list: [] };
const outcomes = new Map<string, number>();
const rss: { at: number; mb: number }[] = [];
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;
let keyCounter = 0;

async function call(op: string, method: string, path: string, body?: object, key?: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const started = performance.now();
  try {
    const res = await fetch(`${gateway.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${KEY}`, ...(body ? { 'content-type': 'application/json' } : {}), ...(key ? { 'idempotency-key': key } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(30_000),
    });
    const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    latencies[op]!.push(performance.now() - started);
    const label = `${op} ${res.status}${typeof json.code === 'string' ? ` ${json.code}` : ''}`;
    outcomes.set(label, (outcomes.get(label) ?? 0) + 1);
    return { status: res.status, json };
  } catch {
    outcomes.set(`${op} no answer`, (outcomes.get(`${op} no answer`) ?? 0) + 1);
    // Nobody listens (the restart): a caller waits a little rather than spinning on refused connections.
    await new Promise((resolve) => setTimeout(resolve, 200));
    return { status: 0, json: {} };
  }
}

async function refund(key: string, body: object, op: 'refund' | 'replay'): Promise<void> {
  const { status, json } = await call(op, 'POST', '/v1/refunds', body, key);
  sent.push({ key, body: JSON.stringify(body), status, ...(typeof json.code === 'string' ? { code: json.code } : {}), ...(status === 201 ? { refundId: String(json.id) } : {}) });
}

async function caller(until: number): Promise<void> {
  while (Date.now() < until) {
    const roll = Math.random();
    const p = pick(payments);
    if (roll < 0.65) await refund(`soak-${++keyCounter}`, Math.random() < 0.5 ? { charge: p.charge, amount: 1 + Math.floor(Math.random() * 500) } : { payment_intent: p.intent, amount: 1 + Math.floor(Math.random() * 500) }, 'refund');
    else if (roll < 0.8 && sent.length > 0) {
      const earlier = pick(sent);
      await refund(earlier.key, JSON.parse(earlier.body) as object, 'replay');
    } else if (roll < 0.95) await call('payment', 'GET', `/v1/payments/${p.intent}`);
    else await call('list', 'GET', `/v1/refunds?charge=${p.charge}&limit=20`);
  }
}

const CHAOS: FaultSpec[] = [
  { method: 'POST', path: '/v1/refunds', kind: 'error', status: 500, times: 20 },
  { method: 'POST', path: '/v1/refunds', kind: 'rate_limit', times: 20 },
  { method: 'POST', path: '/v1/refunds', kind: 'drop_after_work', times: 10 },
  { method: 'POST', path: '/v1/refunds', kind: 'delay', delay_ms: 4_000, times: 5 },
  { method: 'GET', path: '/v1/charges/*', kind: 'delay', delay_ms: 300, times: 50 },
];

const started = Date.now();
const end = started + SECONDS * 1000;
const sampler = setInterval(() => rss.push({ at: Math.round((Date.now() - started) / 1000), mb: rssMb(gateway.child.pid) }), 1_000);
const chaos = setInterval(() => {
  // Faults on in odd ten-second periods, off in even ones.
  if (Math.floor((Date.now() - started) / 10_000) % 2 === 1) emulator.control.injectFault(pick(CHAOS));
  else emulator.control.clearFaults();
}, 2_000);
const restart = (async () => {
  await new Promise((resolve) => setTimeout(resolve, (SECONDS * 1000) / 2));
  console.error('soak: restarting the gateway (SIGTERM, then a new process on the same ledger file)');
  const old = gateway.child;
  const down = performance.now();
  old.kill('SIGTERM');
  const [code] = await once(old, 'exit');
  await startGateway();
  console.error(`soak: the old process exited ${code}; the new one answered after ${Math.round(performance.now() - down)} ms`);
})();
await Promise.all([...Array.from({ length: CONCURRENCY }, () => caller(end)), restart]);
clearInterval(chaos);
clearInterval(sampler);
emulator.control.clearFaults();

// Every request whose outcome was unknown (no answer, 5xx, still in progress) is asked again until it settles.
await new Promise((resolve) => setTimeout(resolve, 5_000));
const unsettled = (s: Sent) => s.status === 0 || s.status >= 500 || s.code === 'idempotency_request_in_progress' || s.code === 'payment_busy';
for (let round = 0; round < 5; round += 1) {
  const open = [...new Map(sent.filter(unsettled).map((s) => [s.key, s])).values()].filter((s) => !sent.some((t) => t.key === s.key && !unsettled(t)));
  if (open.length === 0) break;
  for (const s of open) await refund(s.key, JSON.parse(s.body) as object, 'replay');
  await new Promise((resolve) => setTimeout(resolve, 2_000));
}

// The money, read from Stripe's side.
const violations: string[] = [];
const byKey = new Map<string, string>();
for (const s of sent.filter((x) => x.status === 201)) {
  const known = byKey.get(s.key);
  if (known !== undefined && known !== s.refundId) violations.push(`key ${s.key} answered two refunds: ${known} and ${s.refundId}`);
  byKey.set(s.key, s.refundId!);
}
const refundIds = new Set<string>();
let refundsAtStripe = 0;
for (const p of payments) {
  const charge = await stripe.charges.retrieve(p.charge);
  if (charge.amount_refunded > charge.amount_captured) violations.push(`${p.charge} over-refunded: ${charge.amount_refunded} > ${charge.amount_captured}`);
  const seen = new Set<string>();
  for await (const r of stripe.refunds.list({ charge: p.charge, limit: 100 })) {
    refundsAtStripe += 1;
    refundIds.add(r.id);
    const requestId = r.metadata?.gateway_request_id ?? '';
    if (seen.has(requestId)) violations.push(`request ${requestId} made two refunds on ${p.charge}`);
    seen.add(requestId);
  }
}
for (const [key, id] of byKey) if (!refundIds.has(id)) violations.push(`201 for ${key} (${id}) is not a refund at Stripe: a lost 201`);
const stillOpen = [...new Set(sent.filter(unsettled).map((s) => s.key))].filter((k) => !sent.some((t) => t.key === k && !unsettled(t)));

gateway.child.kill('SIGTERM');
await once(gateway.child, 'exit');
await emulator.close();
rmSync(dir, { recursive: true, force: true });

const pct = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? 0 : Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! * 10) / 10;
};
console.log(`\nRequests by outcome (${[...outcomes.values()].reduce((a, b) => a + b, 0)} in ${SECONDS} s):`);
for (const [label, count] of [...outcomes].sort()) console.log(`  ${label.padEnd(48)} ${count}`);
console.log('\nLatency ms (p50 / p95 / p99 / max):');
for (const [op, values] of Object.entries(latencies)) console.log(`  ${op.padEnd(8)} ${pct(values, 50)} / ${pct(values, 95)} / ${pct(values, 99)} / ${pct(values, 100)}  (${values.length})`);
const thirds = [0, 1, 2].map((i) => rss.slice(Math.floor((i * rss.length) / 3), Math.floor(((i + 1) * rss.length) / 3)));
console.log(`\nGateway RSS MB by third of the run (mean): ${thirds.map((t) => Math.round(t.reduce((a, b) => a + b.mb, 0) / Math.max(1, t.length))).join(' → ')}`);
console.log(`  every 10 s: ${rss.filter((r) => r.at % 10 === 0).map((r) => Math.round(r.mb)).join(' ')}`);
console.log(`\nAt Stripe: ${refundsAtStripe} refunds on ${PAYMENTS} payments; ${byKey.size} keys answered 201; ${stillOpen.length} requests still unsettled after retries.`);
if (stillOpen.length > 0) violations.push(`${stillOpen.length} requests never settled: ${stillOpen.slice(0, 5).join(', ')}`);
console.log(violations.length === 0 ? 'Invariants: OK (no over-refund, no request refunded twice, no lost 201)' : `Invariants: FAILED\n  ${violations.join('\n  ')}`);
process.exit(violations.length === 0 ? 0 : 1);
