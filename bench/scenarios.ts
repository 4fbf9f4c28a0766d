// The six scenarios (a–f): what each request sends, and what must be true once a scenario has run.
import type Stripe from 'stripe';
import { checkRefundCaps, newestRefundId, type CapCheck, type Payment } from './fixtures.js';
import type { Load, Recorded } from './load.js';

export interface Check {
  ok: boolean;
  summary: string;
  detail?: CapCheck | Record<string, unknown>;
}

export interface Scenario {
  id: string;
  title: string;
  /** The route as the gateway's metrics label it, to read its own request count and Stripe calls. */
  metricsRoute: { method: 'GET' | 'POST'; route: string };
  /** A fresh request stream; the warm-up and the measured run share it, so keys never repeat between them. */
  load: Load;
  /** Runs before the warm-up (outside all measurements). */
  before?: () => Promise<void>;
  /** Called between the warm-up and the measured run, to forget what the warm-up's answers counted. */
  startMeasuring?: () => void;
  check: (recorded: Recorded) => Promise<Check>;
}

export interface ScenarioData {
  stripe: Stripe;
  /** Unique per run, so idempotency keys never collide with a previous run on a persistent database. */
  runId: string;
  /** Many payments for the spread refunds (a), the payment reads (d) and the refusals (f). */
  spread: readonly Payment[];
  /** The one payment of the contention scenario (b); large enough for one-cent refunds all run long. */
  single: Payment;
  /** The payment, key and body replayed in (c); refunded once before the scenario. */
  replay: { payment: Payment; key: string; body: { payment_intent: string; amount: number } };
  /** How many pending refunds (e) finds in the index, and the page size it asks for. */
  pending: { count: number; limit: number };
}

const REFUND_ROUTE = { method: 'POST', route: '/v1/refunds' } as const;

const only = (recorded: Recorded, status: string): boolean =>
  Object.keys(recorded.statuses).every((s) => s === status) && recorded.errors === 0;

/** Collects the refund ids of 201 answers (refund id → charge) for the cap check. */
function refundCollector(seen: Map<string, string>) {
  return (status: number, body: string) => {
    if (status !== 201) return;
    const refund = JSON.parse(body) as { id: string; charge: string };
    seen.set(refund.id, refund.charge);
  };
}

function capCheck(stripe: Stripe, charges: readonly string[], seen: Map<string, string>, recorded: Recorded, what: string) {
  return async (): Promise<Check> => {
    const caps = await checkRefundCaps(stripe, charges, seen);
    // In the spread scenario a payment that ran out would make refusals look like throughput: it must not happen.
    const ranOut = (recorded.errorCodes['409 amount_exceeds_refundable'] ?? 0) + (recorded.errorCodes['409 charge_already_refunded'] ?? 0);
    const ok = caps.ok && ranOut === 0;
    const summary = ok
      ? `OK: ${caps.refundsAtStripe} refunds on ${caps.charges} ${what}, none over its charge; min left ${caps.minRefundableLeft}`
      : `FAIL: ${[...caps.problems, ...(ranOut > 0 ? [`${ranOut} refusals for lack of funds`] : [])].join('; ')}`;
    return { ok, summary, detail: caps };
  };
}

