// The contract's edges over HTTP: problem+json on every refusal, which error wins, refusals that never reach Stripe, upstream failures.
import { request as httpRequest } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Response } from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/server.js';
import { auth, createPayment, KEYS, refundPosts, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { newTestLedger } from '../helpers/ledger.js';

const BODY_LIMIT = 2048;
let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway({ env: { BODY_LIMIT_BYTES: String(BODY_LIMIT) } });
});

afterAll(async () => {
  await gw?.close();
});

interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  request_id: string;
  errors?: { in: string; path: string; message: string }[];
  [field: string]: unknown;
}

/** Whatever a body says, none of it may be a stack frame, a secret key, SQL or a file path. */
const INTERNALS = new RegExp(
  [/sk_test_|sk_live_/, /\bat [\w.<>]+ \(/, /\.ts:\d+|node_modules/, /\b(SELECT|INSERT|UPDATE)\b|idempotency_records/, ...Object.values(KEYS).map((k) => new RegExp(k))]
    .map((r) => r.source)
    .join('|'),
);

/** Asserts the contract's problem+json shape and returns the body. */
function problem(res: Response, status: number, code: string): Problem {
  expect({ status: res.status, code: (res.body as Problem).code }).toEqual({ status, code });
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = res.body as Problem;
  expect(body.status).toBe(status);
  expect(body.detail).toEqual(expect.any(String));
  expect(body.detail.length).toBeGreaterThan(0);
  expect(body.request_id).toBe(res.headers['x-request-id']);
  expect(res.text).not.toMatch(INTERNALS);
  return body;
}

/** The problems of a validation_error, without the human messages. */
const fields = (body: Problem) => (body.errors ?? []).map(({ in: where, path }) => ({ in: where, path }));

/** Runs `fn` and returns what reached the emulator meanwhile (tests in a file run one after another). */
async function stripeCallsDuring<T>(fn: () => Promise<T>): Promise<{ result: T; calls: ReturnType<TestGateway['emulator']['control']['requests']> }> {
  const before = gw.emulator.control.requests().length;
  const result = await fn();
  return { result, calls: gw.emulator.control.requests().slice(before) };
}

let keyCounter = 0;
const newKey = () => `errors-test-${process.pid}-${++keyCounter}`;

const postRefund = (body: unknown, headers: Record<string, string> = {}) =>
  gw.http
    .post('/v1/refunds')
    .set({ ...auth(), 'idempotency-key': newKey(), ...headers })
    .send(body as object);

describe('authentication and scopes', () => {
  it.each([
    ['no Authorization header', {}],
    ['an unknown key', { authorization: 'Bearer not-a-configured-key-0123456789' }],
    ['a Basic Authorization header', { authorization: `Basic ${Buffer.from(`billing:${KEYS.billing}`).toString('base64')}` }],
    ['a bare "Bearer"', { authorization: 'Bearer' }],
    ['a bearer token with a space in it', { authorization: `Bearer ${KEYS.billing} extra` }],
    ['the key without the Bearer scheme', { authorization: KEYS.billing }],
  ])('when a request comes with %s, then it is 401 unauthenticated, naming the Bearer scheme', async (_what, headers) => {
    const res = await gw.http.get('/v1/refunds').set(headers);
    problem(res, 401, 'unauthenticated');
    expect(res.headers['www-authenticate']).toMatch(/^Bearer\b/);
  });

  it('when the support key (refunds:read only) posts a refund, then it is 403 forbidden and Stripe hears nothing', async () => {
    const { result: res, calls } = await stripeCallsDuring(() =>
      gw.http.post('/v1/refunds').set({ ...auth(KEYS.support), 'idempotency-key': newKey() }).send({ charge: 'ch_123' }),
    );
    expect(problem(res, 403, 'forbidden').detail).toContain('refunds:write');
    expect(calls).toEqual([]);
  });

  it('when the ops key (payment_intents:write only) reads refunds or a payment, then it is 403 forbidden', async () => {
    problem(await gw.http.get('/v1/refunds').set(auth(KEYS.ops)), 403, 'forbidden');
    problem(await gw.http.get('/v1/refunds/re_123').set(auth(KEYS.ops)), 403, 'forbidden');
    problem(await gw.http.get('/v1/payments/pi_123').set(auth(KEYS.ops)), 403, 'forbidden');
  });

  it('when the key is rotated, then the old and the new key both authenticate as the same caller', async () => {
    const res = await gw.http.get('/v1/refunds').set(auth(KEYS.billingRotated));
    expect(res.status).toBe(200);
  });
});

describe('routes and methods', () => {
  it.each(['/v1/nope', '/v1/refunds/re_123/extra', '/nope', '/v2/refunds'])('when %s is asked for, then it is 404 not_found, before any auth', async (path) => {
    problem(await gw.http.get(path), 404, 'not_found');
    problem(await gw.http.get(path).set(auth()), 404, 'not_found');
  });

  it('when DELETE /v1/refunds is sent, then it is 405 with an allow header listing GET and POST, even without a key', async () => {
    const res = await gw.http.delete('/v1/refunds');
    problem(res, 405, 'method_not_allowed');
    const allow = String(res.headers.allow).split(/,\s*/);
    expect(allow).toEqual(expect.arrayContaining(['GET', 'POST']));
    expect(allow).not.toContain('DELETE');
  });

  it('when PUT /v1/payments/{id} is sent, then it is 405 with allow: GET', async () => {
    const res = await gw.http.put('/v1/payments/pi_x').set(auth()).send({});
    problem(res, 405, 'method_not_allowed');
    const allow = String(res.headers.allow).split(/,\s*/);
    expect(allow).toContain('GET');
    expect(allow).not.toContain('PUT');
    expect(allow).not.toContain('POST');
  });

  it('when POST /v1/refunds/ is sent (a trailing slash), then it is 404: no route, rather than a 405 whose allow says POST', async () => {
    problem(await gw.http.post('/v1/refunds/').set(auth()).send({}), 404, 'not_found');
  });

  it.each([
    ['an oversized body', 'application/json', `{"note": "${'x'.repeat(BODY_LIMIT * 2)}"}`],
    ['a text/plain body', 'text/plain', 'hello'],
  ])('when an unknown route or method gets %s, then the route still answers first: 404 or 405, not 413 or 415', async (_what, type, body) => {
    problem(await gw.http.post('/v1/nope').set({ 'content-type': type }).send(body), 404, 'not_found');
    const res = await gw.http.put('/v1/refunds').set({ ...auth(), 'content-type': type }).send(body);
    problem(res, 405, 'method_not_allowed');
    expect(String(res.headers.allow).split(/,\s*/)).toEqual(expect.arrayContaining(['GET', 'POST']));
  });

  it('when GET /v1/payment-intents/{id}/cancel is sent, then it is 405 with allow: POST', async () => {
    const res = await gw.http.get('/v1/payment-intents/pi_123/cancel').set(auth());
    problem(res, 405, 'method_not_allowed');
    expect(String(res.headers.allow).split(/,\s*/)).toEqual(['POST']);
  });
});

describe('body size and media type', () => {
  it('when the body is over BODY_LIMIT_BYTES, then it is 413 payload_too_large and Stripe hears nothing', async () => {
    const { result: res, calls } = await stripeCallsDuring(() =>
      postRefund({ charge: 'ch_123', metadata: { note: 'x'.repeat(BODY_LIMIT) } }),
    );
    problem(res, 413, 'payload_too_large');
    expect(calls).toEqual([]);
  });

  it('when an oversized body comes chunked, without a content-length, then it is still 413', async () => {
    // supertest always sends a content-length, so this one goes through node:http on a port of its own.
    const server = gw.app.server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const res = await new Promise<{ status: number; type: string; body: Problem; requestId: string }>((resolve, reject) => {
      const req = httpRequest(
        { port, method: 'POST', path: '/v1/refunds', headers: { ...auth(), 'idempotency-key': newKey(), 'content-type': 'application/json', 'transfer-encoding': 'chunked' } },
        (answer) => {
          let text = '';
          answer.on('data', (chunk: Buffer) => (text += chunk.toString()));
          answer.on('end', () =>
            resolve({ status: answer.statusCode ?? 0, type: String(answer.headers['content-type']), body: JSON.parse(text) as Problem, requestId: String(answer.headers['x-request-id']) }),
          );
        },
      );
      req.on('error', reject);
      req.write('{"charge": "ch_123", "metadata": {"note": "');
      for (let i = 0; i < 8; i++) req.write('x'.repeat(BODY_LIMIT / 4));
      req.end('"}}');
    }).finally(() => new Promise((resolve) => server.close(resolve)));
    expect(res).toMatchObject({ status: 413, body: { code: 'payload_too_large', status: 413 } });
    expect(res.type).toMatch(/^application\/problem\+json/);
    expect(res.body.request_id).toBe(res.requestId);
  });

  it.each(['a', ';', '', 'a/b/c'])('when an oversized body comes with the Content-Type %j (no media type at all), then 413 still wins over 415', async (type) => {
    const res = await gw.app.inject({
      method: 'POST',
      url: '/v1/refunds',
      headers: { ...auth(), 'idempotency-key': newKey(), 'content-type': type },
      payload: `{"note": "${'x'.repeat(BODY_LIMIT)}"}`,
    });
    expect({ status: res.statusCode, code: res.json().code }).toEqual({ status: 413, code: 'payload_too_large' });
    const small = await gw.app.inject({ method: 'POST', url: '/v1/refunds', headers: { ...auth(), 'idempotency-key': newKey(), 'content-type': type }, payload: '{}' });
    expect({ status: small.statusCode, code: small.json().code }).toEqual({ status: 415, code: 'unsupported_media_type' });
  });

  it('when the body is text/plain, then it is 415 unsupported_media_type', async () => {
    const res = await gw.http
      .post('/v1/refunds')
      .set({ ...auth(), 'idempotency-key': newKey(), 'content-type': 'text/plain' })
      .send('charge=ch_123');
    problem(res, 415, 'unsupported_media_type');
  });

  it('when the body is form-encoded, then it is 415 unsupported_media_type', async () => {
    const res = await gw.http
      .post('/v1/refunds')
      .set({ ...auth(), 'idempotency-key': newKey(), 'content-type': 'application/x-www-form-urlencoded' })
      .send('charge=ch_123');
    problem(res, 415, 'unsupported_media_type');
  });

  it.each(['gzip', 'br', 'deflate, gzip'])('when the JSON body comes with Content-Encoding: %s, then it is 415 and Stripe hears nothing (a coded body is not read as plain JSON)', async (coding) => {
    const p = await createPayment(gw.stripe);
    const { result: res, calls } = await stripeCallsDuring(() =>
      gw.http
        .post('/v1/refunds')
        .set({ ...auth(), 'idempotency-key': newKey(), 'content-type': 'application/json', 'content-encoding': coding })
        .send(JSON.stringify({ payment_intent: p.intent })),
    );
    problem(res, 415, 'unsupported_media_type');
    expect(calls).toEqual([]);
  });

  it('when the JSON body says Content-Encoding: identity, then it is read as plain JSON', async () => {
    const res = await gw.http
      .post('/v1/refunds')
      .set({ ...auth(), 'idempotency-key': newKey(), 'content-type': 'application/json', 'content-encoding': 'identity' })
      .send(JSON.stringify({ charge: 'ch-bad' }));
    expect(fields(problem(res, 400, 'validation_error'))).toEqual([{ in: 'body', path: '/charge' }]);
  });

  it('when the JSON comes with a charset, then it is accepted like plain application/json', async () => {
    const res = await gw.http
      .post('/v1/refunds')
      .set({ ...auth(), 'idempotency-key': newKey(), 'content-type': 'application/json; charset=utf-8' })
      .send(JSON.stringify({ charge: 'ch-bad' }));
    expect(fields(problem(res, 400, 'validation_error'))).toEqual([{ in: 'body', path: '/charge' }]);
  });
});

describe('the cancel route’s optional body and key', () => {
  const cancel = (headers: Record<string, string>, body?: string) => {
    const req = gw.http.post('/v1/payment-intents/pi_123/cancel').set({ ...auth(), ...headers });
    return body === undefined ? req : req.send(body);
  };

  it('when the cancel body is non-empty text/plain, then it is 415', async () => {
    problem(await cancel({ 'content-type': 'text/plain' }, 'please'), 415, 'unsupported_media_type');
  });

  it('when the cancel body is not JSON, then it is 400 about the body', async () => {
    expect(fields(problem(await cancel({ 'content-type': 'application/json' }, '{'), 400, 'validation_error'))).toEqual([{ in: 'body', path: '' }]);
  });

  it('when the cancel body has an unknown reason or field, then each is listed', async () => {
    const res = await cancel({ 'content-type': 'application/json' }, JSON.stringify({ cancellation_reason: 'bored', force: true }));
    expect(fields(problem(res, 400, 'validation_error'))).toEqual(
      expect.arrayContaining([
        { in: 'body', path: '/cancellation_reason' },
        { in: 'body', path: '/force' },
      ]),
    );
  });

  it('when the optional Idempotency-Key is malformed, then it is 400 in header, and Stripe hears nothing', async () => {
    const { result: res, calls } = await stripeCallsDuring(() => cancel({ 'idempotency-key': 'k'.repeat(256) }));
    expect(fields(problem(res, 400, 'validation_error'))).toEqual([{ in: 'header', path: '/idempotency-key' }]);
    expect(calls).toEqual([]);
  });
});

describe('bodies that are not a JSON object', () => {
  it.each([
    ['invalid JSON', '{"charge": "ch_123",'],
    ['a JSON array', '[{"charge": "ch_123"}]'],
    ['a JSON string', '"ch_123"'],
    ['a JSON number', '42'],
    ['JSON null', 'null'],
  ])('when the body is %s, then it is 400 validation_error about the body', async (_what, text) => {
    const { result: res, calls } = await stripeCallsDuring(() =>
      gw.http.post('/v1/refunds').set({ ...auth(), 'idempotency-key': newKey(), 'content-type': 'application/json' }).send(text),
    );
    const body = problem(res, 400, 'validation_error');
    expect(body.errors).toEqual([expect.objectContaining({ in: 'body', path: '' })]);
    expect(calls).toEqual([]);
  });

  it('when POST /v1/refunds has no body at all, then it is 400 validation_error about the body', async () => {
    const res = await gw.http.post('/v1/refunds').set({ ...auth(), 'idempotency-key': newKey() });
    expect(fields(problem(res, 400, 'validation_error'))).toEqual([{ in: 'body', path: '' }]);
  });
});

describe('JSON that parses but says two things', () => {
  const postRaw = (payload: string) =>
    gw.http.post('/v1/refunds').set({ ...auth(), 'idempotency-key': newKey(), 'content-type': 'application/json' }).send(payload);

  it('when the body is not valid UTF-8 (a stray byte inside a metadata value), then it is 400 about the body and Stripe hears nothing', async () => {
    const p = await createPayment(gw.stripe);
    // 0xff is never UTF-8; decoded leniently it became U+FFFD and the refund was made with metadata the caller never sent.
    const bytes = Buffer.concat([Buffer.from(`{"payment_intent": "${p.intent}", "metadata": {"order": "4`), Buffer.from([0xff]), Buffer.from('"}}')]);
    // Through inject: supertest would JSON-encode a Buffer under this content type.
    const { result: res, calls } = await stripeCallsDuring(() =>
      gw.app.inject({ method: 'POST', url: '/v1/refunds', headers: { ...auth(), 'idempotency-key': newKey(), 'content-type': 'application/json' }, payload: bytes }),
    );
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'validation_error', errors: [{ in: 'body', path: '' }] });
    expect(calls).toEqual([]);
  });

  it('when a key appears twice with two good values, then it is 400 naming it, and Stripe hears nothing', async () => {
    const p = await createPayment(gw.stripe);
    const { result: res, calls } = await stripeCallsDuring(() => postRaw(`{"payment_intent": "${p.intent}", "amount": 100, "amount": 10000}`));
    const body = problem(res, 400, 'validation_error');
    expect(fields(body)).toEqual([{ in: 'body', path: '/amount' }]);
    expect(body.errors?.[0]?.message).toMatch(/more than once/);
    expect(calls).toEqual([]);
  });

  it('when a metadata key appears twice, even spelt with an escape, then its pointer names it inside metadata', async () => {
    const res = await postRaw('{"charge": "ch_123", "metadata": {"order": "1", "note": "[{\\"a\\": 1}, {\\"order\\": 2}]", "\\u006frder": "2"}}');
    expect(fields(problem(res, 400, 'validation_error'))).toEqual([{ in: 'body', path: '/metadata/order' }]);
  });

  it('when the same key appears in two different objects, then that is no repeat', async () => {
    const res = await postRaw('{"charge": "ch-bad", "metadata": {"charge": "x"}}');
    expect(fields(problem(res, 400, 'validation_error'))).toEqual([{ in: 'body', path: '/charge' }]);
  });
});

