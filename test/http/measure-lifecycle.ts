// Measures, in one process, how long a refund's status change at Stripe takes to reach the refund index (by webhook, and by
// reconciliation alone) and then a listening caller (outbound events). Not a test: numbers for the closing note and README.
// Run: node --import tsx test/http/measure-lifecycle.ts [changes=100] [reconcile_interval_ms=2000]
//      (DATABASE_URL=postgres://… measures on PostgreSQL instead of the in-memory SQLite ledger)
import { setTimeout as sleep } from 'node:timers/promises';
import type { EventRecord } from '../../src/emulator/events.js';
import { startEmulator } from '../../src/emulator/server.js';
import { createLedger } from '../../src/ledger/create-ledger.js';
import type { Ledger } from '../../src/refunds/ledger.js';
import type { Refund } from '../../src/refunds/types.js';
import { API_KEYS, createPayment } from '../helpers/gateway.js';
import { createPostgresTestDatabase } from '../helpers/ledger.js';
import { startReceiver } from '../helpers/receiver.js';
import { startListeningGateway } from '../helpers/webhook-gateway.js';

const CHANGES = Number(process.argv[2] ?? 100);
const RECONCILE_MS = Number(process.argv[3] ?? 2000);

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const summary = (xs: number[]): string =>
  `n=${xs.length} mean=${(xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(1)} p50=${pct(xs, 50).toFixed(1)} p90=${pct(xs, 90).toFixed(1)} p99=${pct(xs, 99).toFixed(1)} max=${Math.max(...xs).toFixed(1)} ms`;

/** When each refund's `failed` reached the index (the write resolved), by refund id. */
function watchedLedger(ledger: Ledger, indexedAt: Map<string, number>): Ledger {
  const note = (refunds: readonly Refund[]) => {
    const at = performance.now();
    for (const r of refunds) if (r.status === 'failed' && !indexedAt.has(r.id)) indexedAt.set(r.id, at);
  };
  return new Proxy(ledger, {
    get(target, name, receiver) {
      if (name === 'applyStripeEvent') {
        return async (event: Parameters<Ledger['applyStripeEvent']>[0]) => {
          const stored = await target.applyStripeEvent(event);
          if (stored) note(event.refunds);
          return stored;
        };
      }
      if (name === 'recordRefund') {
        return async (refund: Refund, now: Date) => {
          await target.recordRefund(refund, now);
          note([refund]);
        };
      }
      return Reflect.get(target, name, receiver) as unknown;
    },
  });
}

