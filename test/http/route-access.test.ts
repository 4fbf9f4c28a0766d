// Authentication fails closed: every registered /v1 route declares a scope or is declared public, and one that does neither refuses everyone.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig, SCOPES } from '../../src/config.js';
import type { Ledger } from '../../src/refunds/ledger.js';
import { API_KEYS, auth, KEYS, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { newTestLedger } from '../helpers/ledger.js';

/** The /v1 routes meant to take no API key. A new one must be added here on purpose. */
const PUBLIC_ROUTES: ReadonlySet<string> = new Set<string>([
  // Stripe proves itself by signature instead (contract: "no bearer key; Stripe's signature instead").
  'POST /v1/webhooks/stripe',
]);

/**
 * Every method and path template the router holds, read from `printRoutes({ commonPrefix: false })`: each line is one
 * node, its depth given by its indentation (4 characters a level), its path the segments of the nodes above it.
 */
function registeredRoutes(app: FastifyInstance): { method: string; url: string }[] {
  const routes: { method: string; url: string }[] = [];
  const parents: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^([│ ]*)(?:├── |└── )(.+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) continue;
    const depth = (match[1] ?? '').length / 4;
    const url = (parents[depth - 1] ?? '') + (match[2] ?? '');
    parents[depth] = url;
    parents.length = depth + 1;
    for (const method of (match[3] ?? '').split(',').map((m) => m.trim()).filter(Boolean)) routes.push({ method, url });
  }
  return routes;
}

/** A caller holding every scope there is (the test callers' billing lacks refunds:approve). */
const EVERY_SCOPE_KEY = 'every-scope-key-0123456789abcdef';

/** A concrete path for a template: path parameters get a value that is no id, so nothing reaches Stripe. */
const concrete = (url: string): string => url.replace(/:[^/]+/g, 'x');

describe('every registered /v1 route', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({
      env: { API_KEYS: JSON.stringify([...API_KEYS, { id: 'every-scope', key: EVERY_SCOPE_KEY, scopes: [...SCOPES] }]) },
    });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('when the router is read, then it holds the /v1 routes the contract names (the walk below walks something)', () => {
    const names = registeredRoutes(gw.app).map((r) => `${r.method} ${r.url}`);
    expect(names).toEqual(
      expect.arrayContaining([
        'POST /v1/refunds',
        'GET /v1/refunds',
        'GET /v1/refunds/:id',
        'GET /v1/payments/:id',
        'POST /v1/payment-intents/:id/cancel',
        'POST /v1/webhooks/stripe',
        'POST /v1/refunds/preview',
        'GET /v1/refund-requests',
        'GET /v1/refund-requests/:id',
        'POST /v1/refund-requests/:id/approve',
        'POST /v1/refund-requests/:id/reject',
        'POST /v1/refund-batches',
        'GET /v1/refund-batches/:id',
        'GET /v1/refund-batches/:id/items',
        'POST /v1/refund-batches/:id/cancel',
        'GET /healthz',
      ]),
    );
  });

  it('when each /v1 route is called without a key and with a key holding every scope, then it is 401 and then past authentication, unless it is declared public', async () => {
    const api = registeredRoutes(gw.app).filter((r) => r.url.startsWith('/v1/'));
    expect(api.length).toBeGreaterThanOrEqual(7);
    const seen: Record<string, { anonymous: number; fullScope: number }> = {};
    for (const { method, url } of api) {
      const path = concrete(url);
      const anonymous = await gw.app.inject({ method: method as 'GET', url: path });
      const fullScope = await gw.app.inject({ method: method as 'GET', url: path, headers: auth(EVERY_SCOPE_KEY) });
      seen[`${method} ${url}`] = { anonymous: anonymous.statusCode, fullScope: fullScope.statusCode };
    }
    for (const [route, { anonymous, fullScope }] of Object.entries(seen)) {
      // A key with every scope is refused only by a route that declares none: the fail-closed answer is 403.
      expect({ route, fullScope: [401, 403].includes(fullScope) }).toEqual({ route, fullScope: false });
      expect({ route, anonymous: anonymous === 401 }).toEqual({ route, anonymous: !PUBLIC_ROUTES.has(route) });
    }
  });
});

describe('a /v1 route that forgets its scope', () => {
  let app: FastifyInstance;
  let ledger: Ledger;
  beforeAll(async () => {
    const loaded = loadConfig({
      STRIPE_SECRET_KEY: 'sk_test_gateway',
      // Nothing here reaches Stripe: these routes never call it.
      STRIPE_API_BASE: 'http://127.0.0.1:9',
      API_KEYS: JSON.stringify(API_KEYS),
      LOG_LEVEL: 'silent',
      MAX_EVENT_LOOP_DELAY_MS: '0',
    });
    if (!loaded.ok) throw new Error(loaded.problems.join('; '));
    ledger = await newTestLedger();
    app = await buildApp(loaded.config, { ledger, logger: false });
    // Registered as a later plugin would register them: after buildApp, before the app is ready.
    app.get('/v1/forgot-scope', async () => ({ secret: 'should never be served' }));
    app.post('/v1/webhooks/test', { config: { public: true } }, async () => ({ received: true }));
    app.get('/not-api', async () => ({ open: true }));
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await ledger?.close();
  });

  it('when it is called without a key, then 401 unauthenticated', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/forgot-scope' });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ code: 'unauthenticated' });
  });

  it('when it is called with a key holding every scope, then 403 forbidden, and nothing of the route is served', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/forgot-scope', headers: auth(KEYS.billing) });
    expect(res.statusCode).toBe(403);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ code: 'forbidden', detail: expect.stringMatching(/declares no scope/) });
    expect(res.body).not.toContain('should never be served');
  });

  it('when a /v1 route is declared public, then it answers without a key', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/webhooks/test', payload: {} });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ received: true });
  });

  it('when a public /v1 route gets a body that is not JSON, then it is still 400 validation_error', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/webhooks/test', payload: '{', headers: { 'content-type': 'application/json' } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'validation_error' });
  });

  it('when a route outside /v1 declares no scope, then it takes no key (operations and docs)', async () => {
    const res = await app.inject({ method: 'GET', url: '/not-api' });
    expect(res.statusCode).toBe(200);
  });
});
