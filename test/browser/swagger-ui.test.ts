// Swagger UI in headless Chromium: authorise with a key, make a refund with Try it out → Execute, see the 201.
import { stat } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserAvailable, browserSkipReason, launchBrowser, newPage, saveScreenshot } from '../helpers/browser.js';
import { KEYS, refundPosts, startTestGateway, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
let browser: Browser;
let page: Page;
let docsUrl: string;

describe.skipIf(!browserAvailable)(`Swagger UI at /docs, in a browser${browserSkipReason}`, () => {
  beforeAll(async () => {
    gw = await startTestGateway({ seed: true });
    await gw.app.listen({ port: 0, host: '127.0.0.1' });
    docsUrl = `http://127.0.0.1:${(gw.app.server.address() as AddressInfo).port}/docs`;
    browser = await launchBrowser();
    page = await newPage(browser);
  });

  afterAll(async () => {
    await browser?.close();
    await gw?.close();
  });

  it('when the page opens, then every operation is listed and the refund form stays closed until "Try it out" is clicked', async () => {
    await page.goto(docsUrl);
    await page.locator('#operations-refunds-createRefund').waitFor();
    const doc = (await (await fetch(docsUrl.replace(/\/docs$/, '/openapi.json'))).json()) as { paths: Record<string, Record<string, unknown>> };
    const operations = Object.values(doc.paths).reduce((n, ops) => n + Object.keys(ops).length, 0);
    expect(await page.locator('.opblock').count()).toBe(operations);
    await page.locator('#operations-refunds-createRefund .opblock-summary-control').click();
    const operation = page.locator('#operations-refunds-createRefund');
    await operation.locator('button.try-out__btn').waitFor();
    expect(await operation.locator('button.try-out__btn').innerText()).toBe('Try it out');
    expect(await operation.locator('button.execute').count()).toBe(0);
    // Described, not "Default Response".
    expect(await operation.locator('.responses-table').first().innerText()).toContain('Refund created');
  });

  it('when a key is authorised and a refund executed from the form, then Swagger UI shows 201 with the refund, and the refund was made', async () => {
    const before = refundPosts(gw.emulator).length;

    await page.locator('.auth-wrapper button.authorize').click();
    const dialog = page.locator('.modal-ux');
    await dialog.locator('input[type="text"], input[type="password"]').first().fill(KEYS.billing);
    await dialog.locator('button.modal-btn.auth.authorize').click();
    await dialog.locator('button.btn-done').click();

    const operation = page.locator('#operations-refunds-createRefund');
    await operation.locator('button.try-out__btn').click();
    await operation.locator('tr[data-param-name="idempotency-key"] input').fill('swagger-ui-refund-1');
    await operation.locator('textarea.body-param__text').fill(JSON.stringify({ payment_intent: 'pi_DemoSucceeded', amount: 2500, metadata: { order: 'ui-42' } }, null, 2));
    await operation.locator('button.execute').click();

    const status = operation.locator('.live-responses-table tr.response .response-col_status').first();
    await status.waitFor();
    expect((await status.innerText()).trim()).toBe('201');
    const shown = await operation.locator('.live-responses-table tr.response .response-col_description').first().innerText();
    expect(shown).toMatch(/"id": "re_\w+"/);
    expect(shown).toContain('"requested_by": "billing"');
    expect(shown).toContain('"amount": 2500');
    expect(refundPosts(gw.emulator).length).toBe(before + 1);

    // The request as Swagger UI sent it (curl, with the bearer key) and the 201 it got, in one picture.
    await operation.locator('.request-url').scrollIntoViewIfNeeded();
    const file = await saveScreenshot(page, 'swagger-ui-refund-201');
    expect((await stat(file)).size).toBeGreaterThan(10_000);
  });
});
