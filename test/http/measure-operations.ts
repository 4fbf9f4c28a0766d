// Measures what previews, limits and approval cost: ledger statements and Stripe calls per request, and time, on each backend.
// Run: TEST_DATABASE_URL=postgres://… npx tsx test/http/measure-operations.ts   (not a test: numbers for the closing note)
// Refunds are by charge, the usual two-Stripe-call path (a PaymentIntent seen for the first time costs one read more).
import pg from 'pg';
import { createLedger } from '../../src/ledger/create-ledger.js';
import { createPayment, type TestGateway } from '../helpers/gateway.js';
import { createPostgresTestDatabase, testDatabaseUrl } from '../helpers/ledger.js';
import { decide, OPS_KEYS, previewAs, refundAs, startOpsGateway } from '../helpers/operations.js';

const ROUNDS = Number(process.env.MEASURE_ROUNDS ?? 100);
const BILLING = 'billing-key-0123456789abcdef';

// Every statement any pool sends goes through Client#query: counted here, by whether it is a payment lock's.
const counted = { query: 0, lock: 0 };
const originalQuery = pg.Client.prototype.query;
pg.Client.prototype.query = function countingQuery(this: pg.Client, ...args: unknown[]) {
  const text = typeof args[0] === 'string' ? args[0] : String((args[0] as { text?: string } | undefined)?.text ?? '');
  if (/advisory_(try_)?lock|advisory_unlock|lock_timeout/.test(text)) counted.lock += 1;
  else counted.query += 1;
  return (originalQuery as (...a: unknown[]) => unknown).apply(this, args);
} as typeof pg.Client.prototype.query;

interface Step {
  name: string;
  /** Made before the clock starts: the payments (and requests) the step needs. */
  prepare: (gw: TestGateway, i: number) => Promise<unknown>;
  run: (gw: TestGateway, prepared: unknown, i: number) => Promise<{ status: number }>;
  expect: number;
}

const STEPS: Step[] = [
  {
    name: 'POST /v1/refunds, caller without limits',
    prepare: async (gw) => createPayment(gw.stripe, { amount: 5_000 }),
    run: (gw, p) => refundAs(gw, BILLING, { charge: (p as { charge: string }).charge, amount: 100 }),
    expect: 201,
  },
  {
    name: 'POST /v1/refunds, caller with max_amount + daily_amount + approval_above (under all)',
    prepare: async (gw) => createPayment(gw.stripe, { amount: 5_000 }),
    run: (gw, p) => refundAs(gw, OPS_KEYS.desk, { charge: (p as { charge: string }).charge, amount: 100 }),
    expect: 201,
  },
  {
    name: 'POST /v1/refunds, over daily_amount (403)',
    prepare: async (gw) => createPayment(gw.stripe, { amount: 9_000 }),
    run: (gw, p) => refundAs(gw, OPS_KEYS.daily, { charge: (p as { charge: string }).charge, amount: 6_000 }),
    expect: 403,
  },
  {
    name: 'POST /v1/refunds, over approval_above (202, a refund request)',
    prepare: async (gw) => createPayment(gw.stripe, { amount: 40_000 }),
    run: (gw, p) => refundAs(gw, OPS_KEYS.desk, { charge: (p as { charge: string }).charge, amount: 30_000 }),
    expect: 202,
  },
  {
    name: 'POST /v1/refund-requests/{id}/approve (refund made)',
    prepare: async (gw) => {
      const p = await createPayment(gw.stripe, { amount: 40_000 });
      return (await refundAs(gw, OPS_KEYS.desk, { charge: p.charge, amount: 30_000 })).body.id as string;
    },
    run: (gw, id) => decide(gw, OPS_KEYS.finance, id as string, 'approve', { note: 'measured' }),
    expect: 200,
  },
  {
    name: 'POST /v1/refund-requests/{id}/reject',
    prepare: async (gw) => {
      const p = await createPayment(gw.stripe, { amount: 40_000 });
      return (await refundAs(gw, OPS_KEYS.desk, { payment_intent: p.intent, amount: 30_000 })).body.id as string;
    },
    run: (gw, id) => decide(gw, OPS_KEYS.finance, id as string, 'reject'),
    expect: 200,
  },
  {
    name: 'POST /v1/refunds/preview, caller with limits (by PaymentIntent)',
    prepare: async (gw) => createPayment(gw.stripe, { amount: 5_000 }),
    run: (gw, p) => previewAs(gw, OPS_KEYS.desk, { payment_intent: (p as { intent: string }).intent, amount: 100 }),
    expect: 200,
  },
];

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;

async function measure(backend: 'sqlite' | 'postgres'): Promise<void> {
  const database = backend === 'postgres' ? await createPostgresTestDatabase(testDatabaseUrl ?? '') : undefined;
  const ledger = database ? await createLedger({ kind: 'postgres', databaseUrl: database.databaseUrl }) : undefined;
  // The pacer's ceiling (20 calls/s with a test key) would time the pacing, not the gateway: lifted here.
  const env = { STRIPE_RATE_LIMIT_PER_SECOND: '10000' };
  const gw = await startOpsGateway(ledger ? { ledger, env } : { env });
  try {
    console.log(`\n${backend}: ${ROUNDS} sequential requests per line (payments made beforehand)`);
    console.log('| request | statements (query + lock) | Stripe calls | mean ms | p95 ms |\n|---|---|---|---|---|');
    for (const step of STEPS) {
      const prepared = [];
      for (let i = 0; i < ROUNDS; i += 1) prepared.push(await step.prepare(gw, i));
      const before = { ...counted, stripe: gw.emulator.control.requests().length };
      const times: number[] = [];
      for (let i = 0; i < ROUNDS; i += 1) {
        const started = performance.now();
        const res = await step.run(gw, prepared[i], i);
        times.push(performance.now() - started);
        if (res.status !== step.expect) throw new Error(`${step.name}: ${res.status}, expected ${step.expect}`);
      }
      const stripe = (gw.emulator.control.requests().length - before.stripe) / ROUNDS;
      const statements = backend === 'postgres' ? `${(counted.query - before.query) / ROUNDS} + ${(counted.lock - before.lock) / ROUNDS}` : 'n/a';
      console.log(`| ${step.name} | ${statements} | ${stripe} | ${mean(times).toFixed(1)} | ${pct(times, 95).toFixed(1)} |`);
    }
  } finally {
    await gw.close();
    await ledger?.close();
    await database?.drop();
  }
}

await measure('sqlite');
if (testDatabaseUrl !== undefined) await measure('postgres');
else console.log('\npostgres: skipped (TEST_DATABASE_URL not set)');
