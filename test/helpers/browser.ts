// Headless Debian Chromium driven by playwright-core, for every browser test (Swagger UI, the console): one launch, one
// screenshot folder. Never a browser that playwright downloads: `apt-get install -y chromium` (.ci/run does it).
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Whether the browser tests can run here. Without Chromium they are skipped with a reason in their name, except on CI
 * (CI=true), where a missing browser must fail the run instead of hiding it.
 */
export const browserAvailable = existsSync(CHROMIUM_PATH) || process.env.CI === 'true';
export const browserSkipReason = browserAvailable ? '' : ` (SKIPPED: no ${CHROMIUM_PATH}; apt-get install -y chromium)`;

/**
 * The flags this machine needs: no sandbox (tests run as root), no GPU, and none of Chromium's own network traffic
 * (component updates, sync, field trials), which a closed network refuses many times a second.
 */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`No Chromium at ${CHROMIUM_PATH}: apt-get install -y chromium (never npx playwright install).`);
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

/** A new page in its own context (its own storage), sized like a laptop screen. */
export async function newPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  return context.newPage();
}

/** artifacts/ at the repository root: gitignored, kept after the run for people to look at. */
export const ARTIFACTS_DIR = fileURLToPath(new URL('../../artifacts/', import.meta.url));

/** Saves a PNG of what the page shows (or the whole page) as artifacts/<name>.png and returns its path. */
export async function saveScreenshot(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<string> {
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  const path = `${ARTIFACTS_DIR}${name}.png`;
  await page.screenshot({ path, fullPage: options.fullPage ?? false });
  return path;
}
