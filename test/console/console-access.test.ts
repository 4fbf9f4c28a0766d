// The console in a real browser, signing in and what a key may do: sessionStorage only, scopes learnt by harmless
// calls, keyboard use, landmarks and a narrow window.
import { describe, expect, it } from 'vitest';
import { KEYS, refundPosts } from '../helpers/gateway.js';
import { findPayment, screenshot, signIn, useConsole } from './browser.js';

const h = useConsole();
const dialogNamed = (name: string) => h.tab.page.getByRole('dialog', { name });

describe('signing in', () => {
  it('when the key is unknown, then the page says so in words and keeps nothing', async () => {
    const { page } = h.tab;
    await screenshot(page, '01-sign-in');
    await page.getByLabel('API key').fill('not-a-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'The gateway does not know this key' }).waitFor();
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
  });

  it('when a key signs in, then it is kept in this tab’s sessionStorage only, survives a reload, and sign-out forgets it', async () => {
    const { page } = h.tab;
    await signIn(page, KEYS.billing);
    expect(await page.getByText('This key may: read, refund, cancel payments').count()).toBe(1);
    expect(await page.evaluate('Object.values(sessionStorage)')).toEqual([KEYS.billing]);
    expect(await page.evaluate('localStorage.length')).toBe(0);
    expect(await page.evaluate('document.cookie')).toBe('');

    await findPayment(page, 'pi_DemoSucceeded');
    await page.reload();
    // Still signed in, on the same payment (the route is in the URL's hash).
    await page.getByRole('heading', { level: 2, name: /pi_DemoSucceeded$/ }).waitFor();

    // A reload while the gateway cannot be reached keeps the key, and the operator can try again.
    await page.route('**/v1/refunds?limit=1', (route) => route.abort('connectionrefused'), { times: 1 });
    await page.reload();
    await page.getByRole('alert').filter({ hasText: 'The gateway could not be reached' }).waitFor();
    expect(await page.evaluate('Object.values(sessionStorage)')).toEqual([KEYS.billing]);
    await page.getByRole('button', { name: 'Try again' }).click();
    await page.getByRole('heading', { level: 2, name: /pi_DemoSucceeded$/ }).waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key').waitFor();
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    await page.reload();
    await page.getByLabel('API key').waitFor();
  });

  it('when every /v1 call carries the key, then it is as a Bearer token and only to /v1', async () => {
    const { page } = h.tab;
    await signIn(page, KEYS.billing);
    await findPayment(page, 'pi_DemoSucceeded');
    const api = h.tab.requests.filter((r) => new URL(r.url()).pathname.startsWith('/v1/'));
    expect(api.length).toBeGreaterThan(0);
    for (const request of api) expect(await request.headerValue('authorization')).toBe(`Bearer ${KEYS.billing}`);
    const other = h.tab.requests.filter((r) => !new URL(r.url()).pathname.startsWith('/v1/'));
    for (const request of other) expect(await request.headerValue('authorization')).toBeNull();
  });
});

describe('what a key may do decides what is shown', () => {
  it('when a read-only key looks at payments, then it sees the picture and refunds but no refund or cancel button', async () => {
    const { page } = h.tab;
    await signIn(page, KEYS.support);
    expect(await page.getByText('This key may: read', { exact: true }).count()).toBe(1);
    await findPayment(page, 'pi_DemoPartlyRefunded');
    expect(await page.locator('tr[data-refund]').count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Refund…' }).count()).toBe(0);
    await screenshot(page, '09-read-only');
    await findPayment(page, 'pi_DemoRequiresCapture');
    expect(await page.getByRole('button', { name: 'Cancel payment…' }).count()).toBe(0);
    // It learnt that from harmless calls: nothing was refunded or canceled at Stripe.
    expect(refundPosts(h.server.gw.emulator)).toHaveLength(0);
    expect(h.server.gw.emulator.control.requests({ method: 'POST' })).toHaveLength(0);
  });

  it('when a key may only cancel, then the page says it cannot read payments', async () => {
    const { page } = h.tab;
    await signIn(page, KEYS.ops);
    await page.getByText('This key may not read payments').waitFor();
  });
});

describe('keyboard, landmarks and a narrow window', () => {
  it('when the operator uses only the keyboard, then focus is visible, the dialog takes focus, and Escape gives it back', async () => {
    const { page } = h.tab;
    await page.getByLabel('API key').focus();
    await page.keyboard.type(KEYS.billing);
    await page.keyboard.press('Enter');
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    for (const role of ['banner', 'navigation', 'main'] as const) expect(await page.getByRole(role).count()).toBeGreaterThan(0);

    const tabTo = async (test: string) => {
      for (let i = 0; i < 20; i += 1) {
        await page.keyboard.press('Tab');
        if (await page.evaluate(test)) return;
      }
      throw new Error(`Tab never reached: ${test}`);
    };
    await tabTo('document.activeElement?.id === "payment-id"');
    await page.keyboard.type('pi_DemoSucceeded');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 2, name: /pi_DemoSucceeded$/ }).waitFor();
    await tabTo('document.activeElement?.textContent === "Refund…"');
    const outline = await page.evaluate('getComputedStyle(document.activeElement).outlineStyle + " " + getComputedStyle(document.activeElement).outlineWidth');
    expect(outline).toBe('solid 3px');
    await screenshot(page, '11-keyboard-focus');
    await page.keyboard.press('Enter');
    await dialogNamed('Refund pi_DemoSucceeded').waitFor();
    expect(await page.evaluate('document.activeElement?.closest("dialog") !== null')).toBe(true);
    await page.keyboard.press('Escape');
    await dialogNamed('Refund pi_DemoSucceeded').waitFor({ state: 'detached' });
    await page.waitForFunction('document.activeElement?.textContent === "Refund…"');
  });

  it('when the window is 400 px wide, then nothing needs sideways scrolling of the page and the dialog fits', async () => {
    await h.restart(undefined, { width: 400, height: 800 });
    const { page } = h.tab;
    await signIn(page, KEYS.billing);
    await findPayment(page, 'pi_DemoPartlyRefunded');
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(400);
    await screenshot(page, '12-narrow-payment', true);
    await page.getByRole('button', { name: 'Refund…' }).click();
    const box = await dialogNamed('Refund pi_DemoPartlyRefunded').boundingBox();
    expect(box && box.x >= 0 && box.x + box.width <= 400).toBe(true);
    await screenshot(page, '13-narrow-refund-dialog');
  });
});
