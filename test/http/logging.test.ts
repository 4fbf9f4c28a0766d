// What the gateway logs: one line per request (with its Stripe calls folded in), a warn line per failed Stripe call, and never a key or an authorization header.
import { Writable } from 'node:stream';
import supertest from 'supertest';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import type { Ledger } from '../../src/refunds/ledger.js';
import { API_KEYS, auth, createPayment, KEYS, sdkFor } from '../helpers/gateway.js';
import { newTestLedger } from '../helpers/ledger.js';

const STRIPE_SECRET_KEY = 'sk_test_loggingSecret0123456789';

interface LogLine {
  level: number;
  msg: string;
  request_id?: string;
  [field: string]: unknown;
}

/** Everything the app logs, kept in memory: the raw text (for "never appears anywhere") and the parsed lines. */
class LogCapture extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
  lines(): LogLine[] {
    return this.text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as LogLine);
  }
  of(requestId: string, msg: string): LogLine[] {
    return this.lines().filter((l) => l.request_id === requestId && l.msg === msg);
  }
}

interface LoggedGateway {
  app: FastifyInstance;
  http: supertest.Agent;
  emulator: RunningEmulator;
  ledger: Ledger;
  logs: LogCapture;
  close(): Promise<void>;
}

/** The real app with the production logger settings, writing to memory instead of stdout. */
async function startLoggedGateway(level: string, env: Record<string, string> = {}, given?: Ledger): Promise<LoggedGateway> {
  const emulator = await startEmulator({ port: 0 });
  const ledger = given ?? (await newTestLedger());
  const loaded = loadConfig({
    STRIPE_SECRET_KEY,
    STRIPE_API_BASE: emulator.url,
    API_KEYS: JSON.stringify(API_KEYS),
    LOG_LEVEL: level,
    STRIPE_MAX_NETWORK_RETRIES: '0',
    ...env,
  });
  if (!loaded.ok) throw new Error(loaded.problems.join('; '));
  const logs = new LogCapture();
  const app = await buildApp(loaded.config, { ledger, logger: { level, stream: logs } });
  await app.ready();
  return {
    app,
    http: supertest.agent(app.server),
    emulator,
    ledger,
    logs,
    async close() {
      await app.close();
      await ledger.close().catch(() => undefined);
      await emulator.close();
    },
  };
}

/** Secrets that must never be written, in any form a careless log call could produce. */
const SECRETS = [
  STRIPE_SECRET_KEY,
  KEYS.billing,
  KEYS.support,
  'unknown-but-secret-key-0123456789',
  'Bearer ',
  Buffer.from(KEYS.billing).toString('base64'),
];

let gw: LoggedGateway;

beforeAll(async () => {
  gw = await startLoggedGateway('info');
});

afterAll(async () => {
  await gw?.close();
});

describe('request lines', () => {
  it('when a payment is read, then exactly one request line has its request id, caller, route template, status and duration', async () => {
    const payment = await createPayment(sdkFor(gw.emulator));
    const res = await gw.http.get(`/v1/payments/${payment.intent}`).set({ ...auth(), 'x-request-id': 'log-read-1' });
    expect(res.status).toBe(200);
    const lines = gw.logs.of('log-read-1', 'request');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 30, caller: 'billing', method: 'GET', route: '/v1/payments/:id', status: 200 });
    expect(lines[0]?.duration_ms).toEqual(expect.any(Number));
    expect(lines[0]?.duration_ms as number).toBeGreaterThanOrEqual(0);
  });

  it.each([
    ['a 401', () => gw.http.get('/v1/refunds').set('x-request-id', 'log-401'), 'log-401', 401],
    ['a 404', () => gw.http.get('/v1/nothing-here').set('x-request-id', 'log-404'), 'log-404', 404],
    ['a 405', () => gw.http.delete('/v1/refunds').set('x-request-id', 'log-405'), 'log-405', 405],
    [
      'a 415',
      () => gw.http.post('/v1/refunds').set({ ...auth(), 'x-request-id': 'log-415', 'idempotency-key': 'k', 'content-type': 'text/plain' }).send('x'),
      'log-415',
      415,
    ],
    ['a 400', () => gw.http.get('/v1/refunds?nope=1').set({ ...auth(), 'x-request-id': 'log-400' }), 'log-400', 400],
    ['a 200 on an operations route', () => gw.http.get('/healthz').set('x-request-id', 'log-health'), 'log-health', 200],
    ['a 400 for a path that cannot be decoded', () => gw.http.get('/v1/refunds/re_%ZZ').set('x-request-id', 'log-bad-url'), 'log-bad-url', 400],
    ['a 413', () => gw.http.post('/v1/refunds').set({ ...auth(), 'x-request-id': 'log-413', 'idempotency-key': 'k' }).send({ metadata: { a: 'x'.repeat(70_000) } }), 'log-413', 413],
  ])('when the answer is %s, then there is still exactly one request line for it', async (_what, send, id, status) => {
    expect((await send()).status).toBe(status);
    const lines = gw.logs.of(id, 'request');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ status, route: expect.any(String), duration_ms: expect.any(Number) });
  });

  it('when the caller is authenticated but refused by scope, then the request line names the caller', async () => {
    expect((await gw.http.post('/v1/refunds').set({ ...auth(KEYS.support), 'x-request-id': 'log-403' }).send({})).status).toBe(403);
    expect(gw.logs.of('log-403', 'request')[0]).toMatchObject({ caller: 'support', status: 403 });
  });
});

