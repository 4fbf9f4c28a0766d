// The console in a real browser against the real gateway and the seeded emulator: finding payments, refunding them,
// cancelling an authorisation, never refunding twice, and the pending refunds.
import { describe, expect, it } from 'vitest';
import { auth, KEYS, refundPosts } from '../helpers/gateway.js';
import { injectFault } from '../helpers/emulator.js';
import { figure, findPayment, screenshot, signIn, statusText, useConsole } from './browser.js';

const h = useConsole();
const dialogNamed = (name: string) => h.tab.page.getByRole('dialog', { name });
/** The refunds the page asked for (not its sign-in probe, which sends no Idempotency-Key and is refused before any rule). */
const refundRequestsFromPage = () => h.tab.requestsTo('POST', '/v1/refunds').filter((r) => r.headers()['idempotency-key'] !== undefined);

/** Opens the refund dialog and fills it; leaves it at the confirmation (after the preview, when the gateway has one). */
async function reviewRefund(paymentId: string, fill: { amount?: string; reason?: string; metadata?: Record<string, string> } = {}) {
  const { page } = h.tab;
  await page.getByRole('button', { name: 'Refund…' }).click();
  const dialog = dialogNamed(`Refund ${paymentId}`);
  if (fill.amount !== undefined) {
    await dialog.getByLabel('Part of it').check();
    await dialog.getByLabel(/^Amount in /).fill(fill.amount);
  } else {
    await dialog.getByLabel(/^Everything left/).check();
  }
  if (fill.reason) await dialog.getByLabel('Reason').selectOption(fill.reason);
  let row = 0;
  for (const [key, value] of Object.entries(fill.metadata ?? {})) {
    row += 1;
    await dialog.getByRole('button', { name: 'Add metadata' }).click();
    await dialog.getByLabel(`Key ${row}`, { exact: true }).fill(key);
    await dialog.getByLabel(`Value ${row}`, { exact: true }).fill(value);
  }
  await dialog.getByRole('button', { name: 'Review refund' }).click();
  return dialog;
}