describe('unknown fields and parameters', () => {
  it('when the body has an unknown field, then it is 400 with a pointer to that field', async () => {
    const body = problem(await postRefund({ charge: 'ch_123', amout: 100 }), 400, 'validation_error');
    expect(fields(body)).toEqual([{ in: 'body', path: '/amout' }]);
    expect(body.errors?.[0]?.message).toContain('amout');
  });

  it('when the list has an unknown query parameter, then it is 400 with a pointer to it', async () => {
    const body = problem(await gw.http.get('/v1/refunds?chrge=ch_123').set(auth()), 400, 'validation_error');
    expect(fields(body)).toEqual([{ in: 'query', path: '/chrge' }]);
  });

  it.each([
    ['GET', '/v1/payments/pi_123?expand=charges', undefined],
    ['GET', '/v1/refunds/re_123?limit=5', undefined],
    ['POST', '/v1/refunds?dry_run=true', { charge: 'ch_123' }],
    ['POST', '/v1/payment-intents/pi_123/cancel?force=1', {}],
  ])('when %s %s carries a query parameter the route does not take, then it is 400 and Stripe hears nothing', async (method, url, body) => {
    const { result: res, calls } = await stripeCallsDuring(() => {
      const req = method === 'GET' ? gw.http.get(url) : gw.http.post(url).send(body);
      return req.set({ ...auth(), 'idempotency-key': newKey() });
    });
    const name = new URL(url, 'http://x').searchParams.keys().next().value;
    expect(fields(problem(res, 400, 'validation_error'))).toEqual([{ in: 'query', path: `/${name}` }]);
    expect(calls).toEqual([]);
  });
});