async function run(mode: 'webhook' | 'reconcile'): Promise<void> {
  const emulator = await startEmulator({ port: 0 });
  // A fresh database per run on PostgreSQL, as the SQLite one is fresh in memory.
  const database = process.env.DATABASE_URL ? await createPostgresTestDatabase(process.env.DATABASE_URL) : undefined;
  const base = database
    ? await createLedger({ kind: 'postgres', databaseUrl: database.databaseUrl })
    : await createLedger({ kind: 'sqlite', path: undefined });
  const indexedAt = new Map<string, number>();
  const failedAt = new Map<string, number>();
  // The moment Stripe (the emulator) failed each refund: its refund.failed event being made.
  emulator.control.state().events.subscribe((event: EventRecord) => {
    if (event.type === 'refund.failed') failedAt.set((JSON.parse(event.objectJson) as { id: string }).id, performance.now());
  });
  const receiver = await startReceiver();
  const toldAt = new Map<string, number>();
  const apiKeys = [...API_KEYS, { id: 'auditor', key: 'auditor-key-0123456789abcdef', scopes: ['refunds:read'], events: { url: receiver.url, secret: receiver.secret, all: true } }];
  const gw = await startListeningGateway({
    emulator,
    ledger: watchedLedger(base, indexedAt),
    ...(mode === 'reconcile' ? { endpointSecret: false } : {}),
    env: { API_KEYS: JSON.stringify(apiKeys), RECONCILE_INTERVAL_MS: mode === 'reconcile' ? String(RECONCILE_MS) : '0' },
  });
  if (mode === 'reconcile') emulator.control.updateSettings({ webhooks: false });
  // A caller is sent what happens after the sender first looks for it: let it look before anything happens.
  await sleep(1_000);

  // Arrivals are noted as they come (every 5 ms), not after the changes are all made.
  const scan = setInterval(() => {
    // refund.updated from succeeded, or refund.created already failed when the gateway first heard of it (its
    // charge.refunded read the refund after Stripe had failed it).
    for (const e of receiver.received) if (e.data.object.status === 'failed' && !toldAt.has(e.data.object.id)) toldAt.set(e.data.object.id, performance.now());
  }, 5);
  const made: string[] = [];
  for (let i = 0; i < CHANGES; i += 1) {
    const p = await createPayment(gw.stripe, { amount: 3_000, paymentMethod: 'pm_card_refundFail' });
    // A Dashboard refund: it says succeeded, and Stripe fails it at its next tick (≤ 100 ms).
    made.push((await gw.stripe.refunds.create({ payment_intent: p.intent, amount: 1_000 })).id);
    // Spread over time, so reconciliation's wait is sampled across its interval.
    await sleep(mode === 'reconcile' ? Math.random() * (RECONCILE_MS / 10) : 20);
  }
  const deadline = performance.now() + 3 * RECONCILE_MS + 30_000;
  while (performance.now() < deadline && made.some((id) => !indexedAt.has(id))) await sleep(10);
  // Outbound: the caller listening to every refund is told of each failure.
  while (performance.now() < deadline && made.some((id) => !toldAt.has(id))) await sleep(10);
  clearInterval(scan);

  const toIndex = made.flatMap((id) => (failedAt.has(id) && indexedAt.has(id) ? [(indexedAt.get(id) ?? 0) - (failedAt.get(id) ?? 0)] : []));
  console.log(`\n${mode === 'webhook' ? 'webhooks (reconciliation off)' : `reconciliation only (webhooks off, RECONCILE_INTERVAL_MS=${RECONCILE_MS})`}, ${process.env.DATABASE_URL ? 'PostgreSQL' : 'SQLite in memory'}`);
  console.log(`  Stripe fails a refund -> index says failed:  ${summary(toIndex)}  (missing: ${made.length - toIndex.length})`);
  const metrics = (await gw.http.get('/metrics')).text;
  const sum = Number(/gateway_event_delivery_latency_seconds_sum\{caller="auditor"\} (\S+)/.exec(metrics)?.[1]);
  const count = Number(/gateway_event_delivery_latency_seconds_count\{caller="auditor"\} (\S+)/.exec(metrics)?.[1]);
  if (mode === 'webhook') {
    const outbound = made.flatMap((id) => (indexedAt.has(id) && toldAt.has(id) ? [(toldAt.get(id) ?? 0) - (indexedAt.get(id) ?? 0)] : []));
    console.log(`  index says failed -> caller's receiver told: ${summary(outbound)}  (the receiver's own poll adds up to 5 ms)`);
    console.log(`  gateway_event_delivery_latency_seconds{caller="auditor"}: ${count} deliveries, mean ${((sum / count) * 1000).toFixed(1)} ms`);
    const buckets = metrics.split('\n').filter((l) => l.startsWith('gateway_event_delivery_latency_seconds_bucket') && l.includes('caller="auditor"'));
    console.log(`  ${buckets.slice(0, 6).join('\n  ')}`);
  } else {
    const runs = /gateway_reconcile_runs_total\{outcome="done"\} (\d+)/.exec(metrics)?.[1];
    console.log(`  runs done: ${runs}, events applied: ${/gateway_reconcile_events_applied_total (\d+)/.exec(metrics)?.[1]}`);
  }
  await gw.close();
  await receiver.close();
  await base.close();
  await database?.drop();
  await emulator.close();
}

await run('webhook');
await run('reconcile');
