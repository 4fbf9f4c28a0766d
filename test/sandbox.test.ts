// Sandbox mode: the generated key, the x-gateway-mode header, the demo payments, and the process refusing bad configurations before it listens.
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import supertest from 'supertest';
import type { FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { DEMO_PAYMENTS } from '../src/emulator/seed.js';
import { sandboxBanner, startSandbox, type Sandbox } from '../src/sandbox.js';
import { auth, startTestGateway } from './helpers/gateway.js';
import { newTestLedger } from './helpers/ledger.js';

const root = fileURLToPath(new URL('../', import.meta.url));

interface RunningSandbox {
  sandbox: Sandbox;
  app: FastifyInstance;
  http: supertest.Agent;
  banner: string[];
  close(): Promise<void>;
}

/** A sandbox as `npm run sandbox` builds it (on a test ledger, to stay quick); each test gets fresh demo payments. */
async function openSandbox(env: Record<string, string> = {}): Promise<RunningSandbox> {
  // Load shedding off: several apps share this test process, and one's PGlite start-up lags the others' event loop
  // (test/http/load-shedding.test.ts covers shedding itself).
  const loaded = loadConfig({ SANDBOX: 'true', LOG_LEVEL: 'silent', MAX_EVENT_LOOP_DELAY_MS: '0', ...env });
  if (!loaded.ok) throw new Error(loaded.problems.join('; '));
  const sandbox = await startSandbox(loaded.config);
  const ledger = await newTestLedger();
  const app = await buildApp(sandbox.config, { ledger, logger: false });
  await app.ready();
  return {
    sandbox,
    app,
    http: supertest.agent(app.server),
    banner: sandboxBanner(sandbox, 'http://127.0.0.1:3000'),
    async close() {
      await app.close();
      await ledger.close();
      await sandbox.close();
    },
  };
}

const keyOf = (banner: string[], label = 'sandbox api key: '): string => {
  const line = banner.find((l) => l.startsWith(label));
  if (!line) throw new Error(`no ${label} in the banner:\n${banner.join('\n')}`);
  return line.slice(label.length);
};
const approverKeyOf = (banner: string[]): string => keyOf(banner, 'sandbox approver key: ');

/** What each demo payment's description promises a caller who wants the money back. */
const NEXT_STEP: Record<string, 'refund' | 'cancel' | 'none'> = {
  pi_DemoSucceeded: 'refund',
  pi_DemoPartlyRefunded: 'refund',
  pi_DemoFullyRefunded: 'none',
  pi_DemoDisputed: 'none',
  pi_DemoRequiresCapture: 'cancel',
  pi_DemoRequiresAction: 'cancel',
  pi_DemoProcessing: 'none',
  pi_DemoCanceled: 'none',
  // Declined: back in requires_payment_method, which the contract lists as cancelable; nothing to refund.
  pi_DemoDeclined: 'cancel',
  pi_DemoJpy: 'refund',
  pi_DemoPendingRefund: 'refund',
  pi_DemoRefundFails: 'refund',
};

describe('sandbox mode, in process', () => {
  it('when API_KEYS is unset, then a key and its approver twin are generated, each printed on a line of its own, and the key opens every route', async () => {
    const sbx = await openSandbox();
    try {
      const key = keyOf(sbx.banner);
      const approver = approverKeyOf(sbx.banner);
      expect(key).toBe(sbx.sandbox.generatedKey);
      expect(approver).toBe(sbx.sandbox.generatedApproverKey);
      expect(key).toMatch(/^\S{20,}$/);
      expect(approver).toMatch(/^\S{20,}$/);
      expect(approver).not.toBe(key);
      expect(sbx.banner.filter((l) => l.includes(key))).toEqual([`sandbox api key: ${key}`]);
      expect(sbx.banner.filter((l) => l.includes(approver))).toEqual([`sandbox approver key: ${approver}`]);
      expect(sbx.sandbox.config.apiKeys.map((k) => [k.id, [...k.scopes].sort()])).toEqual([
        ['sandbox', ['payment_intents:write', 'refunds:read', 'refunds:write']],
        ['sandbox-approver', ['refunds:approve', 'refunds:read']],
      ]);

      expect((await sbx.http.get('/v1/refunds').set(auth(key))).status).toBe(200);
      const cancel = await sbx.http.post('/v1/payment-intents/pi_DemoRequiresCapture/cancel').set(auth(key));
      expect(cancel.status).toBe(200);
      expect(cancel.body).toMatchObject({ id: 'pi_DemoRequiresCapture', status: 'canceled' });
      expect((await sbx.http.get('/v1/refunds').set(auth('sbx_not-the-key'))).status).toBe(401);
    } finally {
      await sbx.close();
    }
  });

  it('when the tour asks for more than $50.00 back, then it becomes a refund request that the approver key approves, and the refund is made', async () => {
    const sbx = await openSandbox();
    try {
      const key = keyOf(sbx.banner);
      const approver = approverKeyOf(sbx.banner);
      const asked = await sbx.http
        .post('/v1/refunds')
        .set({ ...auth(key), 'idempotency-key': 'tour-approval' })
        .send({ payment_intent: 'pi_DemoPartlyRefunded' });
      expect(asked.status).toBe(202);
      expect(asked.body).toMatchObject({ status: 'awaiting_approval', amount: 7500, currency: 'usd', requested_by: 'sandbox' });
      // The caller cannot approve its own request; the approver cannot refund.
      expect((await sbx.http.post(`/v1/refund-requests/${asked.body.id}/approve`).set(auth(key))).status).toBe(403);
      expect((await sbx.http.post('/v1/refunds').set({ ...auth(approver), 'idempotency-key': 'x' }).send({ payment_intent: 'pi_DemoSucceeded' })).status).toBe(403);
      const waiting = await sbx.http.get('/v1/refund-requests?status=awaiting_approval').set(auth(approver));
      expect(waiting.body.data.map((r: { id: string }) => r.id)).toEqual([asked.body.id]);

      const approved = await sbx.http.post(`/v1/refund-requests/${asked.body.id}/approve`).set(auth(approver)).send({ note: 'tour' });
      expect(approved.status).toBe(200);
      expect(approved.body).toMatchObject({ status: 'approved', decided_by: 'sandbox-approver', refund: { amount: 7500, requested_by: 'sandbox' } });
      const after = await sbx.http.get('/v1/payments/pi_DemoPartlyRefunded').set(auth(key));
      expect(after.body).toMatchObject({ refundable_amount: 0, next_step: 'none' });
      // $50.00 is not above the threshold: the whole of pi_DemoSucceeded is refunded at once.
      const direct = await sbx.http.post('/v1/refunds').set({ ...auth(key), 'idempotency-key': 'tour-direct' }).send({ payment_intent: 'pi_DemoSucceeded' });
      expect(direct.status).toBe(201);
    } finally {
      await sbx.close();
    }
  });

  it('when two sandboxes start, then each generates its own key and neither opens the other', async () => {
    const [a, b] = await Promise.all([openSandbox(), openSandbox()]);
    try {
      expect(keyOf(a.banner)).not.toBe(keyOf(b.banner));
      expect((await a.http.get('/v1/refunds').set(auth(keyOf(b.banner)))).status).toBe(401);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('when API_KEYS is set, then no key is generated or printed and the configured keys are the ones that work', async () => {
    const sbx = await openSandbox({ API_KEYS: JSON.stringify([{ id: 'dev', key: 'dev-key-0123456789abcdef', scopes: ['refunds:read'] }]) });
    try {
      expect(sbx.sandbox.generatedKey).toBeUndefined();
      expect(sbx.sandbox.generatedApproverKey).toBeUndefined();
      expect(sbx.banner.some((l) => l.startsWith('sandbox api key:') || l.startsWith('sandbox approver key:'))).toBe(false);
      expect((await sbx.http.get('/v1/refunds').set(auth('dev-key-0123456789abcdef'))).status).toBe(200);
    } finally {
      await sbx.close();
    }
  });

  it('when anything is asked for, then every answer carries x-gateway-mode: sandbox', async () => {
    const sbx = await openSandbox();
    try {
      const key = keyOf(sbx.banner);
      const answers = [
        await sbx.http.get('/healthz'),
        await sbx.http.get('/readyz'),
        await sbx.http.get('/docs'),
        await sbx.http.get('/openapi.json'),
        await sbx.http.get('/no-such-route'),
        await sbx.http.delete('/v1/refunds'),
        await sbx.http.get('/v1/refunds'),
        await sbx.http.get('/v1/payments/re_bad').set(auth(key)),
        await sbx.http.get('/v1/payments/pi_DemoSucceeded').set(auth(key)),
        await sbx.http.post('/v1/refunds').set({ ...auth(key), 'content-type': 'text/plain' }).send('x'),
      ];
      expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 404, 405, 401, 400, 200, 415]);
      for (const res of answers) expect(res.headers['x-gateway-mode']).toBe('sandbox');
    } finally {
      await sbx.close();
    }
  });

  it('when the gateway is not in sandbox mode, then no answer says it is', async () => {
    const gw = await startTestGateway();
    try {
      for (const res of [await gw.http.get('/healthz'), await gw.http.get('/v1/refunds').set(auth())]) {
        expect(res.headers['x-gateway-mode']).toBeUndefined();
      }
    } finally {
      await gw.close();
    }
  });

  it('when the banner is printed, then it lists every demo payment with what it shows and where Swagger UI is', async () => {
    const sbx = await openSandbox();
    try {
      const text = sbx.banner.join('\n');
      expect(text).toContain('http://127.0.0.1:3000/docs');
      for (const demo of DEMO_PAYMENTS) expect(text).toContain(`${demo.id}`);
      for (const demo of DEMO_PAYMENTS) expect(text).toContain(demo.description);
    } finally {
      await sbx.close();
    }
  });

  it('when each demo payment is read, then next_step is what its description implies', async () => {
    expect(Object.keys(NEXT_STEP).sort()).toEqual(DEMO_PAYMENTS.map((p) => p.id).sort());
    const sbx = await openSandbox();
    try {
      const key = keyOf(sbx.banner);
      const seen: Record<string, unknown> = {};
      for (const demo of DEMO_PAYMENTS) {
        const res = await sbx.http.get(`/v1/payments/${demo.id}`).set(auth(key));
        expect({ id: demo.id, status: res.status }).toEqual({ id: demo.id, status: 200 });
        seen[demo.id] = res.body.next_step;
        expect(res.body.id).toBe(demo.id);
        expect(res.body.charge).toBe(demo.chargeId);
      }
      expect(seen).toEqual(NEXT_STEP);
    } finally {
      await sbx.close();
    }
  });

  it('when the demos with money left are read, then their amounts match their descriptions', async () => {
    const sbx = await openSandbox();
    try {
      const key = keyOf(sbx.banner);
      const read = async (id: string) => (await sbx.http.get(`/v1/payments/${id}`).set(auth(key))).body as Record<string, unknown>;
      expect(await read('pi_DemoPartlyRefunded')).toMatchObject({ amount: 10_000, amount_refunded: 2500, refundable_amount: 7500, refundable: true });
      expect(await read('pi_DemoFullyRefunded')).toMatchObject({ amount: 4000, refundable_amount: 0, refundable: false });
      expect(await read('pi_DemoDisputed')).toMatchObject({ refundable: false, next_step: 'none' });
      expect(await read('pi_DemoJpy')).toMatchObject({ amount: 5000, currency: 'jpy', refundable_amount: 5000 });
      expect(await read('ch_DemoRequiresCapture')).toMatchObject({ type: 'charge', next_step: 'cancel', payment_intent: 'pi_DemoRequiresCapture' });
    } finally {
      await sbx.close();
    }
  });

  it('when the succeeded demo is refunded in part, then it is 201, stamped with the sandbox caller, and the rest is still refundable', async () => {
    const sbx = await openSandbox();
    try {
      const key = keyOf(sbx.banner);
      const res = await sbx.http
        .post('/v1/refunds')
        .set({ ...auth(key), 'idempotency-key': 'sandbox-demo-1' })
        .send({ payment_intent: 'pi_DemoSucceeded', amount: 1000, metadata: { order: '42' } });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        amount: 1000,
        currency: 'usd',
        status: 'succeeded',
        charge: 'ch_DemoSucceeded',
        payment_intent: 'pi_DemoSucceeded',
        metadata: { order: '42' },
        requested_by: 'sandbox',
      });
      const after = await sbx.http.get('/v1/payments/pi_DemoSucceeded').set(auth(key));
      expect(after.body).toMatchObject({ amount_refunded: 1000, refundable_amount: 4000, next_step: 'refund' });
      expect(after.body.refunds.map((r: { id: string }) => r.id)).toContain(res.body.id);
    } finally {
      await sbx.close();
    }
  });

  it('when the sandbox gateway listens and its webhooks are connected, then the unfiltered list holds the demo refunds and the failing one says failed unread', async () => {
    const sbx = await openSandbox();
    try {
      const key = keyOf(sbx.banner);
      await sbx.app.listen({ port: 0, host: '127.0.0.1' });
      const port = (sbx.app.server.address() as AddressInfo).port;
      expect(sbx.sandbox.config.webhookSecret).toMatch(/^whsec_[0-9a-f]{48}$/);

      await sbx.sandbox.connectWebhooks(`http://127.0.0.1:${port}`);

      const list = await sbx.http.get('/v1/refunds').set(auth(key));
      const byId = new Map((list.body.data as { id: string; status: string; requested_by: string | null; charge: string }[]).map((r) => [r.id, r]));
      expect([...byId.keys()]).toEqual(expect.arrayContaining(['re_DemoPartlyRefunded', 're_DemoFullyRefunded', 're_DemoPendingRefund', 're_DemoRefundFails']));
      // The release of pi_DemoCanceled's authorisation is a refund too, made by Stripe.
      expect([...byId.values()].some((r) => r.charge === 'ch_DemoCanceled')).toBe(true);
      expect(byId.get('re_DemoRefundFails')).toMatchObject({ status: 'failed', requested_by: null });
      expect([...byId.values()].every((r) => r.requested_by === null)).toBe(true);
      // Failed is final: the list answered from the index, nobody asked Stripe for that refund.
      expect(sbx.sandbox.emulatorUrl).toMatch(/^http:/);
      const reads = await fetch(`${sbx.sandbox.emulatorUrl}/_emulator/requests?method=GET&path=/v1/refunds/re_DemoRefundFails`);
      expect(((await reads.json()) as { data: unknown[] }).data).toEqual([]);
    } finally {
      await sbx.close();
    }
  });
});

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `tsx src/server.ts` with only the given environment (and PATH); killed after `ms` if still running. */
function runServer(env: Record<string, string>, ms = 20_000, onStdout?: (text: string, kill: () => void) => void): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(`${root}node_modules/.bin/tsx`, ['src/server.ts'], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const kill = () => child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      onStdout?.(stdout, kill);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

const configLines = (exit: Exit) => exit.stderr.split('\n').filter((l) => l.startsWith('config: '));
const listened = (exit: Exit) => /listening/i.test(exit.stdout + exit.stderr);

describe('the process, started with a bad configuration', () => {
  it('when neither STRIPE_SECRET_KEY nor SANDBOX is set, then it exits non-zero before listening, one config line per problem, and no sandbox', async () => {
    const exit = await runServer({ PORT: '0' });
    expect(exit.signal).toBeNull();
    expect(exit.code).not.toBe(0);
    expect(configLines(exit)).toEqual([
      'config: STRIPE_SECRET_KEY: is required (or set SANDBOX=true to use the built-in Stripe emulator)',
      'config: API_KEYS: is required outside sandbox mode',
    ]);
    expect(listened(exit)).toBe(false);
    expect(exit.stdout).not.toMatch(/sandbox/i);
  });

  it('when SANDBOX=true comes with a Stripe key, then it exits non-zero before listening with one config line, not echoing the key', async () => {
    const exit = await runServer({ SANDBOX: 'true', STRIPE_SECRET_KEY: 'sk_test_x', PORT: '0' });
    expect(exit.code).not.toBe(0);
    expect(exit.signal).toBeNull();
    expect(configLines(exit)).toEqual(['config: SANDBOX: SANDBOX=true cannot be combined with STRIPE_SECRET_KEY']);
    expect(listened(exit)).toBe(false);
    expect(exit.stdout).not.toContain('sandbox api key');
  });

  it('when a live key comes with a non-Stripe STRIPE_API_BASE, then it exits non-zero before listening with one config line, not echoing the key', async () => {
    const exit = await runServer({
      STRIPE_SECRET_KEY: 'sk_live_doNotSendMeAnywhere123',
      STRIPE_API_BASE: 'http://127.0.0.1:12111',
      API_KEYS: JSON.stringify([{ id: 'billing', key: 'billing-key-0123456789abcdef', scopes: ['refunds:read'] }]),
      PORT: '0',
    });
    expect(exit.code).not.toBe(0);
    expect(exit.signal).toBeNull();
    expect(configLines(exit)).toEqual(['config: STRIPE_API_BASE: a live Stripe key is only ever sent to Stripe itself']);
    expect(listened(exit)).toBe(false);
    expect(exit.stdout + exit.stderr).not.toContain('doNotSendMeAnywhere');
  });

  it('when SANDBOX has a value that is not a boolean, then it exits non-zero with a config line for it', async () => {
    const exit = await runServer({ SANDBOX: 'yes', PORT: '0' });
    expect(exit.code).not.toBe(0);
    expect(configLines(exit).some((l) => l.startsWith('config: SANDBOX: '))).toBe(true);
    expect(listened(exit)).toBe(false);
  });
});

describe('the process, when starting fails after the configuration was fine', () => {
  it('when the ledger cannot be reached, then it exits non-zero with one start: line, no stack, and no password', async () => {
    const exit = await runServer({
      STRIPE_SECRET_KEY: 'sk_test_x',
      API_KEYS: JSON.stringify([{ id: 'billing', key: 'billing-key-0123456789abcdef', scopes: ['refunds:read'] }]),
      DATABASE_URL: 'postgres://gateway:s3cretPassw0rd@127.0.0.1:1/ledger',
      PORT: '0',
    });
    expect(exit.code).toBe(1);
    const lines = exit.stderr.split('\n').filter((l) => l.trim() !== '');
    expect(lines).toEqual([expect.stringMatching(/^start: .*ledger.*ECONNREFUSED/)]);
    expect(exit.stdout + exit.stderr).not.toContain('s3cretPassw0rd');
    expect(listened(exit)).toBe(false);
  });

  it('when the port is taken, then the sandbox exits non-zero with one start: line naming the address, and prints no key', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const port = (blocker.address() as AddressInfo).port;
      const exit = await runServer({ SANDBOX: 'true', HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn' }, 40_000);
      expect(exit.code).toBe(1);
      expect(exit.stderr.split('\n').filter((l) => l.startsWith('start: '))).toEqual([expect.stringContaining(`127.0.0.1:${port}`)]);
      expect(exit.stderr).not.toMatch(/^\s+at /m);
      expect(exit.stdout).not.toContain('sandbox api key');
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  }, 60_000);
});

describe('the process, started as `npm run sandbox`', () => {
  it('when SANDBOX=true, then it prints the key once on a line of its own, serves the demo payments and lists their refunds with it, and exits cleanly on SIGTERM', async () => {
    let served: { status: number; mode: string | null; body: Record<string, unknown> } | undefined;
    let listed: { id: string; status: string }[] | undefined;
    let probing = false;
    // HOST unset, as `npm run sandbox` is usually started: the sandbox must still listen on loopback only.
    const exit = await runServer({ SANDBOX: 'true', PORT: '0' }, 40_000, (stdout, kill) => {
      const key = /^sandbox api key: (\S+)$/m.exec(stdout)?.[1];
      const url = /Swagger UI:\s+(http:\/\/\S+)\/docs/.exec(stdout)?.[1];
      if (!key || !url || probing) return;
      probing = true;
      // Right after the banner: the demo refunds came by the emulator's webhooks before it was printed.
      void fetch(`${url}/v1/refunds`, { headers: auth(key) })
        .then(async (res) => (listed = ((await res.json()) as { data: { id: string; status: string }[] }).data))
        .then(() => fetch(`${url}/v1/payments/pi_DemoSucceeded`, { headers: auth(key) }))
        .then(async (res) => (served = { status: res.status, mode: res.headers.get('x-gateway-mode'), body: (await res.json()) as Record<string, unknown> }))
        .finally(kill);
    });
    expect(served).toMatchObject({ status: 200, mode: 'sandbox', body: { id: 'pi_DemoSucceeded', next_step: 'refund' } });
    expect(listed?.map((r) => r.id)).toEqual(expect.arrayContaining(['re_DemoPartlyRefunded', 're_DemoFullyRefunded', 're_DemoPendingRefund', 're_DemoRefundFails']));
    expect(listed?.find((r) => r.id === 're_DemoRefundFails')?.status).toBe('failed');
    const key = /^sandbox api key: (\S+)$/m.exec(exit.stdout)?.[1] ?? 'missing';
    const approver = /^sandbox approver key: (\S+)$/m.exec(exit.stdout)?.[1] ?? 'missing';
    // The only keys ever printed: each once, and never in a log line.
    for (const printed of [key, approver]) {
      expect(exit.stdout.split(printed).length - 1).toBe(1);
      expect(exit.stderr).not.toContain(printed);
    }
    // Fastify logs one "Server listening at" line per address it bound (every interface's for 0.0.0.0).
    const bound = [...exit.stdout.matchAll(/Server listening at (http:\/\/[^"]+)/g)].map((m) => new URL(m[1]!).hostname);
    expect(bound.length).toBeGreaterThan(0);
    expect(new Set(bound)).toEqual(new Set(['127.0.0.1']));
    expect(exit.code).toBe(0);
  }, 60_000);
});
