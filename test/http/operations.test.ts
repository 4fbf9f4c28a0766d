// The operations routes over HTTP: liveness, readiness (and its cache), Prometheus metrics, Swagger UI and the OpenAPI document.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/server.js';
import { auth, createPayment, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { newTestLedger } from '../helpers/ledger.js';

let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway();
});

afterAll(async () => {
  await gw?.close();
});

/** The Stripe call the readiness check makes: listing one refund. */
const readinessReads = (g: TestGateway) => g.emulator.control.requests({ method: 'GET', path: '/v1/refunds' }).length;

describe('GET /healthz', () => {
  it('when asked without a key, then it is 200 {status: ok} with an x-request-id', async () => {
    const res = await gw.http.get('/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
    expect(res.headers['x-request-id']).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
  });
});

describe('GET /readyz', () => {
  it('when the ledger and Stripe answer, then it is 200 listing both checks as ok', async () => {
    const res = await gw.http.get('/readyz');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual({ checks: { ledger: 'ok', stripe: 'ok' } });
  });

  it('when probed again and again, then Stripe is asked at most once in a few seconds', async () => {
    await gw.http.get('/readyz');
    const before = readinessReads(gw);
    const answers = await Promise.all(Array.from({ length: 5 }, () => gw.http.get('/readyz')));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(readinessReads(gw)).toBe(before);
  });

  it('when Stripe cannot be reached, then it is 503 problem+json not_ready naming the stripe check', async () => {
    // A gateway of its own: the shared one has a cached "ok" for a few seconds.
    const emulator = await startEmulator({ port: 0 });
    const cut = await startTestGateway({ emulator, env: { STRIPE_MAX_NETWORK_RETRIES: '0' } });
    try {
      await emulator.close();
      const res = await cut.http.get('/readyz');
      expect(res.status).toBe(503);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ status: 503, code: 'not_ready', request_id: res.headers['x-request-id'] });
      expect(res.body.detail).toMatch(/stripe/);
      expect(res.body.detail).not.toMatch(/ledger/);
      expect(res.body.checks).toEqual({ ledger: 'ok', stripe: expect.stringMatching(/^failed: /) });
    } finally {
      await cut.close();
    }
  });

  it('when the ledger is gone, then it is 503 not_ready naming the ledger check, and nothing internal', async () => {
    const ledger = await newTestLedger();
    const broken = await startTestGateway({ ledger });
    try {
      await ledger.close();
      const res = await broken.http.get('/readyz');
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ code: 'not_ready', checks: { ledger: expect.stringMatching(/^failed: /), stripe: 'ok' } });
      expect(res.body.detail).toMatch(/ledger/);
      expect(res.text).not.toMatch(/SELECT|PGlite|closed|\.ts:\d+/i);
    } finally {
      await broken.close();
    }
  });
});

describe('GET /metrics', () => {
  it('when a payment was read, then the Prometheus text has the request histogram under the route template and the Stripe call', async () => {
    const payment = await createPayment(gw.stripe);
    expect((await gw.http.get(`/v1/payments/${payment.intent}`).set(auth())).status).toBe(200);
    const res = await gw.http.get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.text).toContain('# TYPE gateway_http_request_duration_seconds histogram');
    expect(res.text).toMatch(/gateway_http_request_duration_seconds_count\{method="GET",route="\/v1\/payments\/:id",status="200"\} [1-9]/);
    expect(res.text).toMatch(/gateway_stripe_call_duration_seconds_count\{operation="payment_intents\.retrieve",outcome="ok"\} [1-9]/);
    // The id itself is never a label: one series per route, not per payment.
    expect(res.text).not.toContain(payment.intent);
  });

  it('when unknown paths were asked for, then they share one series and the paths themselves are not labels', async () => {
    const path = `/no-such-route-${Date.now()}`;
    expect((await gw.http.get(path)).status).toBe(404);
    const text = (await gw.http.get('/metrics')).text;
    expect(text).not.toContain(path);
    expect(text).toMatch(/gateway_http_request_duration_seconds_count\{method="GET",route="[^"]+",status="404"\} [1-9]/);
  });
});

describe('GET /docs and /openapi.json', () => {
  it('when /docs is opened, then it is Swagger UI, and every script, stylesheet and the document it loads answer 200', async () => {
    const page = await gw.http.get('/docs');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.text).toContain('<div id="swagger-ui">');
    const assets = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => new URL(m[1]!, 'http://gw/docs').pathname);
    expect(assets).toEqual(expect.arrayContaining(['/docs/static/swagger-ui-bundle.js', '/docs/static/swagger-initializer.js', '/docs/static/swagger-ui.css']));
    for (const asset of assets) {
      const res = await gw.http.get(asset);
      expect({ asset, status: res.status }).toEqual({ asset, status: 200 });
    }
    // The initializer loads ./json relative to /docs/: the same document as /openapi.json.
    const json = await gw.http.get('/docs/json');
    expect(json.status).toBe(200);
    expect(json.body).toEqual((await gw.http.get('/openapi.json')).body);
  });

  it('when Swagger UI reads its settings, then "Try it out" is off until clicked and the key is not kept in the browser', async () => {
    // swagger-ui writes its settings into the initializer script the page loads (test/browser proves the effect).
    const res = await gw.http.get('/docs/static/swagger-initializer.js');
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/"?tryItOutEnabled"?\s*:\s*false/);
    expect(res.text).toMatch(/"?persistAuthorization"?\s*:\s*false/);
  });

  it('when /openapi.json is read, then it equals the committed openapi/openapi.json', async () => {
    const res = await gw.http.get('/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const committed = JSON.parse(await readFile(new URL('../../openapi/openapi.json', import.meta.url), 'utf8')) as unknown;
    expect(res.body).toEqual(committed);
  });

  it('when the document is read, then every /v1 operation but Stripe’s webhook asks for the bearer key, so "Authorize" in Swagger UI covers them', async () => {
    const doc = (await gw.http.get('/openapi.json')).body as {
      components: { securitySchemes: Record<string, { type: string; scheme: string }> };
      paths: Record<string, Record<string, { security?: unknown[] }>>;
    };
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    const v1 = Object.entries(doc.paths).filter(([path]) => path.startsWith('/v1/'));
    expect(v1.length).toBeGreaterThanOrEqual(4);
    for (const [path, operations] of v1) {
      for (const [method, operation] of Object.entries(operations)) {
        // The contract: every /v1 route but the webhook route needs a key; Stripe signs its deliveries instead.
        const expected = path === '/v1/webhooks/stripe' ? [] : [{ bearerAuth: [] }];
        expect({ path, method, security: operation.security }).toEqual({ path, method, security: expected });
      }
    }
  });
});

describe('every operations answer', () => {
  it.each(['/healthz', '/readyz', '/metrics', '/docs', '/docs/json', '/openapi.json'])(
    'when %s is asked for without a key, then it answers 200 with an x-request-id (the caller’s, when valid)',
    async (path) => {
      const res = await gw.http.get(path).set('x-request-id', 'ops-probe-1');
      expect(res.status).toBe(200);
      expect(res.headers['x-request-id']).toBe('ops-probe-1');
      const generated = await gw.http.get(path);
      expect(generated.headers['x-request-id']).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
    },
  );

  it('when /healthz is asked with a wrong key, then the key is ignored (operations need none)', async () => {
    const res = await gw.http.get('/healthz').set('authorization', 'Bearer wrong');
    expect(res.status).toBe(200);
  });
});
