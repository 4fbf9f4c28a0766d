// `npm run emulator`: the process reads its EMULATOR_* variables, serves the SDK, sends webhooks, refuses bad config, and exits cleanly on SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createStripeClient } from '../helpers/emulator.js';
import { flushWebhooks, startWebhookReceiver } from '../helpers/emulator-events.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const children: ChildProcess[] = [];

function run(env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/emulator/main.ts'], { cwd: repoRoot, env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return { child, output: () => output, exited };
}

async function waitFor(check: () => string | undefined, timeoutMs = 20_000): Promise<string> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

describe('the emulator process', () => {
  it('when started with EMULATOR_PORT=0, then it prints its URL, serves the SDK, and exits 0 on SIGTERM', async () => {
    const proc = run({ EMULATOR_PORT: '0', EMULATOR_HOST: '127.0.0.1' });
    const url = await waitFor(() => /listening on (http:\/\/[^\s]+)/.exec(proc.output())?.[1]);
    const stripe = createStripeClient(url, { maxNetworkRetries: 0 });
    await expect(stripe.balance.retrieve()).resolves.toMatchObject({ object: 'balance' });
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
  });

  it('when started seeded with EMULATOR_WEBHOOK_URL and _SECRET, then the seeded events reach that URL signed with that secret, and the secret is never printed', async () => {
    const receiver = await startWebhookReceiver();
    const secret = 'whsec_fromTheEnvironment0000000000000';
    try {
      const proc = run({ EMULATOR_PORT: '0', EMULATOR_SEED: 'true', EMULATOR_WEBHOOK_URL: receiver.url, EMULATOR_WEBHOOK_SECRET: secret, LOG_LEVEL: 'info' });
      const url = await waitFor(() => /listening on (http:\/\/[^\s]+)/.exec(proc.output())?.[1]);
      await flushWebhooks(url);
      const stripe = createStripeClient(url, { maxNetworkRetries: 0 });
      expect(receiver.received.length).toBeGreaterThan(10);
      for (const hook of receiver.received) expect(stripe.webhooks.constructEvent(hook.body, hook.headers['stripe-signature'] ?? '', secret).object).toBe('event');
      proc.child.kill('SIGTERM');
      expect(await proc.exited).toBe(0);
      expect(proc.output()).toContain('webhook delivery');
      expect(proc.output()).not.toContain(secret);
    } finally {
      await receiver.close();
    }
  });

  it('when EMULATOR_WEBHOOK_URL comes without its secret, then it exits non-zero naming the secret', async () => {
    const proc = run({ EMULATOR_WEBHOOK_URL: 'http://127.0.0.1:9/hook' });
    expect(await proc.exited).not.toBe(0);
    expect(proc.output()).toContain('EMULATOR_WEBHOOK_SECRET');
  });

  it('when EMULATOR_PORT is not a port, then it exits non-zero naming the variable', async () => {
    const proc = run({ EMULATOR_PORT: 'twelve' });
    expect(await proc.exited).not.toBe(0);
    expect(proc.output()).toContain('EMULATOR_PORT');
  });
});
