// Exact per-request costs, one request at a time: Stripe calls (the emulator's request log) and ledger statements (wire).
import { setTimeout as sleep } from 'node:timers/promises';
import { API_KEY } from './gateway.js';
import { probe, type Load, type RequestShape } from './load.js';
import { createPayments, takeStripeRequests, type Payment } from './stripe-data.js';
import type { WireCounter, WireCounts } from './wire-counter.js';

/**
 * Statements the gateway's own timers run on the same pool, whatever requests come: the event outbox's fan-out and
 * delivery claims and the batch worker's claims (`WITH due AS`, `WITH seen AS`), and the reconciliation job's lease
 * (`jobs`). They fall into a probe window now and then (~0.2 per request here) and are no request's cost. Every other
 * statement, named or not, counts against the request.
 */
const TIMER_STATEMENT = /^(WITH due AS \(|WITH seen AS \(|UPDATE jobs |INSERT INTO jobs |SELECT holder, lease_until)/;

export interface ProbeGroup {
  kind: string;
  requests: number;
  statuses: Record<string, number>;
  stripeCallsPerRequest: number;
  /** `GET /v1/charges/:id` etc., per request. */
  stripeCalls: Record<string, number>;
  /** PostgreSQL only (through the wire counter). */
  ledger?: {
    statementsPerRequest: number;
    /** Of them, what the gateway's timers ran meanwhile (see TIMER_STATEMENT), not the request. */
    timerStatementsPerRequest: number;
    roundTripsPerRequest: number;
    byLabel: Record<string, number>;
    /**
     * Per statement kind: how much later the answer came when PostgreSQL's reply to that kind was held back by
     * DELAY_MS (median against the undelayed run). About DELAY_MS: the answer waits for it; about 0: it does not.
     */
    delayedReply?: Record<string, { extraMs: number; answerWaits: boolean }>;
    /** Round trips per request the answer waits for, from the causal test above. */
    roundTripsAnswerWaitsFor?: number;
    connectionsOpened: number;
  };
}

/** After the last answer, the payment lock's release is still on its way (off the answer path): wait for it. */
const TAIL_MS = 300;
/** Between two probe requests: the previous one's release lands in this gap, not inside the next one's wait. */
const PAUSE_MS = 50;
/** How late PostgreSQL's reply to one kind of statement is made to arrive in the causal test. */
const DELAY_MS = 40;

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

const template = (path: string): string => path.replace(/\/(pi|ch|re)_[A-Za-z0-9]+/g, '/$1_…');

function collect(): { load: (next: () => RequestShape) => Load; statuses: Record<string, number>; answered: Set<string> } {
  const statuses: Record<string, number> = {};
  const answered = new Set<string>();
  return {
    statuses,
    answered,
    load: (next) => ({
      next,
      onAnswer: (status, body, headers) => {
        const key = `${status}${headers['idempotent-replayed'] === 'true' ? ' replayed' : ''}`;
        statuses[key] = (statuses[key] ?? 0) + 1;
        if (status === 201) answered.add((JSON.parse(body) as { id: string }).id);
      },
    }),
  };
}

/**
 * Sends `count` requests of each kind to a gateway that is otherwise idle and reads, per kind, what reached Stripe and
 * (when `counter` relays its database) what reached PostgreSQL. Makes its own payments; returns the refunds answered.
 */
export async function probeGateway(options: {
  gatewayUrl: string;
  emulatorUrl: string;
  counter?: WireCounter;
  count: number;
  runId: string;
}): Promise<{ groups: ProbeGroup[]; answered: Set<string>; askedOnce: Set<string> }> {
  const { count, runId } = options;
  const target = { url: options.gatewayUrl, apiKey: API_KEY };
  const [byCharge, byIntent, warm] = [
    await createPayments(options.emulatorUrl, count, 20_000),
    await createPayments(options.emulatorUrl, count, 20_000),
    await createPayments(options.emulatorUrl, 2, 20_000),
  ] as [Payment[], Payment[], Payment[]];
  const answered = new Set<string>();
  const refund = (tag: string, body: (p: Payment) => object, payments: Payment[]): (() => RequestShape) => {
    let i = 0;
    return () => {
      const p = payments[i % payments.length] as Payment;
      return { method: 'POST' as const, path: '/v1/refunds', idempotencyKey: `probe-${runId}-${tag}-${i++}`, body: body(p) };
    };
  };
  const read = (id: (p: Payment) => string, payments: Payment[]): (() => RequestShape) => {
    let i = 0;
    return () => ({ method: 'GET' as const, path: `/v1/payments/${id(payments[i++ % payments.length] as Payment)}` });
  };
  // Pools, connections and code paths warmed on payments of their own, so the counts are the steady state.
  const warmUp = collect();
  await probe(target, warmUp.load(refund('warm-charge', (p) => ({ charge: p.charge, amount: 100 }), warm)), 2);
  await probe(target, warmUp.load(refund('warm-intent', (p) => ({ payment_intent: p.intent, amount: 100 }), warm)), 2);
  await probe(target, warmUp.load(read((p) => p.intent, warm)), 2);
  await sleep(TAIL_MS);

  const kinds: [string, () => RequestShape][] = [
    ['refund by charge', refund('charge', (p) => ({ charge: p.charge }), byCharge)],
    ['refund by PaymentIntent, first time the gateway sees it', refund('intent', (p) => ({ payment_intent: p.intent, amount: 100 }), byIntent)],
    ['refund by PaymentIntent, seen before', refund('intent-again', (p) => ({ payment_intent: p.intent, amount: 100 }), byIntent)],
    // The same keys and bodies as the first kind: every one answered from the ledger.
    ['replay (same key, same body)', refund('charge', (p) => ({ charge: p.charge }), byCharge)],
    ['GET /v1/payments/pi_…', read((p) => p.intent, byIntent)],
    ['GET /v1/payments/ch_…', read((p) => p.charge, byCharge)],
  ];
  const groups: ProbeGroup[] = [];
  const latencies = new Map<string, number[]>();
  await takeStripeRequests(options.emulatorUrl);
  options.counter?.take();
  for (const [kind, next] of kinds) {
    const seen = collect();
    const timings = await probe(target, seen.load(next), count, PAUSE_MS);
    await sleep(TAIL_MS);
    for (const id of seen.answered) answered.add(id);
    const calls = await takeStripeRequests(options.emulatorUrl);
    const wire: WireCounts | undefined = options.counter?.take();
    const stripeCalls: Record<string, number> = {};
    for (const call of calls) {
      const key = `${call.method} ${template(call.path)}`;
      stripeCalls[key] = (stripeCalls[key] ?? 0) + 1 / count;
    }
    latencies.set(kind, timings.map((t) => t.answered - t.sent));
    groups.push({
      kind,
      requests: count,
      statuses: seen.statuses,
      stripeCallsPerRequest: calls.length / count,
      stripeCalls,
      ...(wire
        ? {
            ledger: {
              statementsPerRequest: wire.statements / count,
              timerStatementsPerRequest: Object.entries(wire.byLabel).reduce((n, [label, k]) => n + (TIMER_STATEMENT.test(label) ? k : 0), 0) / count,
              roundTripsPerRequest: wire.roundTrips / count,
              byLabel: Object.fromEntries(Object.entries(wire.byLabel).map(([label, n]) => [label, n / count])),
              connectionsOpened: wire.connectionsOpened,
            },
          }
        : {}),
    });
  }
  const askedOnce = new Set(byCharge.map((p) => p.charge));
  // The causal test, on refunds by charge: hold back PostgreSQL's reply to one kind of statement at a time.
  const first = groups[0];
  if (options.counter && first?.ledger) {
    const baseline = median(latencies.get(first.kind) ?? []);
    const delayedReply: Record<string, { extraMs: number; answerWaits: boolean }> = {};
    let waits = 0;
    for (const [label, perRequest] of Object.entries(first.ledger.byLabel)) {
      const payments = await createPayments(options.emulatorUrl, count, 20_000);
      for (const p of payments) askedOnce.add(p.charge);
      const seen = collect();
      options.counter.delay(label, DELAY_MS);
      const timings = await probe(target, seen.load(refund(`delay-${label.replace(/\W+/g, '-')}`, (p) => ({ charge: p.charge }), payments)), count, PAUSE_MS + DELAY_MS);
      options.counter.delay(undefined);
      await sleep(TAIL_MS + DELAY_MS);
      for (const id of seen.answered) answered.add(id);
      const extraMs = Math.round((median(timings.map((t) => t.answered - t.sent)) - baseline) * 10) / 10;
      const answerWaits = extraMs >= DELAY_MS / 2;
      delayedReply[label] = { extraMs, answerWaits };
      if (answerWaits) waits += perRequest;
    }
    options.counter.take();
    await takeStripeRequests(options.emulatorUrl);
    first.ledger.delayedReply = delayedReply;
    first.ledger.roundTripsAnswerWaitsFor = waits;
  }
  // Charges refunded by charge got exactly one refund request each (their replays must not add one).
  return { groups, answered, askedOnce };
}
