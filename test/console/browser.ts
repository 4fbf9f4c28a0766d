// Browser tests of the console: Debian's headless Chromium driven by playwright-core, against a real seeded gateway.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { CHROMIUM_PATH, launchBrowser } from '../helpers/browser.js';
import { startTestGateway, type TestGateway, type TestGatewayOptions } from '../helpers/gateway.js';

export const CHROMIUM = CHROMIUM_PATH;
const ARTIFACTS = fileURLToPath(new URL('../../artifacts/console/', import.meta.url));

/** The one launch of Debian's Chromium for every browser test (flags and path in test/helpers/browser.ts). */
export const launchChromium = (): Promise<Browser> => launchBrowser();

export interface ConsoleGateway {
  gw: TestGateway;
  /** http://127.0.0.1:port */
  origin: string;
  close(): Promise<void>;
}

/** The real app (buildApp) on a seeded emulator, listening on a loopback port for the browser. */
export async function startConsoleGateway(options: TestGatewayOptions = {}): Promise<ConsoleGateway> {
  const gw = await startTestGateway({ seed: true, ...options });
  const address = await gw.app.listen({ port: 0, host: '127.0.0.1' });
  return { gw, origin: address, close: () => gw.close() };
}

export interface ConsolePage {
  page: Page;
  context: BrowserContext;
  /** Every request the page made, in order. */
  requests: Request[];
  /** Requests to a path, e.g. ('POST', '/v1/refunds'). */
  requestsTo(method: string, path: string): Request[];
  /** What went wrong in the page: uncaught errors, CSP violations, requests to another origin. Empty when all is well. */
  faults(): Promise<string[]>;
  close(): Promise<void>;
}

export async function openConsole(browser: Browser, origin: string, viewport = { width: 1280, height: 800 }): Promise<ConsolePage> {
  const context = await browser.newContext({ viewport, locale: 'en-US', timezoneId: 'UTC', acceptDownloads: true });
  context.setDefaultTimeout(15_000);
  // CSP violations are reported to the page as events; keep them where the test can read them.
  // (A string, as the test project has no DOM types: this runs in the page.)
  await context.addInitScript({
    content: `window.__cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));`,
  });
  const page = await context.newPage();
  const requests: Request[] = [];
  const errors: string[] = [];
  page.on('request', (request) => requests.push(request));
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (/Content Security Policy|Trusted Type/i.test(message.text())) errors.push(`console: ${message.text()}`);
  });
  await page.goto(`${origin}/console`);
  return {
    page,
    context,
    requests,
    requestsTo: (method, path) => requests.filter((r) => r.method() === method && new URL(r.url()).pathname === path),
    async faults() {
      const violations = ((await page.evaluate('window.__cspViolations').catch(() => [])) ?? []) as string[];
      const foreign = requests.map((r) => r.url()).filter((url) => !url.startsWith(`${origin}/`) && !url.startsWith('blob:'));
      return [...errors, ...violations.map((v) => `CSP violation: ${v}`), ...foreign.map((url) => `request to another origin: ${url}`)];
    },
    close: () => context.close(),
  };
}

/** Saves a screenshot of what the operator sees under artifacts/console/ (gitignored), for people to look at. */
export async function screenshot(page: Page, name: string, fullPage = false): Promise<void> {
  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage });
}

export async function signIn(page: Page, key: string): Promise<void> {
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
}

export async function findPayment(page: Page, id: string): Promise<void> {
  await page.getByLabel('Charge or PaymentIntent id').fill(id);
  await page.getByRole('button', { name: 'Find', exact: true }).click();
  await page.getByRole('heading', { level: 2, name: new RegExp(`${id}$`) }).waitFor();
}

/** Waits until a status message with this text is shown, and returns its whole text. */
export async function statusText(page: Page, text: string | RegExp): Promise<string> {
  const status = page.getByRole('status').filter({ hasText: text });
  await status.first().waitFor();
  return (await status.first().textContent()) ?? '';
}

/** The text of one figure of the payment picture (Refunded, Refundable, …). */
export const figure = async (page: Page, name: string): Promise<string> =>
  ((await page.locator('dl.picture div').filter({ has: page.locator('dt', { hasText: new RegExp(`^${name}$`) }) }).locator('dd').textContent()) ?? '').trim();

export interface ConsoleHarness {
  readonly server: ConsoleGateway;
  readonly tab: ConsolePage;
  /** A fresh gateway (e.g. with other settings) and tab (e.g. another window size) for the running test. */
  restart(options?: TestGatewayOptions, viewport?: { width: number; height: number }): Promise<void>;
}

/**
 * One Chromium per test file; per test a fresh seeded gateway and a fresh tab (its own sessionStorage). After each
 * test the page must not have broken its CSP, thrown, or reached another origin, whatever the flow checked.
 */
export function useConsole(options: TestGatewayOptions = {}): ConsoleHarness {
  let browser: Browser | undefined;
  let server: ConsoleGateway | undefined;
  let tab: ConsolePage | undefined;
  const start = async (gatewayOptions: TestGatewayOptions, viewport?: { width: number; height: number }) => {
    server = await startConsoleGateway(gatewayOptions);
    tab = await openConsole(browser!, server.origin, viewport);
  };
  const stop = async (): Promise<string[]> => {
    const faults = tab ? await tab.faults() : [];
    await tab?.close();
    await server?.close();
    tab = undefined;
    server = undefined;
    return faults;
  };
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });
  beforeEach(() => start(options));
  afterEach(async () => {
    expect(await stop()).toEqual([]);
  });
  return {
    get server() {
      if (!server) throw new Error('no console gateway: use it inside a test');
      return server;
    },
    get tab() {
      if (!tab) throw new Error('no console tab: use it inside a test');
      return tab;
    },
    async restart(gatewayOptions = options, viewport) {
      expect(await stop()).toEqual([]);
      await start(gatewayOptions, viewport);
    },
  };
}