export function buildScenarios(data: ScenarioData): Scenario[] {
  const { stripe, runId, spread, single, replay } = data;
  const pick = (i: number): Payment => spread[i % spread.length] as Payment;

  let a = 0;
  const seenA = new Map<string, string>();
  let b = 0;
  const seenB = new Map<string, string>();
  let d = 0;
  let f = 0;
  let newestBeforeF: string | null = null;
  let pendingAnswersOk = 0;
  const pageSize = Math.min(data.pending.limit, data.pending.count);

  return [
    {
      id: 'a',
      title: 'POST /v1/refunds, spread',
      metricsRoute: REFUND_ROUTE,
      // Round robin over the payments, amounts 1–50 cents, a new key each time: the everyday refund.
      load: {
        next: () => {
          const i = a++;
          return { method: 'POST', path: '/v1/refunds', idempotencyKey: `bench-${runId}-a-${i}`, body: { payment_intent: pick(i).intent, amount: 1 + (i % 50) } };
        },
        onAnswer: refundCollector(seenA),
      },
      check: (recorded) => capCheck(stripe, spread.map((p) => p.charge), seenA, recorded, 'payments')(),
    },
    {
      id: 'b',
      title: 'POST /v1/refunds, one payment',
      metricsRoute: REFUND_ROUTE,
      // Every connection refunds the same payment: the per-charge lock serialises them all.
      load: {
        next: () => {
          const i = b++;
          return { method: 'POST', path: '/v1/refunds', idempotencyKey: `bench-${runId}-b-${i}`, body: { payment_intent: single.intent, amount: 1 } };
        },
        onAnswer: refundCollector(seenB),
      },
      check: async (recorded) => {
        const caps = await capCheck(stripe, [single.charge], seenB, recorded, 'payment')();
        // payment_busy is an allowed answer here (the lock wait ran out), not a failure: it is counted, not checked.
        return { ...caps, summary: `${caps.summary}; payment_busy ${recorded.errorCodes['409 payment_busy'] ?? 0}` };
      },
    },
    {
      id: 'c',
      title: 'POST /v1/refunds, replay',
      metricsRoute: REFUND_ROUTE,
      // The same key and body again and again: answered from the ledger, Stripe is never asked.
      load: { next: () => ({ method: 'POST', path: '/v1/refunds', idempotencyKey: replay.key, body: replay.body }) },
      check: async (recorded) => {
        const refunds = await stripe.refunds.list({ charge: replay.payment.charge, limit: 100 });
        const ok = only(recorded, '201') && recorded.replayed === recorded.requests && refunds.data.length === 1;
        return {
          ok,
          summary: `${ok ? 'OK' : 'FAIL'}: ${recorded.replayed}/${recorded.requests} answers replayed, ${refunds.data.length} refund at Stripe`,
        };
      },
    },
    {
      id: 'd',
      title: 'GET /v1/payments/{id}',
      metricsRoute: { method: 'GET', route: '/v1/payments/:id' },
      // The payments of (a), each with its refunds by now.
      load: { next: () => ({ method: 'GET', path: `/v1/payments/${pick(d++).intent}` }) },
      check: async (recorded) => {
        const ok = only(recorded, '200');
        return { ok, summary: `${ok ? 'OK' : 'FAIL'}: ${JSON.stringify(recorded.statuses)}` };
      },
    },
    {
      id: 'e',
      title: 'GET /v1/refunds?status=pending',
      metricsRoute: { method: 'GET', route: '/v1/refunds' },
      // The pending view: one indexed query, then (by design) each non-final refund re-read from Stripe.
      load: {
        next: () => ({ method: 'GET', path: `/v1/refunds?status=pending${data.pending.limit === 10 ? '' : `&limit=${data.pending.limit}`}` }),
        onAnswer: (status, body) => {
          if (status !== 200) return;
          const page = JSON.parse(body) as { data: { status: string }[] };
          if (page.data.length === pageSize && page.data.every((r) => r.status === 'pending')) pendingAnswersOk += 1;
        },
      },
      startMeasuring: () => {
        pendingAnswersOk = 0;
      },
      check: async (recorded) => {
        const ok = only(recorded, '200') && pendingAnswersOk === recorded.requests;
        return { ok, summary: `${ok ? 'OK' : 'FAIL'}: ${pendingAnswersOk}/${recorded.requests} pages of ${pageSize} pending refunds` };
      },
    },
    {
      id: 'f',
      title: 'POST /v1/refunds, refused (409)',
      metricsRoute: REFUND_ROUTE,
      // More than any payment holds, a new key each time: the rules refuse it before Stripe is asked to refund.
      load: {
        next: () => {
          const i = f++;
          return { method: 'POST', path: '/v1/refunds', idempotencyKey: `bench-${runId}-f-${i}`, body: { payment_intent: pick(i).intent, amount: 99_999_999 } };
        },
      },
      before: async () => {
        newestBeforeF = await newestRefundId(stripe);
      },
      check: async (recorded) => {
        // Read from the emulator, not from the gateway's metrics: the account's newest refund must not have changed.
        const newestAfter = await newestRefundId(stripe);
        const refused = recorded.errorCodes['409 amount_exceeds_refundable'] ?? 0;
        const ok = only(recorded, '409') && refused === recorded.requests && newestAfter === newestBeforeF;
        return {
          ok,
          summary: `${ok ? 'OK' : 'FAIL'}: ${refused}/${recorded.requests} amount_exceeds_refundable; ${newestAfter === newestBeforeF ? 'no refund created at Stripe' : 'a refund WAS created at Stripe'}`,
        };
      },
    },
  ];
}