describe('Stripe calls in the logs', () => {
  /** Posts a refund of 700 on a fresh payment with the given gateway request id; returns the emulator's log of the calls it made. */
  async function refundLogged(on: LoggedGateway, requestId: string): Promise<{ request_id: string }[]> {
    const payment = await createPayment(sdkFor(on.emulator));
    const before = on.emulator.control.requests().length;
    const res = await on.http
      .post('/v1/refunds')
      .set({ ...auth(), 'x-request-id': requestId, 'idempotency-key': `log-${payment.intent}` })
      .send({ payment_intent: payment.intent, amount: 700 });
    expect(res.status).toBe(201);
    // Only this refund's calls: a fresh gateway's background work (reconciliation, readiness) calls Stripe meanwhile.
    const reached = on.emulator.control
      .requests()
      .slice(before)
      .filter((r) => (r.method === 'POST' && r.path === '/v1/refunds') || r.path.endsWith(payment.intent) || (payment.charge !== null && r.path.endsWith(payment.charge)));
    expect(reached.length).toBeGreaterThanOrEqual(2);
    return reached;
  }

  it('when a refund is made at info, then its one request line carries the count, total time and Stripe request ids of its Stripe calls, and no call has a line of its own', async () => {
    const reached = await refundLogged(gw, 'log-refund-1');
    const lines = gw.logs.lines().filter((l) => l.request_id === 'log-refund-1');
    expect(lines.map((l) => l.msg)).toEqual(['request']);
    const stripe = lines[0]?.stripe as { calls: number; ms: number; request_ids: string[] };
    expect(stripe).toMatchObject({ calls: reached.length, ms: expect.any(Number) });
    expect(stripe.ms).toBeGreaterThan(0);
    expect([...stripe.request_ids].sort()).toEqual(reached.map((r) => r.request_id).sort());
  });

  it('when a request makes no Stripe call, then its request line has no stripe field', async () => {
    expect((await gw.http.get('/healthz').set('x-request-id', 'log-no-stripe')).status).toBe(200);
    const [line] = gw.logs.of('log-no-stripe', 'request');
    expect(line).toBeDefined();
    expect(line).not.toHaveProperty('stripe');
  });

  it('when a refund is made at debug, then each Stripe call also has a debug line with its Stripe request id and the gateway request id', async () => {
    const debug = await startLoggedGateway('debug');
    try {
      const reached = await refundLogged(debug, 'log-refund-debug');
      const calls = debug.logs.of('log-refund-debug', 'stripe call');
      expect(calls.map((c) => c.stripe_request_id).sort()).toEqual(reached.map((r) => r.request_id).sort());
      expect(calls.find((c) => c.stripe_operation === 'refunds.create')).toMatchObject({ level: 20, outcome: 'ok', stripe_status: 200 });
      for (const call of calls) expect(call.duration_ms).toEqual(expect.any(Number));
    } finally {
      await debug.close();
    }
  });

  it('when Stripe fails, then the call has a warn line of its own with the code it became, and the request line counts it with its Stripe request id', async () => {
    const payment = await createPayment(sdkFor(gw.emulator));
    gw.emulator.control.injectFault({ method: 'GET', path: `/v1/payment_intents/${payment.intent}`, kind: 'error', status: 500 });
    const res = await gw.http.get(`/v1/payments/${payment.intent}`).set({ ...auth(), 'x-request-id': 'log-502' });
    expect(res.status).toBe(502);
    const failed = gw.logs.of('log-502', 'stripe call');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ level: 40, outcome: 'error', stripe_operation: 'payment_intents.retrieve', stripe_status: 500, code: 'upstream_error' });
    expect(failed[0]?.stripe_request_id).toMatch(/^req_/);
    const [line] = gw.logs.of('log-502', 'request');
    expect(line).toMatchObject({ status: 502, stripe: { calls: 1, request_ids: [failed[0]?.stripe_request_id] } });
  });
});

