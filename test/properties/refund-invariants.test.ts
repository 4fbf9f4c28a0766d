// Properties of the money, over random interleavings of refunds, replays, reused keys, concurrency and Stripe faults,
// against the real app and the emulator. PROPERTY_RUNS and PROPERTY_SEED run it longer or replay a failure.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FaultSpec } from '../../src/emulator/faults.js';
import { requestIdOf } from '../../src/refunds/idempotency.js';
import { auth, createPayment, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 8);
const SEED = process.env.PROPERTY_SEED === undefined ? undefined : Number(process.env.PROPERTY_SEED);
const PAYMENTS = 3;
const CAPTURED = 5_000;

type Fault = 'error' | 'rate_limit' | 'timeout' | 'drop_after_work' | 'slow';
/** One caller request: the key is its index in the run's pool, so sending it again is a retry or a replay. */
interface Request {
  by: 'charge' | 'payment_intent';
  payment: number;
  amount: number | undefined;
}
type Command =
  | { kind: 'send'; request: number }
  /** The same key with another body (a caller bug): must be refused, never a refund. */
  | { kind: 'reuse'; request: number; amount: number }
  | { kind: 'fault'; fault: Fault; on: 'create' | 'read' };

const request = fc.record({
  by: fc.constantFrom('charge' as const, 'payment_intent' as const),
  payment: fc.integer({ min: 0, max: PAYMENTS - 1 }),
  // Mostly small parts, so payments rarely run out; now and then "everything that is left".
  amount: fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 1, max: 600 }) }, { weight: 1, arbitrary: fc.constant(undefined) }),
});
const command = (requests: number) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('send' as const), request: fc.integer({ min: 0, max: requests - 1 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('reuse' as const), request: fc.integer({ min: 0, max: requests - 1 }), amount: fc.integer({ min: 601, max: 700 }) }) },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('fault' as const),
        fault: fc.constantFrom<Fault>('error', 'rate_limit', 'timeout', 'drop_after_work', 'slow'),
        on: fc.constantFrom('create' as const, 'create' as const, 'read' as const),
      }),
    },
  );
