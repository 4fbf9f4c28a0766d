// Thousands of malformed requests against the real app on the emulator: never a 5xx, never a Stripe call, never a ledger call, always the contract's problem.
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ledger } from '../../src/refunds/ledger.js';
import { API_KEYS, KEYS, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { newTestLedger } from '../helpers/ledger.js';
import { malformedRequest, ROUTE_NAMES, type MalformedCase, type RouteName } from '../helpers/malformed-requests.js';

/** Fixed, so a failure comes back on the next run; FUZZ_SEED explores elsewhere, FUZZ_RUNS goes longer. */
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_127);
const RUNS = Number(process.env.FUZZ_RUNS ?? 5_000);
const RUNS_PER_ROUTE = Math.max(1, Math.ceil(RUNS / ROUTE_NAMES.length));
const BODY_LIMIT = 8192;

const CALLER_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** Nothing internal in an answer: stack frames, source paths, SQL, Stripe or API keys. */
const INTERNALS = new RegExp(
  [/sk_test_|sk_live_/, /\bat [\w.<>]+ \(/, /\.ts:\d+|node_modules/, /\b(SELECT|INSERT|UPDATE)\b|idempotency_records/, ...Object.values(KEYS).map((k) => new RegExp(k))]
    .map((r) => r.source)
    .join('|'),
);

/** What the ledger does on its own timers (replica heartbeat, pruning, the events outbox, batch items), whatever requests come. */
const BACKGROUND = new Set([
  'heartbeat',
  'pruneIdempotency',
  'pruneDailyLimits',
  'fanOutEvents',
  'claimDeliveries',
  'settleDelivery',
  'deliveryBacklog',
  'claimBatchItems',
  'pruneBatches',
]);

/**
 * The real ledger, with every call a request could make counted (its payment locks included): a malformed request
 * must not touch it at all (no write, no lock, no read).
 */
function countingLedger(ledger: Ledger): { ledger: Ledger; calls: string[] } {
  const calls: string[] = [];
  const counting = <T extends object>(target: T, prefix: string): T =>
    new Proxy(target, {
      get(inner, property, receiver) {
        const value: unknown = Reflect.get(inner, property, receiver);
        const name = `${prefix}${String(property)}`;
        if (typeof value === 'object' && value !== null) return counting(value, `${name}.`);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (!BACKGROUND.has(name)) calls.push(name);
          return (value as (...a: unknown[]) => unknown).apply(inner, args);
        };
      },
    });
  return { ledger: counting(ledger, ''), calls };
}

let gw: TestGateway;
let realLedger: Ledger;
let ledgerCalls: string[];

beforeAll(async () => {
  realLedger = await newTestLedger();
  const counted = countingLedger(realLedger);
  ledgerCalls = counted.calls;
  gw = await startTestGateway({
    ledger: counted.ledger,
    env: {
      BODY_LIMIT_BYTES: String(BODY_LIMIT),
      // Thousands of requests a minute from one caller: the rate limit is not what is fuzzed here.
      API_KEYS: JSON.stringify(API_KEYS.map((k) => ({ ...k, rate_limit_per_minute: 1_000_000 }))),
    },
  });
});

afterAll(async () => {
  await gw?.close();
  await realLedger?.close();
});

