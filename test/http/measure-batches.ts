// Measures a refund batch against the Stripe pacing limit: time for N items, items and Stripe calls a second, Stripe's
// 429s (the emulator in Stripe's test-mode rate limit), and an interactive refund's latency while the batch runs.
// Not a test: numbers for the closing note and the README.
// Run: node --import tsx test/http/measure-batches.ts [items=1000] [rate=20] [by=charge|payment_intent]
//      (rate ≤ 25 puts the emulator in Stripe's test-mode limit of 25 calls a second; above, it is unlimited)
//      (DATABASE_URL=postgres://… measures on PostgreSQL instead of the in-memory SQLite ledger)
import { setTimeout as sleep } from 'node:timers/promises';
import { startEmulator } from '../../src/emulator/server.js';
import { createLedger } from '../../src/ledger/create-ledger.js';
import { agentCall } from '../helpers/batches.js';
import { createPayment, KEYS, startTestGateway } from '../helpers/gateway.js';
import { createPostgresTestDatabase } from '../helpers/ledger.js';

const ITEMS = Number(process.argv[2] ?? 1000);
const RATE = process.argv[3] ?? '20';
const BY = (process.argv[4] ?? 'charge') as 'charge' | 'payment_intent';

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

const emulator = await startEmulator({ port: 0 });
const database = process.env.DATABASE_URL ? await createPostgresTestDatabase(process.env.DATABASE_URL) : undefined;
const ledger = database ? await createLedger({ kind: 'postgres', databaseUrl: database.databaseUrl }) : await createLedger({ kind: 'sqlite', path: undefined });
const gw = await startTestGateway({ emulator, ledger, env: { STRIPE_RATE_LIMIT_PER_SECOND: RATE, BODY_LIMIT_BYTES: String(8 * 1024 * 1024) } });
const call = agentCall(gw.http, KEYS.billing);

const payments = [];
for (let i = 0; i < ITEMS + 40; i += 1) payments.push(await createPayment(gw.stripe, { amount: 2_000 }));
const [own, batchPayments] = [payments.slice(0, 40), payments.slice(40)];
// Stripe's test-mode limits, once the shop's own calls have left the emulator's one-second window; above them (a rate
// for a live key), the emulator is left unlimited and the numbers show what the gateway itself can do.
const stripeLimited = Number(RATE) <= 25;
await sleep(1_100);
if (stripeLimited) emulator.control.updateSettings({ rate_limit: { per_second: 25, per_endpoint_per_second: 25 } });
emulator.control.clearRequests();

const items = batchPayments.map((p, i) => ({ key: `m-${i}`, ...(BY === 'charge' ? { charge: p.charge } : { payment_intent: p.intent }), amount: 1_000 }));
const started = performance.now();
const sent = await call('POST', '/v1/refund-batches', { idempotencyKey: 'measure', body: { items } });
if (sent.status !== 202) throw new Error(`batch refused: ${JSON.stringify(sent.body)}`);
const acceptedMs = performance.now() - started;

// An interactive refund every half second while the batch runs: how long a caller waits behind it.
const interactive: number[] = [];
let ended = false;
const caller = (async () => {
  for (const p of own) {
    if (ended) return;
    const t = performance.now();
    const answer = await call('POST', '/v1/refunds', { idempotencyKey: `own-${p.charge}`, body: { charge: p.charge, amount: 500 } });
    if (answer.status !== 201) throw new Error(`interactive refund: ${answer.status} ${JSON.stringify(answer.body)}`);
    interactive.push(performance.now() - t);
    await sleep(500);
  }
})();

let batch = sent.body as { status: string; counts: Record<string, number> };
while (batch.status !== 'completed') {
  await sleep(100);
  batch = (await call('GET', `/v1/refund-batches/${sent.body.id}`)).body;
}
const seconds = (performance.now() - started) / 1000;
ended = true;
await caller;

const stripeCalls = emulator.control.requests().length;
const limited = emulator.control.rateLimitStats().rate_limited;
console.log(
  JSON.stringify(
    {
      ledger: database ? 'postgres' : 'sqlite',
      items: ITEMS,
      by: BY,
      rate_limit_per_second: Number(RATE),
      emulator_rate_limited: stripeLimited,
      accepted_ms: Math.round(acceptedMs),
      seconds: Number(seconds.toFixed(1)),
      items_per_second: Number((ITEMS / seconds).toFixed(2)),
      stripe_calls: stripeCalls,
      stripe_calls_per_second: Number((stripeCalls / seconds).toFixed(2)),
      stripe_429s: limited,
      counts: batch.counts,
      interactive_refunds: interactive.length,
      interactive_ms: { p50: Math.round(pct(interactive, 50)), p90: Math.round(pct(interactive, 90)), max: Math.round(Math.max(...interactive)) },
    },
    null,
    2,
  ),
);
await gw.close();
await ledger.close();
await emulator.close();
await database?.drop();