describe('ids of the wrong shape', () => {
  it.each([
    ['a charge with a dash', { charge: 'ch_12-3' }, '/charge'],
    ['a charge id with the wrong prefix', { charge: 'pi_123' }, '/charge'],
    ['a PaymentIntent id in the charge slot… the other way round', { payment_intent: 'ch_123' }, '/payment_intent'],
    ['an empty charge id', { charge: 'ch_' }, '/charge'],
    ['a charge id over 250 characters', { charge: `ch_${'a'.repeat(251)}` }, '/charge'],
  ])('when the body names %s, then it is 400 at that field and Stripe hears nothing', async (_what, body, path) => {
    const { result: res, calls } = await stripeCallsDuring(() => postRefund(body));
    expect(fields(problem(res, 400, 'validation_error'))).toEqual([{ in: 'body', path }]);
    expect(calls).toEqual([]);
  });

  it.each([
    ['/v1/refunds/pi_123', 'a PaymentIntent id in the refund slot'],
    ['/v1/refunds/re_12-3', 'a refund id with a dash'],
    ['/v1/payments/re_x', 'a refund id in the payment slot'],
    ['/v1/payments/ch_%20x', 'a charge id with a space'],
  ])('when GET %s (%s), then it is 400 at /id in path and Stripe hears nothing', async (url) => {
    const { result: res, calls } = await stripeCallsDuring(() => gw.http.get(url).set(auth()));
    expect(fields(problem(res, 400, 'validation_error'))).toEqual([{ in: 'path', path: '/id' }]);
    expect(calls).toEqual([]);
  });

  it.each([
    ['a refund id of 253 characters', `/v1/refunds/re_${'A1'.repeat(125)}`],
    ['a refund id of 254 characters (pyr_)', `/v1/refunds/pyr_${'z'.repeat(250)}`],
    ['a PaymentIntent id of 253 characters', `/v1/payments/pi_${'a'.repeat(250)}`],
    ['a charge id of 183 characters', `/v1/payments/ch_${'b'.repeat(180)}`],
  ])('when the path holds %s (well-formed, just long), then Stripe is asked and it is 404 not_found', async (_what, url) => {
    const { result: res, calls } = await stripeCallsDuring(() => gw.http.get(url).set(auth()));
    problem(res, 404, 'not_found');
    expect(calls.length).toBeGreaterThan(0);
  });

  it('when the path is not valid percent-encoding, then it is a 400 problem+json with a request id', async () => {
    const res = await gw.http.get('/v1/refunds/re_%ZZ').set({ ...auth(), 'x-request-id': 'bad-url-1' });
    expect(res.headers['x-request-id']).toBe('bad-url-1');
    expect(fields(problem(res, 400, 'validation_error'))).toEqual([{ in: 'path', path: '' }]);
  });

  it('when a path id is longer than any id can be, then it is 400 problem+json, not the router’s bare 414', async () => {
    const res = await gw.http.get(`/v1/refunds/re_${'a'.repeat(400)}`).set(auth());
    expect(problem(res, 400, 'validation_error').errors?.[0]).toMatchObject({ in: 'path' });
  });

  it('when the cancel route is given a charge id, then it is 400 at /id in path', async () => {
    const res = await gw.http.post('/v1/payment-intents/ch_123/cancel').set(auth());
    expect(fields(problem(res, 400, 'validation_error'))).toEqual([{ in: 'path', path: '/id' }]);
  });

  it('when the list is filtered by ids of the wrong shape, then each is listed as a query problem', async () => {
    const res = await gw.http.get('/v1/refunds?charge=pi_1&payment_intent=ch_1&starting_after=ch_1&limit=0').set(auth());
    expect(fields(problem(res, 400, 'validation_error'))).toEqual(
      expect.arrayContaining([
        { in: 'query', path: '/charge' },
        { in: 'query', path: '/payment_intent' },
        { in: 'query', path: '/starting_after' },
        { in: 'query', path: '/limit' },
      ]),
    );
  });
});