/** Every rule a malformed request's answer must keep; throws (with what was wrong) at the first one broken. */
function check(c: MalformedCase, res: LightMyRequestResponse, stripeCalls: number, ledgerTouched: string[]): void {
  const broken = (rule: string) => {
    throw new Error(`${rule}\n  got ${res.statusCode} ${res.body.slice(0, 300)}`);
  };
  if (res.statusCode >= 500) broken('a 5xx');
  if (stripeCalls > 0) broken(`${stripeCalls} call(s) reached Stripe`);
  if (ledgerTouched.length > 0) broken(`the ledger was called: ${ledgerTouched.join(', ')}`);
  if (res.statusCode !== c.expected.status) broken(`status ${res.statusCode}, the contract names ${c.expected.status} ${c.expected.code}`);
  if (!String(res.headers['content-type']).startsWith('application/problem+json')) broken(`content-type ${String(res.headers['content-type'])}`);
  const requestId = String(res.headers['x-request-id']);
  const given = c.request.headers['x-request-id'];
  if (given !== undefined && CALLER_REQUEST_ID.test(given) ? requestId !== given : !/^req_[0-9a-f]{32}$/.test(requestId)) broken(`x-request-id ${requestId}`);
  if (c.expected.status === 405 && !res.headers.allow) broken('a 405 without allow');
  if (c.expected.status === 401 && !res.headers['www-authenticate']) broken('a 401 without www-authenticate');
  if (c.request.method === 'HEAD') return;
  const body = JSON.parse(res.body) as { status?: unknown; code?: unknown; detail?: unknown; request_id?: unknown; type?: unknown; title?: unknown; errors?: unknown };
  if (body.code !== c.expected.code) broken(`code ${String(body.code)}, the contract names ${c.expected.code}`);
  if (body.status !== res.statusCode || body.type !== 'about:blank' || typeof body.title !== 'string') broken('not the problem shape');
  if (typeof body.detail !== 'string' || body.detail.length === 0) broken('no detail');
  if (body.request_id !== requestId) broken('request_id is not the x-request-id');
  if (INTERNALS.test(res.body)) broken('something internal in the answer');
  if (body.code === 'validation_error') {
    const errors = body.errors as { in?: unknown; path?: unknown; message?: unknown }[] | undefined;
    if (!Array.isArray(errors) || errors.length === 0) broken('a validation_error that lists no problem');
    for (const e of errors ?? []) {
      if (!['body', 'query', 'path', 'header'].includes(String(e.in))) broken(`a problem in ${String(e.in)}`);
      if (typeof e.path !== 'string' || (e.path !== '' && !e.path.startsWith('/'))) broken(`a problem path ${String(e.path)} that is no JSON Pointer`);
      if (typeof e.message !== 'string' || e.message.length === 0) broken('a problem without a message');
    }
    const wheres = c.expected.wheres ?? [];
    if (wheres.length > 0 && !(errors ?? []).some((e) => wheres.includes(e.in as never))) broken(`no problem listed in ${wheres.join(' or ')}`);
  }
}

async function runCase(c: MalformedCase): Promise<void> {
  gw.emulator.control.clearRequests();
  ledgerCalls.length = 0;
  const res = await gw.app.inject({
    method: c.request.method as 'GET',
    url: c.request.url,
    headers: c.request.headers,
    ...(c.request.payload !== undefined ? { payload: c.request.payload } : {}),
  });
  check(c, res, gw.emulator.control.requests().length, [...ledgerCalls]);
}

describe('malformed requests (fuzz)', () => {
  it.each(ROUTE_NAMES.map((route) => [route]))(
    `when ${RUNS_PER_ROUTE} malformed requests aimed at %s arrive, then each gets the contract's problem, never a 5xx, and neither Stripe nor the ledger hears of any`,
    async (route: RouteName) => {
      ledgerCalls.length = 0;
      try {
        await fc.assert(
          fc.asyncProperty(malformedRequest(route, BODY_LIMIT), runCase),
          { seed: SEED, numRuns: RUNS_PER_ROUTE },
        );
      } catch (error) {
        // fast-check's message carries the seed, the shrunk counterexample and a replay path.
        throw new Error(`Reproduce: FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS} npx vitest run test/http/fuzz.test.ts -t ${route}\n${(error as Error).message}`, { cause: error });
      }
      // And the ledger holds nothing: no refund was indexed.
      expect((await realLedger.listIndexedRefunds({ limit: 100 })).data).toEqual([]);
    },
    120_000,
  );
});