describe('readiness lines', () => {
  it('when the ledger fails for several probes and comes back, then one warn line says why (no stack) and one info line says it is ready again', async () => {
    const real = await newTestLedger();
    let down = false;
    // The real ledger, whose ping can be made to fail the way a dropped database connection does.
    const ledger = new Proxy(real, {
      get: (target, name, receiver) =>
        name === 'ping'
          ? () => (down ? Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432\n    at TCPConnectWrap.afterConnect')) : target.ping())
          : (Reflect.get(target, name, receiver) as unknown),
    });
    const probed = await startLoggedGateway('info', {}, ledger);
    const readiness = () => probed.logs.lines().filter((l) => /ready/.test(l.msg) && l.msg !== 'request');
    try {
      expect((await probed.http.get('/readyz')).status).toBe(200);
      expect(readiness()).toEqual([]);

      down = true;
      for (let i = 0; i < 3; i++) expect((await probed.http.get('/readyz')).status).toBe(503);
      expect(readiness()).toHaveLength(1);
      const [warned] = readiness();
      expect(warned).toMatchObject({ level: 40, msg: 'not ready: ledger failed: unreachable', causes: ['ledger: connect ECONNREFUSED 127.0.0.1:5432'] });
      expect(warned?.err).toBeUndefined();
      expect(JSON.stringify(warned)).not.toMatch(/\bat \w/);
      // Nor does the error handler log the 503s on its own.
      expect(probed.logs.lines().filter((l) => l.level >= 50)).toEqual([]);

      down = false;
      for (let i = 0; i < 2; i++) expect((await probed.http.get('/readyz')).status).toBe(200);
      expect(readiness().map((l) => [l.level, l.msg])).toEqual([
        [40, 'not ready: ledger failed: unreachable'],
        [30, 'ready again'],
      ]);
    } finally {
      await probed.close();
    }
  });
});

describe('secrets', () => {
  it('when requests succeed, fail at auth, fail at Stripe and fail inside the gateway, then no key and no authorization header is ever logged, even at trace level', async () => {
    const traced = await startLoggedGateway('trace');
    try {
      const sdk = sdkFor(traced.emulator);
      const payment = await createPayment(sdk);
      const headers = { ...auth(), 'idempotency-key': `secret-${payment.intent}` };
      expect((await traced.http.post('/v1/refunds').set(headers).send({ charge: payment.charge, amount: 100 })).status).toBe(201);
      expect((await traced.http.get('/v1/refunds').set('authorization', 'Bearer unknown-but-secret-key-0123456789')).status).toBe(401);
      expect((await traced.http.get('/v1/refunds').set('authorization', `Basic ${Buffer.from(KEYS.billing).toString('base64')}`)).status).toBe(401);
      expect((await traced.http.get('/v1/refunds').set(auth(KEYS.support)).set('x-api-key', KEYS.support)).status).toBe(200);

      traced.emulator.control.injectFault({ method: 'POST', path: '/v1/refunds', kind: 'error', status: 500 });
      expect((await traced.http.post('/v1/refunds').set({ ...headers, 'idempotency-key': 'secret-502' }).send({ charge: payment.charge, amount: 100 })).status).toBe(502);
      // The SDK retries a reset connection once even with retries off, so reset it twice.
      traced.emulator.control.injectFault({ method: 'POST', path: '/v1/refunds', kind: 'reset', times: 2 });
      expect([503, 504]).toContain((await traced.http.post('/v1/refunds').set({ ...headers, 'idempotency-key': 'secret-reset' }).send({ charge: payment.charge, amount: 100 })).status);

      await traced.ledger.close();
      const crashed = await traced.http.post('/v1/refunds').set({ ...headers, 'idempotency-key': 'secret-500', 'x-request-id': 'log-500' }).send({ charge: payment.charge });
      expect(crashed.status).toBe(500);
      // The 500 is logged with its cause, for whoever investigates — just not with a secret in it.
      expect(traced.logs.lines().some((l) => l.request_id === 'log-500' && l.level >= 50 && l.err !== undefined)).toBe(true);

      const text = traced.logs.text;
      expect(text.length).toBeGreaterThan(0);
      for (const secret of SECRETS) expect({ secret, found: text.includes(secret) }).toEqual({ secret, found: false });
      expect(text).not.toMatch(/"authorization"\s*:\s*"(?!\[Redacted\])/i);
    } finally {
      await traced.close();
    }
  });

  it('when a log call is handed the config or an authorization header by mistake, then pino prints [Redacted]', async () => {
    gw.app.log.info({ headers: { authorization: `Bearer ${KEYS.billing}` }, stripe: { secretKey: STRIPE_SECRET_KEY } }, 'careless');
    const line = gw.logs.lines().find((l) => l.msg === 'careless');
    expect(line).toMatchObject({ headers: { authorization: '[Redacted]' }, stripe: { secretKey: '[Redacted]' } });
    expect(JSON.stringify(line)).not.toContain(KEYS.billing);
  });
});