describe('amounts, charge or payment_intent, and metadata', () => {
  it.each([
    ['0', 0],
    ['100000000', 100_000_000],
    ['1.5', 1.5],
    ['the string "100"', '100'],
    ['-5', -5],
    ['null', null],
  ])('when amount is %s, then it is 400 at /amount', async (_what, amount) => {
    const { result: res, calls } = await stripeCallsDuring(() => postRefund({ charge: 'ch_123', amount }));
    expect(fields(problem(res, 400, 'validation_error'))).toEqual([{ in: 'body', path: '/amount' }]);
    expect(calls).toEqual([]);
  });

  it('when both charge and payment_intent are given, then it is 400 saying exactly one is needed', async () => {
    const body = problem(await postRefund({ charge: 'ch_123', payment_intent: 'pi_123' }), 400, 'validation_error');
    expect(body.errors).toHaveLength(1);
    expect(body.errors?.[0]).toMatchObject({ in: 'body' });
    expect(body.errors?.[0]?.message).toMatch(/exactly one of charge and payment_intent/);
  });

  it('when neither charge nor payment_intent is given, then it is 400 saying exactly one is needed', async () => {
    const body = problem(await postRefund({ amount: 100 }), 400, 'validation_error');
    expect(body.errors?.[0]?.message).toMatch(/exactly one of charge and payment_intent/);
  });

  it.each([
    ['a key over 40 characters', { ['k'.repeat(41)]: 'v' }, `/metadata/${'k'.repeat(41)}`, /40/],
    ['a key with [', { 'order[id]': 'v' }, '/metadata/order[id]', /\[/],
    ['a key beginning gateway_', { gateway_caller: 'me' }, '/metadata/gateway_caller', /gateway_/],
    ['a value over 500 characters', { note: 'v'.repeat(501) }, '/metadata/note', /500/],
    ['a number as a value', { order: 42 }, '/metadata/order', /string/],
    ['a nested object as a value', { order: { id: '42' } }, '/metadata/order', /string/],
    ['49 keys', Object.fromEntries(Array.from({ length: 49 }, (_, i) => [`k${i}`, 'v'])), '/metadata', /48/],
  ])('when metadata has %s, then it is 400 at that key with a message that says why', async (_what, metadata, path, why) => {
    const { result: res, calls } = await stripeCallsDuring(() => postRefund({ charge: 'ch_123', metadata }));
    const body = problem(res, 400, 'validation_error');
    expect(fields(body)).toEqual([{ in: 'body', path }]);
    expect(body.errors?.[0]?.message).toMatch(why);
    expect(calls).toEqual([]);
  });

  it('when a metadata key contains a slash or a tilde, then its pointer escapes them as JSON Pointer says', async () => {
    const body = problem(await postRefund({ charge: 'ch_123', metadata: { 'a/b~c': 'v'.repeat(501) } }), 400, 'validation_error');
    expect(fields(body)).toEqual([{ in: 'body', path: '/metadata/a~1b~0c' }]);
  });

  it('when metadata is at every limit (48 keys, a 40-character key, a 500-character value), then the schema lets it through to the rules', async () => {
    const metadata = Object.fromEntries(Array.from({ length: 47 }, (_, i) => [`k${i}`, 'v']));
    metadata['k'.repeat(40)] = 'v'.repeat(500);
    const res = await postRefund({ charge: 'ch_DoesNotExist', metadata });
    problem(res, 404, 'not_found');
  });
});

describe('keys that name JavaScript’s object machinery', () => {
  const postRaw = (text: string) =>
    gw.http.post('/v1/refunds').set({ ...auth(), 'idempotency-key': newKey(), 'content-type': 'application/json' }).send(text);

  it.each([
    ['__proto__ with an object', '{"__proto__": {"x": "y"}}', '/metadata/__proto__'],
    ['__proto__ with a string', '{"__proto__": "y"}', '/metadata/__proto__'],
    ['constructor', '{"constructor": "y"}', '/metadata/constructor'],
    ['prototype', '{"prototype": "y"}', '/metadata/prototype'],
    ['__proto__ beside a good key', '{"order": "42", "__proto__": {"x": "y"}}', '/metadata/__proto__'],
  ])('when metadata has the key %s, then it is 400 naming that key, and Stripe hears nothing', async (_what, metadata, path) => {
    const p = await createPayment(gw.stripe);
    const { result: res, calls } = await stripeCallsDuring(() => postRaw(`{"payment_intent": "${p.intent}", "metadata": ${metadata}}`));
    const body = problem(res, 400, 'validation_error');
    expect(fields(body)).toEqual([{ in: 'body', path }]);
    expect(body.errors?.[0]?.message).toMatch(/not allowed/);
    expect(calls).toEqual([]);
  });

  it('when metadata has __proto__ and a value over 500 characters, then both are listed at once', async () => {
    const res = await postRaw(`{"charge": "ch_123", "metadata": {"__proto__": {"x": "y"}, "note": "${'v'.repeat(501)}"}}`);
    expect(fields(problem(res, 400, 'validation_error'))).toEqual(
      expect.arrayContaining([
        { in: 'body', path: '/metadata/__proto__' },
        { in: 'body', path: '/metadata/note' },
      ]),
    );
  });

  it('when the body itself has a __proto__ key, then it is 400 naming it once', async () => {
    const res = await postRaw('{"charge": "ch_123", "__proto__": {"amount": 1}}');
    expect(fields(problem(res, 400, 'validation_error'))).toEqual([{ in: 'body', path: '/__proto__' }]);
  });

  it('when the query has a __proto__ or constructor parameter, then it is 400 naming it', async () => {
    const res = await gw.http.get('/v1/refunds?__proto__=x&constructor=y').set(auth());
    expect(fields(problem(res, 400, 'validation_error'))).toEqual(
      expect.arrayContaining([
        { in: 'query', path: '/__proto__' },
        { in: 'query', path: '/constructor' },
      ]),
    );
  });
});

describe('Idempotency-Key', () => {
  it('when POST /v1/refunds has none, then it is 400 idempotency_key_missing and Stripe hears nothing', async () => {
    const { result: res, calls } = await stripeCallsDuring(() => gw.http.post('/v1/refunds').set(auth()).send({ charge: 'ch_123' }));
    problem(res, 400, 'idempotency_key_missing');
    expect(calls).toEqual([]);
  });

  it.each([
    ['256 characters', 'k'.repeat(256)],
    ['a tab inside', 'order\t42'],
    ['a non-ASCII character', 'ordér-42'],
    ['nothing in it', ''],
  ])('when it has %s, then it is 400 validation_error in header /idempotency-key', async (_what, key) => {
    const { result: res, calls } = await stripeCallsDuring(() => postRefund({ charge: 'ch_123' }, { 'idempotency-key': key }));
    expect(fields(problem(res, 400, 'validation_error'))).toEqual([{ in: 'header', path: '/idempotency-key' }]);
    expect(calls).toEqual([]);
  });

  it('when it is 255 printable characters, then the header passes (the body is what fails here)', async () => {
    const res = await postRefund({ charge: 'ch-1' }, { 'idempotency-key': `${'k'.repeat(250)} ~!@#` });
    expect(fields(problem(res, 400, 'validation_error'))).toEqual([{ in: 'body', path: '/charge' }]);
  });

  it('when header, query and body are all wrong, then every problem is listed at once', async () => {
    const res = await gw.http
      .post('/v1/refunds?dry_run=1')
      .set({ ...auth(), 'idempotency-key': 'k'.repeat(256) })
      .send({ charge: 'ch_1-2', amount: 0, metadata: { gateway_x: 'y' }, extra: true });
    expect(fields(problem(res, 400, 'validation_error'))).toEqual(
      expect.arrayContaining([
        { in: 'header', path: '/idempotency-key' },
        { in: 'query', path: '/dry_run' },
        { in: 'body', path: '/charge' },
        { in: 'body', path: '/amount' },
        { in: 'body', path: '/metadata/gateway_x' },
        { in: 'body', path: '/extra' },
      ]),
    );
    expect(res.body.errors).toHaveLength(6);
  });
});

describe('which error wins', () => {
  it('when an unknown key comes with an oversized, invalid body and no Idempotency-Key, then 401 wins', async () => {
    const res = await gw.http
      .post('/v1/refunds')
      .set({ authorization: 'Bearer unknown-key-0123456789abcdef', 'content-type': 'application/json' })
      .send(`{"charge": "${'x'.repeat(BODY_LIMIT * 2)}`);
    problem(res, 401, 'unauthenticated');
  });

  it('when no key comes with a text/plain body, then 401 wins over 415', async () => {
    const res = await gw.http.post('/v1/refunds').set('content-type', 'text/plain').send('hello');
    problem(res, 401, 'unauthenticated');
  });

  it('when a known key without the scope sends no Idempotency-Key and a bad body, then 403 wins', async () => {
    const res = await gw.http.post('/v1/refunds').set(auth(KEYS.support)).send({ amount: 0 });
    problem(res, 403, 'forbidden');
  });

  it('when an oversized body comes without an Idempotency-Key, then 413 wins', async () => {
    const res = await gw.http
      .post('/v1/refunds')
      .set(auth())
      .send({ charge: 'ch_123', metadata: { note: 'x'.repeat(BODY_LIMIT) } });
    problem(res, 413, 'payload_too_large');
  });

  it('when a text/plain body comes without an Idempotency-Key, then 415 wins', async () => {
    const res = await gw.http.post('/v1/refunds').set({ ...auth(), 'content-type': 'text/plain' }).send('charge=ch_123');
    problem(res, 415, 'unsupported_media_type');
  });

  it('when a good key sends no Idempotency-Key and a body that breaks the schema, then idempotency_key_missing wins', async () => {
    const res = await gw.http.post('/v1/refunds').set(auth()).send({ charge: 'ch-1', amount: 0, bogus: 1 });
    problem(res, 400, 'idempotency_key_missing');
  });

  it('when a good key sends no Idempotency-Key and a body that is not JSON, then idempotency_key_missing wins', async () => {
    const res = await gw.http.post('/v1/refunds').set({ ...auth(), 'content-type': 'application/json' }).send('{"charge": ');
    problem(res, 400, 'idempotency_key_missing');
  });

  it('when the body is not JSON and the query is wrong too, then both problems are listed', async () => {
    const res = await gw.http
      .post('/v1/refunds?dry_run=1')
      .set({ ...auth(), 'idempotency-key': newKey(), 'content-type': 'application/json' })
      .send('{"charge": ');
    expect(fields(problem(res, 400, 'validation_error'))).toEqual(
      expect.arrayContaining([
        { in: 'query', path: '/dry_run' },
        { in: 'body', path: '' },
      ]),
    );
  });

  it('when the tight key (3 a minute) goes over, then 429 rate_limited with retry-after; a route it may not use still says 403', async () => {
    for (let i = 0; i < 3; i++) expect((await gw.http.get('/v1/refunds').set(auth(KEYS.tight))).status).toBe(200);
    const limited = await gw.http.get('/v1/refunds').set(auth(KEYS.tight));
    problem(limited, 429, 'rate_limited');
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // Over the limit, a bad query is still 429: the rate limit is checked before the schema.
    problem(await gw.http.get('/v1/refunds?bogus=1').set(auth(KEYS.tight)), 429, 'rate_limited');
    // Scope is checked before the rate limit.
    problem(await gw.http.post('/v1/refunds').set(auth(KEYS.tight)).send({ charge: 'ch_123' }), 403, 'forbidden');
    // Another caller is not affected.
    expect((await gw.http.get('/v1/refunds').set(auth(KEYS.support))).status).toBe(200);
  });
});

describe('x-request-id', () => {
  it('when the caller sends a valid x-request-id, then the answer and the problem carry it', async () => {
    const id = 'caller.req_42:a-B';
    const res = await gw.http.get('/v1/refunds/pi_1').set({ ...auth(), 'x-request-id': id });
    expect(res.headers['x-request-id']).toBe(id);
    expect(problem(res, 400, 'validation_error').request_id).toBe(id);
    const ok = await gw.http.get('/v1/refunds').set({ ...auth(), 'x-request-id': id });
    expect(ok.headers['x-request-id']).toBe(id);
  });

  it.each([
    ['with spaces', 'my request 1'],
    ['of 129 characters', 'r'.repeat(129)],
    ['with a slash', 'a/b'],
  ])('when the caller sends an x-request-id %s, then a generated one replaces it', async (_what, id) => {
    const res = await gw.http.get('/v1/refunds/pi_1').set({ ...auth(), 'x-request-id': id });
    const given = res.headers['x-request-id'] as string;
    expect(given).not.toBe(id);
    expect(given).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
    expect(problem(res, 400, 'validation_error').request_id).toBe(given);
  });

  it('when the caller sends an x-request-id of exactly 128 characters, then it is kept', async () => {
    const id = 'r'.repeat(128);
    expect((await gw.http.get('/v1/nope').set('x-request-id', id)).headers['x-request-id']).toBe(id);
  });

  it('when two requests come without one, then each gets its own', async () => {
    const [a, b] = await Promise.all([gw.http.get('/v1/refunds'), gw.http.get('/v1/refunds')]);
    expect(a.headers['x-request-id']).toBeTruthy();
    expect(a.headers['x-request-id']).not.toBe(b.headers['x-request-id']);
  });
});

describe('upstream failures', () => {
  let up: TestGateway;
  // Two SDK retries (the default), and a short timeout so the slow-Stripe cases stay quick.
  beforeAll(async () => {
    up = await startTestGateway({ env: { STRIPE_MAX_NETWORK_RETRIES: '2', STRIPE_TIMEOUT_MS: '1500' } });
  });
  afterEach(() => up.emulator.control.clearFaults());
  afterAll(async () => {
    await up?.close();
  });

  const refund = (body: object, key: string) => up.http.post('/v1/refunds').set({ ...auth(), 'idempotency-key': key }).send(body);

  it('when Stripe keeps answering 500, then the SDK retries with the same key and the caller gets 502 upstream_error, not stored', async () => {
    const payment = await createPayment(up.stripe, { amount: 3000 });
    up.emulator.control.injectFault({ method: 'POST', path: '/v1/refunds', kind: 'error', status: 500, times: 10 });
    const key = `k-500-${payment.intent}`;
    const res = await refund({ payment_intent: payment.intent, amount: 1000 }, key);
    const body = problem(res, 502, 'upstream_error');
    expect(body.detail).not.toMatch(/emulator/);
    const posts = refundPosts(up.emulator);
    const mine = posts.filter((p) => p.body.payment_intent === payment.intent);
    expect(mine).toHaveLength(3);
    expect(new Set(mine.map((p) => p.idempotency_key)).size).toBe(1);
    expect(mine[0]?.idempotency_key).not.toContain(key);

    // A 502 says nothing about the refund, so it is not replayed: the retry runs again and succeeds.
    up.emulator.control.clearFaults();
    const retry = await refund({ payment_intent: payment.intent, amount: 1000 }, key);
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
  });

  it('when Stripe answers 500 on a read, then GET /v1/payments/{id} is 502 upstream_error', async () => {
    const payment = await createPayment(up.stripe);
    up.emulator.control.injectFault({ method: 'GET', path: '/v1/payment_intents/*', kind: 'error', status: 500, times: 10 });
    problem(await up.http.get(`/v1/payments/${payment.intent}`).set(auth()), 502, 'upstream_error');
  });

  it('when Stripe answers an unmappable 400, then it is 502 upstream_error and says nothing of Stripe’s message', async () => {
    const payment = await createPayment(up.stripe);
    up.emulator.control.injectFault({ method: 'POST', path: '/v1/refunds', kind: 'error', status: 400, code: 'parameter_unknown', message: 'Received unknown parameter: sk_test_leak' });
    const res = await refund({ charge: payment.charge }, `k-400-${payment.intent}`);
    problem(res, 502, 'upstream_error');
  });

  it('when Stripe rate-limits twice and then answers, then the gateway retries with the same key and the caller gets 201', async () => {
    const payment = await createPayment(up.stripe, { amount: 4000 });
    up.emulator.control.injectFault({ method: 'POST', path: '/v1/refunds', kind: 'rate_limit', times: 2 });
    const res = await refund({ charge: payment.charge, amount: 1500 }, `k-429-${payment.intent}`);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ amount: 1500, charge: payment.charge, status: 'succeeded' });
    const mine = refundPosts(up.emulator).filter((p) => p.body.charge === payment.charge);
    expect(mine.map((p) => p.status)).toEqual([429, 429, 200]);
    expect(new Set(mine.map((p) => p.idempotency_key)).size).toBe(1);
  });

  it('when Stripe rate-limits with Retry-After: 1, then the gateway waits that second (not its shorter backoff) before the retry', async () => {
    const payment = await createPayment(up.stripe, { amount: 4000 });
    up.emulator.control.injectFault({ method: 'POST', path: '/v1/refunds', kind: 'rate_limit', retry_after: 1, times: 1 });
    const started = Date.now();
    const res = await refund({ charge: payment.charge, amount: 500 }, `k-429ra-${payment.intent}`);
    expect(res.status).toBe(201);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(refundPosts(up.emulator).filter((p) => p.body.charge === payment.charge).map((p) => p.status)).toEqual([429, 200]);
  });

  it('when Stripe asks to wait longer than the gateway will, then the caller gets 503 at once with Stripe’s retry-after', async () => {
    const payment = await createPayment(up.stripe, { amount: 4000 });
    up.emulator.control.injectFault({ method: 'POST', path: '/v1/refunds', kind: 'rate_limit', retry_after: 30, times: 5 });
    const started = Date.now();
    const res = await refund({ charge: payment.charge }, `k-429long-${payment.intent}`);
    problem(res, 503, 'upstream_unavailable');
    expect(res.headers['retry-after']).toBe('30');
    expect(Date.now() - started).toBeLessThan(3000);
    expect(refundPosts(up.emulator).filter((p) => p.body.charge === payment.charge)).toHaveLength(1);
  });

  it('when Stripe rate-limits every time, then it is 503 upstream_unavailable with retry-after, and no refund is made', async () => {
    const payment = await createPayment(up.stripe, { amount: 4000 });
    up.emulator.control.injectFault({ method: 'POST', path: '/v1/refunds', kind: 'rate_limit', times: 50 });
    const res = await refund({ charge: payment.charge }, `k-429x-${payment.intent}`);
    problem(res, 503, 'upstream_unavailable');
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    const mine = refundPosts(up.emulator).filter((p) => p.body.charge === payment.charge);
    expect(mine.map((p) => p.status)).toEqual([429, 429, 429]);
    expect((await up.stripe.refunds.list({ charge: payment.charge ?? '' })).data).toEqual([]);
  });

  it('when Stripe does not answer within STRIPE_TIMEOUT_MS, then it is 504 upstream_timeout, and a retry with the same key finds the refund Stripe made', async () => {
    const timing = await startTestGateway({ env: { STRIPE_MAX_NETWORK_RETRIES: '0', STRIPE_TIMEOUT_MS: '300' } });
    try {
      const payment = await createPayment(timing.stripe, { amount: 5000 });
      timing.emulator.control.injectFault({ method: 'POST', path: '/v1/refunds', kind: 'delay', delay_ms: 800, times: 1 });
      const key = `k-504-${payment.intent}`;
      const send = () => timing.http.post('/v1/refunds').set({ ...auth(), 'idempotency-key': key }).send({ charge: payment.charge, amount: 2000 });
      const started = Date.now();
      const res = await send();
      problem(res, 504, 'upstream_timeout');
      expect(Date.now() - started).toBeLessThan(3000);

      // Stripe finishes the slow request meanwhile; the retry reaches it with the same key and is answered from it.
      await sleep(1000);
      const retry = await send();
      expect(retry.status).toBe(201);
      expect(retry.body).toMatchObject({ amount: 2000, charge: payment.charge });
      const posts = refundPosts(timing.emulator).filter((p) => p.body.charge === payment.charge);
      expect(new Set(posts.map((p) => p.idempotency_key)).size).toBe(1);
      expect((await timing.stripe.refunds.list({ charge: payment.charge ?? '' })).data).toHaveLength(1);
    } finally {
      await timing.close();
    }
  });

  it('when the emulator is gone, then reads are 503 upstream_unavailable with retry-after', async () => {
    const emulator = await startEmulator({ port: 0 });
    const gone = await startTestGateway({ emulator, env: { STRIPE_MAX_NETWORK_RETRIES: '0' } });
    try {
      await emulator.close();
      for (const url of ['/v1/payments/pi_123', '/v1/refunds/re_123', '/v1/refunds?charge=ch_123']) {
        const res = await gone.http.get(url).set(auth());
        problem(res, 503, 'upstream_unavailable');
        expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      }
    } finally {
      await gone.close();
    }
  });
});