describe('a payment and its refunds', () => {
  it('when pi_DemoSucceeded is refunded in part and then in full, then both are listed, and a third refund is refused in words', async () => {
    const { page } = h.tab;
    await signIn(page, KEYS.billing);
    await findPayment(page, 'pi_DemoSucceeded');
    expect(await page.locator('.next-step').textContent()).toBe('Refund it: all $50.00 captured can be refunded, at once or in parts.');
    expect(await figure(page, 'Refundable')).toBe('$50.00');
    await screenshot(page, '02-payment');

    const first = await reviewRefund('pi_DemoSucceeded', { amount: '20', reason: 'duplicate', metadata: { order: '42' } });
    expect(await first.locator('[data-amount]').textContent()).toBe('$20.00');
    await screenshot(page, '03-refund-confirm');
    await first.getByRole('button', { name: /^Confirm refund of \$20\.00$/ }).click();
    expect(await statusText(page, 'Refunded $20.00')).toMatch(/^Refunded \$20\.00: refund re_\w+ is succeeded\.$/);
    await page.locator('tr[data-refund]').first().waitFor();
    await page.waitForFunction('document.querySelector("[data-field=refundable_amount]")?.textContent === "$30.00"');
    expect(await figure(page, 'Refunded')).toBe('$20.00');
    const firstRow = await page.locator('tr[data-refund]').first().innerText();
    expect(firstRow).toMatch(/\$20\.00\s+Succeeded\s+Duplicate\s+billing/);

    // What reached the gateway is what the operator asked for: the amount in minor units, the reason, the metadata.
    const listed = await h.server.gw.http.get('/v1/refunds?payment_intent=pi_DemoSucceeded').set(auth());
    expect(listed.body.data).toEqual([expect.objectContaining({ amount: 2000, currency: 'usd', reason: 'duplicate', metadata: { order: '42' }, requested_by: 'billing' })]);

    const rest = await reviewRefund('pi_DemoSucceeded');
    expect(await rest.locator('[data-amount]').textContent()).toContain('$30.00');
    await rest.getByRole('button', { name: /^Confirm refund of / }).click();
    await statusText(page, 'Refunded $30.00');
    await page.waitForFunction('document.querySelectorAll("tr[data-refund]").length === 2');
    await page.getByText('Nothing to do: it is fully refunded.').waitFor();
    expect(await figure(page, 'Refundable')).toBe('$0.00');
    await screenshot(page, '04-payment-refunded', true);

    // Nothing is left: the gateway's refusal is shown in its own words (at the preview, or when confirming without one).
    const third = await reviewRefund('pi_DemoSucceeded', { amount: '5' });
    const confirm = third.getByRole('button', { name: /^Confirm refund/ });
    if (await confirm.isVisible()) await confirm.click();
    const refusal = third.locator('[role=alert][data-code="charge_already_refunded"]');
    await refusal.waitFor();
    expect(await refusal.textContent()).toContain('Charge ch_DemoSucceeded has already been refunded in full.');
    expect(await confirm.count()).toBe(0);
    await screenshot(page, '05-refund-refused');
    expect(refundPosts(h.server.gw.emulator)).toHaveLength(2);
  });

  it('when a yen payment is refunded in part, then the amount is whole yen, shown as ¥ without decimals', async () => {
    const { page } = h.tab;
    await signIn(page, KEYS.billing);
    await findPayment(page, 'pi_DemoJpy');
    expect(await figure(page, 'Amount')).toBe('¥5,000');
    const dialog = await reviewRefund('pi_DemoJpy', { amount: '12.5' });
    expect(await dialog.getByRole('alert').textContent()).toBe('JPY has no decimals: enter a whole number.');
    await dialog.getByLabel('Amount in JPY').fill('1200');
    await dialog.getByRole('button', { name: 'Review refund' }).click();
    expect(await dialog.locator('[data-amount]').textContent()).toBe('¥1,200');
    await dialog.getByRole('button', { name: 'Confirm refund of ¥1,200' }).click();
    await statusText(page, 'Refunded ¥1,200');
    const [post] = refundPosts(h.server.gw.emulator);
    expect(post?.body).toMatchObject({ amount: '1200' });
  });

  it('when the id is malformed, then nothing is asked of the gateway; when it is unknown, then the page says so', async () => {
    const { page } = h.tab;
    await signIn(page, KEYS.billing);
    await page.getByLabel('Charge or PaymentIntent id').fill('hello');
    await page.getByRole('button', { name: 'Find', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'Enter a charge id (ch_… or py_…) or a PaymentIntent id (pi_…)' }).waitFor();
    expect(h.tab.requests.filter((r) => new URL(r.url()).pathname.startsWith('/v1/payments'))).toEqual([]);

    await page.getByLabel('Charge or PaymentIntent id').fill('pi_Nope');
    await page.getByRole('button', { name: 'Find', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'No charge or PaymentIntent pi_Nope was found.' }).waitFor();
  });
});