/** A pool of requests, then batches that run one after another; the commands of a batch run at the same time. */
const scenario = fc.array(request, { minLength: 2, maxLength: 6 }).chain((requests) =>
  fc.record({
    requests: fc.constant(requests),
    batches: fc.array(fc.array(command(requests.length), { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 6 }),
  }),
);

/** STRIPE_TIMEOUT_MS is 300 and one network retry is allowed: a 700 ms delay times out, a 100 ms one does not. */
const faultSpec = (command: Extract<Command, { kind: 'fault' }>): FaultSpec => {
  const target = command.on === 'create' ? { method: 'POST', path: '/v1/refunds' } : { method: 'GET', path: '/v1/charges/*' };
  switch (command.fault) {
    case 'error':
      return { ...target, kind: 'error', status: 500, times: 1 };
    case 'rate_limit':
      return { ...target, kind: 'rate_limit', times: 1 };
    case 'timeout':
      return { ...target, kind: 'delay', delay_ms: 700, times: 2 };
    case 'drop_after_work':
      return { ...target, kind: 'drop_after_work', times: 1 };
    case 'slow':
      return { ...target, kind: 'delay', delay_ms: 100, times: 1 };
  }
};

interface Answer {
  key: string;
  body: string;
  status: number;
  refundId?: string;
  code?: string;
}

let gw: TestGateway;
let run = 0;

beforeAll(async () => {
  gw = await startTestGateway({ env: { STRIPE_TIMEOUT_MS: '300', STRIPE_MAX_NETWORK_RETRIES: '1', LOCK_WAIT_MS: '3000' } });
});
afterAll(async () => {
  await gw?.close();
});

async function play({ requests, batches }: { requests: Request[]; batches: Command[][] }): Promise<void> {
  run += 1;
  gw.emulator.control.clearFaults();
  const payments = await Promise.all(Array.from({ length: PAYMENTS }, () => createPayment(gw.stripe, { amount: CAPTURED })));
  const answers: Answer[] = [];
  const send = async (key: string, body: object): Promise<Answer> => {
    const res = await gw.http.post('/v1/refunds').set(auth()).set('idempotency-key', key).send(body);
    const answer = { key, body: JSON.stringify(body), status: res.status, refundId: res.status === 201 ? (res.body as { id: string }).id : undefined, code: (res.body as { code?: string }).code };
    answers.push(answer);
    return answer;
  };
  const bodyOf = (r: Request, amount = r.amount) => {
    const p = payments[r.payment]!;
    return { ...(r.by === 'charge' ? { charge: p.charge } : { payment_intent: p.intent }), ...(amount === undefined ? {} : { amount }) };
  };

  for (const batch of batches) {
    for (const c of batch) if (c.kind === 'fault') gw.emulator.control.injectFault(faultSpec(c));
    await Promise.all(
      batch.flatMap((c) =>
        c.kind === 'fault' ? [] : [send(`run${run}-k${c.request}`, bodyOf(requests[c.request]!, c.kind === 'reuse' ? c.amount : undefined))],
      ),
    );
  }
  // Faults still pending would hit the retries below: the retries ask what really happened.
  gw.emulator.control.clearFaults();
  await new Promise((resolve) => setTimeout(resolve, 800)); // delayed answers the gateway gave up on land at the emulator
  const unknown = [...new Map(answers.filter((a) => a.status >= 500 || a.code === 'idempotency_request_in_progress').map((a) => [`${a.key} ${a.body}`, a])).values()];
  for (const a of unknown) await send(a.key, JSON.parse(a.body) as object);

  // Nothing is ever a bug.
  expect(answers.filter((a) => a.status === 500)).toEqual([]);
  expect(answers.filter((a) => ![201, 404, 409, 422, 502, 503, 504].includes(a.status))).toEqual([]);

  // Every 201 for one key and body is the same refund (replays answer the original).
  const refundOf = new Map<string, string>();
  for (const a of answers.filter((x) => x.status === 201)) {
    const id = `${a.key} ${a.body}`;
    expect(refundOf.get(id) ?? a.refundId).toBe(a.refundId);
    refundOf.set(id, a.refundId!);
  }

  for (const p of payments) {
    const charge = await gw.stripe.charges.retrieve(p.charge!, { expand: ['refunds'] });
    const all = (await gw.stripe.refunds.list({ charge: p.charge!, limit: 100 })).data;
    // Never more than was captured, and Stripe's own total agrees with the refunds.
    expect(charge.amount_refunded).toBeLessThanOrEqual(charge.amount_captured);
    expect(all.filter((r) => r.status !== 'failed').reduce((sum, r) => sum + r.amount, 0)).toBe(charge.amount_refunded);
    // Never two refunds for one request: each carries its request's derived id, and no id is there twice.
    const ids = all.map((r) => r.metadata?.gateway_request_id);
    expect(new Set(ids).size).toBe(ids.length);
  }
  // Every 201 is a refund Stripe has, made for that very key.
  for (const [id, refundId] of refundOf) {
    const refund = await gw.stripe.refunds.retrieve(refundId);
    const key = id.slice(0, id.indexOf(' '));
    expect(refund.metadata?.gateway_request_id).toBe(requestIdOf({ callerId: 'billing', route: 'POST /v1/refunds', key }));
  }
}

describe('refund invariants under random interleavings, replays and Stripe faults', () => {
  it('when refunds, replays, reused keys, concurrent callers and faults interleave, then no charge is over-refunded, no request refunds twice, every 201 is a refund and every retry after a 5xx finds at most one', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (generated) => play(generated as { requests: Request[]; batches: Command[][] })),
      { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }), verbose: 1 },
    );
  }, 600_000);
});