describe('a gateway shutting down', () => {
  it('when a request arrives on a kept-alive connection during the drain, then it is 503 overloaded problem+json with retry-after and its request id', async () => {
    const draining = await startTestGateway({ env: { STRIPE_MAX_NETWORK_RETRIES: '0' } });
    try {
      await draining.app.listen({ port: 0, host: '127.0.0.1' });
      const port = (draining.app.server.address() as AddressInfo).port;
      const payment = await createPayment(draining.stripe);
      // The first request stays in flight while the app closes, so its connection stays open for the second.
      draining.emulator.control.injectFault({ method: 'GET', path: `/v1/payment_intents/${payment.intent}`, kind: 'delay', delay_ms: 500 });
      const socket = connect(port, '127.0.0.1');
      let raw = '';
      socket.on('data', (chunk: Buffer) => (raw += chunk.toString()));
      const ended = new Promise((resolve) => socket.on('close', resolve));
      const request = (path: string, id: string) =>
        `GET ${path} HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer ${KEYS.billing}\r\nx-request-id: ${id}\r\n\r\n`;
      socket.write(request(`/v1/payments/${payment.intent}`, 'before-close'));
      await sleep(150);
      const closed = draining.app.close();
      socket.write(request('/v1/refunds', 'during-close'));
      await Promise.race([ended, sleep(5000)]);
      await closed;
      socket.destroy();

      const answers = raw.split(/(?=HTTP\/1\.1 )/);
      expect(answers).toHaveLength(2);
      expect(answers[0]).toMatch(/^HTTP\/1\.1 200 /);
      const [head = '', body = ''] = answers[1]!.split('\r\n\r\n');
      expect(head).toMatch(/^HTTP\/1\.1 503 /);
      expect(head).toMatch(/^content-type: application\/problem\+json/im);
      expect(head).toMatch(/^x-request-id: during-close\r?$/im);
      expect(head).toMatch(/^retry-after: \d+\r?$/im);
      expect(JSON.parse(body)).toMatchObject({ status: 503, code: 'overloaded', request_id: 'during-close' });
    } finally {
      await draining.close();
    }
  });
});

describe('a failure inside the gateway', () => {
  it('when the ledger fails in a way the gateway does not expect (a bug: it was closed under it), then the answer is 500 internal_error with nothing internal in it', async () => {
    const ledger = await newTestLedger();
    const broken = await startTestGateway({ ledger });
    try {
      const payment = await createPayment(broken.stripe);
      await ledger.close();
      const res = await broken.http.post('/v1/refunds').set({ ...auth(), 'idempotency-key': 'k-ledger-gone' }).send({ charge: payment.charge });
      const body = problem(res, 500, 'internal_error');
      expect(Object.keys(body).sort()).toEqual(['code', 'detail', 'request_id', 'status', 'title', 'type']);
      expect(refundPosts(broken.emulator)).toEqual([]);
    } finally {
      await broken.close();
    }
  });
});