describe('an authorisation', () => {
  it('when pi_DemoRequiresCapture is canceled, then the picture says so and Stripe was asked once; no refund was offered', async () => {
    const { page } = h.tab;
    await signIn(page, KEYS.billing);
    await findPayment(page, 'pi_DemoRequiresCapture');
    expect(await page.locator('.next-step').textContent()).toContain('Cancel it: the payment is authorised but not captured');
    expect(await page.getByRole('button', { name: 'Refund…' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Cancel payment…' }).click();
    const dialog = dialogNamed('Cancel pi_DemoRequiresCapture');
    await dialog.getByLabel('Reason').selectOption('requested_by_customer');
    await screenshot(page, '06-cancel-dialog');
    await dialog.getByRole('button', { name: 'Cancel the payment' }).click();
    await statusText(page, 'Canceled pi_DemoRequiresCapture: the authorisation of $75.00 is released.');
    await page.getByText('Nothing to do: the payment was canceled').waitFor();
    expect(await page.locator('dl.picture .badge').first().textContent()).toBe('Canceled');
    expect(await page.getByRole('button', { name: 'Cancel payment…' }).count()).toBe(0);
    await screenshot(page, '07-canceled');
    const cancels = h.server.gw.emulator.control.requests({ method: 'POST', path: '/v1/payment_intents/pi_DemoRequiresCapture/cancel' });
    expect(cancels).toHaveLength(1);
    expect(cancels[0]?.body).toMatchObject({ cancellation_reason: 'requested_by_customer' });
    const [sent] = h.tab.requestsTo('POST', '/v1/payment-intents/pi_DemoRequiresCapture/cancel');
    expect(await sent?.headerValue('idempotency-key')).toMatch(/^console-[0-9a-f]{32}$/);
  });
});

describe('never refunding twice', () => {
  it('when Confirm is double-clicked, then one request leaves the page and Stripe gets one refund', async () => {
    const { page } = h.tab;
    await signIn(page, KEYS.billing);
    await findPayment(page, 'pi_DemoSucceeded');
    const dialog = await reviewRefund('pi_DemoSucceeded', { amount: '10' });
    await dialog.getByRole('button', { name: 'Confirm refund of $10.00' }).dblclick();
    await statusText(page, 'Refunded $10.00');
    expect(refundRequestsFromPage()).toHaveLength(1);
    expect(refundPosts(h.server.gw.emulator)).toHaveLength(1);
  });

  it('when two clicks land before the page can disable the button, then still one request leaves the page', async () => {
    const { page } = h.tab;
    await signIn(page, KEYS.billing);
    await findPayment(page, 'pi_DemoSucceeded');
    await reviewRefund('pi_DemoSucceeded', { amount: '10' });
    // Both clicks in one task: no render can run between them, so only the page's own guard can stop the second.
    await page.evaluate(`(() => {
      const button = [...document.querySelectorAll('dialog button')].find((b) => b.textContent === 'Confirm refund of $10.00');
      button.click();
      button.click();
    })()`);
    await statusText(page, 'Refunded $10.00');
    expect(refundRequestsFromPage()).toHaveLength(1);
    expect(refundPosts(h.server.gw.emulator)).toHaveLength(1);
  });

  it('when the first attempt times out after Stripe made the refund and the operator confirms again, then the same key finds that one refund', async () => {
    // The gateway gives Stripe 0.5 s and no retry; the emulator holds this refund 1.5 s, then makes it.
    await h.restart({ env: { STRIPE_TIMEOUT_MS: '500', STRIPE_MAX_NETWORK_RETRIES: '0' } });
    const { page } = h.tab;
    await signIn(page, KEYS.billing);
    await findPayment(page, 'pi_DemoSucceeded');
    const dialog = await reviewRefund('pi_DemoSucceeded', { amount: '15' });
    await injectFault(h.server.gw.emulator.url, { method: 'POST', path: '/v1/refunds', kind: 'delay', delay_ms: 1500 });
    const confirm = dialog.getByRole('button', { name: 'Confirm refund of $15.00' });
    await confirm.click();
    const failure = dialog.locator('[role=alert][data-code="upstream_timeout"]');
    await failure.waitFor();
    const words = (await failure.textContent()) ?? '';
    expect(words).toContain('Stripe did not answer in time');
    expect(words).toContain('Trying again sends the same request');
    expect(words).not.toMatch(/at \w+ \(|Error:|stack/i);
    await screenshot(page, '08-refund-timeout');
    // Stripe finishes the refund it was asked for; the operator has not been told of it.
    for (let i = 0; i < 300 && (await h.server.gw.stripe.refunds.list({ payment_intent: 'pi_DemoSucceeded' })).data.length === 0; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    await confirm.click();
    await statusText(page, 'Refunded $15.00');
    const posts = refundRequestsFromPage();
    expect(posts).toHaveLength(2);
    expect(posts[1]?.headers()['idempotency-key']).toBe(posts[0]?.headers()['idempotency-key']);
    const refunds = await h.server.gw.stripe.refunds.list({ payment_intent: 'pi_DemoSucceeded' });
    expect(refunds.data.map((r) => r.amount)).toEqual([1500]);
  });
});

describe('pending refunds', () => {
  it('when a refund is pending at Stripe, then the pending view lists it with a link to its payment', async () => {
    const made = await h.server.gw.http
      .post('/v1/refunds')
      .set(auth())
      .set('idempotency-key', 'pending-1')
      .send({ payment_intent: 'pi_DemoPendingRefund', amount: 1000 });
    expect(made.body.status).toBe('pending');
    const { page } = h.tab;
    await signIn(page, KEYS.billing);
    await page.getByRole('link', { name: 'Pending refunds' }).click();
    const row = page.locator(`tr[data-refund="${made.body.id}"]`);
    await row.waitFor();
    expect(await row.innerText()).toMatch(/pi_DemoPendingRefund\s+\$10\.00\s+Pending/);
    await screenshot(page, '10-pending');
    await row.getByRole('link', { name: 'pi_DemoPendingRefund' }).click();
    await page.getByRole('heading', { level: 2, name: /pi_DemoPendingRefund$/ }).waitFor();
  });
});
