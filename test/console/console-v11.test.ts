// The console's v1.1 flows in a real browser: preview, refund requests and approval, batches (routes of issue 10).
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../console/src/csv.js';
import { API_KEYS, auth, createPayment, KEYS, refundPosts, startTestGateway } from '../helpers/gateway.js';
import { findPayment, screenshot, signIn, statusText, useConsole } from './browser.js';

/**
 * These flows need POST /v1/refunds/preview, /v1/refund-requests and /v1/refund-batches (issue 10, both parts: landed).
 * Each part has its switch; the test below fails when the routes answer while a switch is off, so none can be forgotten.
 */
const APPROVALS_LANDED = true;
/** Refund batches (issue 10, second part). */
const BATCHES_LANDED = true;

const DESK = 'desk-key-0123456789abcdef';
const LEAD = 'lead-key-0123456789abcdef';
const SOLO = 'solo-key-0123456789abcdef';
/** The test callers plus a desk whose refunds above $10.00 need approval, an approver, and one that is both. */
const V11_API_KEYS = [
  ...API_KEYS,
  { id: 'desk', key: DESK, scopes: ['refunds:read', 'refunds:write'], limits: { approval_above: { usd: 1000 } } },
  { id: 'lead', key: LEAD, scopes: ['refunds:read', 'refunds:approve'] },
  { id: 'solo', key: SOLO, scopes: ['refunds:read', 'refunds:write', 'refunds:approve'], limits: { approval_above: { usd: 1000 } } },
];

describe('the v1.1 routes the console uses (issue 10)', () => {
  it(`when they answer on this gateway, then the console's v1.1 browser tests are enabled (approvals ${APPROVALS_LANDED}, batches ${BATCHES_LANDED})`, async () => {
    const gw = await startTestGateway();
    try {
      const answers = await Promise.all([
        gw.http.post('/v1/refunds/preview').set(auth()).send({}),
        gw.http.get('/v1/refund-requests').set(auth()),
        gw.http.post('/v1/refund-batches').set(auth()).send({}),
      ]);
      const present = answers.map((a) => a.status !== 404 && a.status !== 405);
      // Either the routes are absent and the flows wait, or they are present and the flows run: never present and skipped.
      expect(present).toEqual([APPROVALS_LANDED, APPROVALS_LANDED, BATCHES_LANDED]);
    } finally {
      await gw.close();
    }
  });
});

describe.runIf(APPROVALS_LANDED || BATCHES_LANDED)('v1.1 flows in the console', () => {
  const h = useConsole({ env: { API_KEYS: JSON.stringify(V11_API_KEYS) } });

  const refundsFromPage = () => h.tab.requestsTo('POST', '/v1/refunds').filter((r) => r.headers()['idempotency-key'] !== undefined);

  async function openRefund(paymentId: string, amount?: string) {
    const { page } = h.tab;
    await page.getByRole('button', { name: 'Refund…' }).click();
    const dialog = page.getByRole('dialog', { name: `Refund ${paymentId}` });
    if (amount === undefined) await dialog.getByLabel(/^Everything left/).check();
    else {
      await dialog.getByLabel('Part of it').check();
      await dialog.getByLabel(/^Amount in /).fill(amount);
    }
    await dialog.getByRole('button', { name: 'Review refund' }).click();
    return dialog;
  }

  async function switchKey(key: string) {
    await h.tab.page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(h.tab.page, key);
  }

  describe.runIf(APPROVALS_LANDED)('preview', () => {
    it('when a partial refund is reviewed, then the preview says what will be left before anything is refunded', async () => {
      const { page } = h.tab;
      await signIn(page, KEYS.billing);
      await findPayment(page, 'pi_DemoSucceeded');
      const dialog = await openRefund('pi_DemoSucceeded', '20');
      await dialog.getByText('$30.00 will be left to refund').waitFor();
      expect(await dialog.locator('[data-amount]').textContent()).toBe('$20.00');
      expect(h.tab.requestsTo('POST', '/v1/refunds/preview')).toHaveLength(2); // the sign-in probe, then this one
      expect(refundsFromPage()).toHaveLength(0);
      expect(refundPosts(h.server.gw.emulator)).toHaveLength(0);
      await screenshot(page, 'v11-01-preview');
      await dialog.getByRole('button', { name: 'Confirm refund of $20.00' }).click();
      await statusText(page, 'Refunded $20.00');
      expect(refundPosts(h.server.gw.emulator)).toHaveLength(1);
    });

    it('when the preview says the gateway would refuse, then the reason is shown in words and there is nothing to confirm', async () => {
      const { page } = h.tab;
      await signIn(page, KEYS.billing);
      await findPayment(page, 'pi_DemoDisputed');
      const dialog = await openRefund('pi_DemoDisputed', '10');
      await dialog.locator('[role=alert][data-code="charge_disputed"]').waitFor();
      expect(await dialog.getByRole('button', { name: /^Confirm/ }).count()).toBe(0);
      await screenshot(page, 'v11-02-preview-refused');
      expect(refundsFromPage()).toHaveLength(0);
    });
  });

  describe.runIf(APPROVALS_LANDED)('refund requests', () => {
    it('when a refund is above the key’s approval threshold, then it is sent for approval, and another key approves it into one refund', async () => {
      const { page } = h.tab;
      await signIn(page, DESK);
      await findPayment(page, 'pi_DemoSucceeded');
      const dialog = await openRefund('pi_DemoSucceeded', '20');
      await dialog.getByText('is above what this key may refund alone').waitFor();
      await dialog.getByRole('button', { name: 'Send for approval' }).click();
      const sent = await statusText(page, 'Sent for approval');
      const requestId = /request (rr_\w+)/.exec(sent)?.[1];
      expect(requestId).toBeDefined();
      expect(refundPosts(h.server.gw.emulator)).toHaveLength(0);

      // The desk sees its request but may not decide it.
      await page.getByRole('link', { name: 'Approvals' }).click();
      await page.locator(`tr[data-request="${requestId}"]`).waitFor();
      expect(await page.getByRole('button', { name: /^Approve/ }).count()).toBe(0);

      await switchKey(LEAD);
      await page.getByRole('link', { name: 'Approvals' }).click();
      const row = page.locator(`tr[data-request="${requestId}"]`);
      await row.waitFor();
      expect(await row.innerText()).toMatch(/pi_DemoSucceeded\s+\$20\.00/);
      await screenshot(page, 'v11-03-approvals');
      await row.getByRole('button', { name: /^Approve/ }).click();
      const decide = page.getByRole('dialog', { name: `Approve ${requestId}` });
      await decide.getByLabel('Note (optional)').fill('checked with the customer');
      await decide.getByRole('button', { name: 'Approve and refund $20.00' }).dblclick();
      expect(await statusText(page, `Approved ${requestId}`)).toMatch(/refunded \$20\.00 as refund re_\w+/);
      await row.waitFor({ state: 'detached' });
      expect(refundPosts(h.server.gw.emulator)).toHaveLength(1);
      expect(h.tab.requestsTo('POST', `/v1/refund-requests/${requestId}/approve`).filter((r) => r.headers()['idempotency-key'])).toHaveLength(1);
      const decided = await h.server.gw.http.get(`/v1/refund-requests/${requestId}`).set(auth());
      expect(decided.body).toMatchObject({ status: 'approved', decided_by: 'lead', decision_note: 'checked with the customer' });
    });

    it('when a request is rejected, then nothing is refunded', async () => {
      const asked = await h.server.gw.http.post('/v1/refunds').set(auth(DESK)).set('idempotency-key', 'desk-1').send({ payment_intent: 'pi_DemoSucceeded', amount: 3000 });
      expect(asked.status).toBe(202);
      const { page } = h.tab;
      await signIn(page, LEAD);
      await page.getByRole('link', { name: 'Approvals' }).click();
      const row = page.locator(`tr[data-request="${asked.body.id}"]`);
      await row.getByRole('button', { name: /^Reject/ }).click();
      await page.getByRole('dialog', { name: `Reject ${asked.body.id}` }).getByRole('button', { name: 'Reject the request' }).click();
      await statusText(page, `Rejected ${asked.body.id}: nothing was refunded.`);
      expect(refundPosts(h.server.gw.emulator)).toHaveLength(0);
    });

    it('when a key tries to approve its own request, then the gateway’s refusal is shown in words', async () => {
      const asked = await h.server.gw.http.post('/v1/refunds').set(auth(SOLO)).set('idempotency-key', 'solo-1').send({ payment_intent: 'pi_DemoSucceeded', amount: 3000 });
      const { page } = h.tab;
      await signIn(page, SOLO);
      await page.getByRole('link', { name: 'Approvals' }).click();
      await page.locator(`tr[data-request="${asked.body.id}"]`).getByRole('button', { name: /^Approve/ }).click();
      const decide = page.getByRole('dialog', { name: `Approve ${asked.body.id}` });
      await decide.getByRole('button', { name: /^Approve and refund/ }).click();
      await decide.locator('[role=alert][data-code="approval_by_requester"]').waitFor();
      expect(refundPosts(h.server.gw.emulator)).toHaveLength(0);
    });
  });

  describe.runIf(BATCHES_LANDED)('batches', () => {
    it('when a CSV of 20 refunds is uploaded, then it is checked in the page, sent once, watched to the end, and its results download', async () => {
      const payments = [];
      for (let i = 0; i < 20; i += 1) payments.push(await createPayment(h.server.gw.stripe, { amount: 1000 + i * 100 }));
      const rows = payments.map((p, i) =>
        i % 2 === 0 ? `batch-${i},${p.intent},,${i % 4 === 0 ? '' : 500},requested_by_customer` : `batch-${i},,${p.charge},${500 + i},duplicate`,
      );
      const csv = ['key,payment_intent,charge,amount,reason', ...rows].join('\n');
      const { page } = h.tab;
      await signIn(page, KEYS.billing);
      await page.getByRole('link', { name: 'Batches' }).click();

      // A file with mistakes is not sent: every mistake is listed with its line.
      const broken = ['key,payment_intent,charge,amount,reason', rows[0], rows[0], `x,${payments[1]?.intent},,12.50,`].join('\n');
      await page.getByLabel('CSV file').setInputFiles({ name: 'broken.csv', mimeType: 'text/csv', buffer: Buffer.from(broken) });
      const problems = page.getByRole('alert').filter({ hasText: 'broken.csv cannot be sent: 2 problems.' });
      await problems.waitFor();
      expect(await problems.innerText()).toMatch(/Line 3: The key "batch-0" is already used on line 2\.[\s\S]*Line 4: The amount "12\.50"/);
      expect(await page.getByRole('button', { name: 'Send batch' }).isDisabled()).toBe(true);
      await screenshot(page, 'v11-04-batch-invalid');

      await page.getByLabel('CSV file').setInputFiles({ name: 'refunds.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
      await statusText(page, 'refunds.csv: 20 refunds, all checked.');
      await screenshot(page, 'v11-05-batch-checked');
      await page.getByRole('button', { name: 'Send batch' }).dblclick();
      await page.getByRole('heading', { level: 1, name: /^Batch rb_/ }).waitFor();
      expect(h.tab.requestsTo('POST', '/v1/refund-batches').filter((r) => r.headers()['idempotency-key'])).toHaveLength(1);
      await page.locator('[data-done="20"][data-total="20"]').waitFor({ timeout: 60_000 });
      await page.locator('.badge', { hasText: 'Completed' }).waitFor({ timeout: 30_000 });
      expect(await page.locator('[data-count="refunded"]').textContent()).toBe('20');
      await screenshot(page, 'v11-06-batch-done', true);

      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download results (CSV)' }).click()]);
      expect(download.suggestedFilename()).toMatch(/^rb_\w+-results\.csv$/);
      const parsed = parseCsv(await readFile(await download.path(), 'utf8'));
      if (!parsed.ok) throw new Error(parsed.message);
      const [header, ...items] = parsed.rows.map((r) => r.cells);
      expect(header).toEqual(['key', 'status', 'charge', 'payment_intent', 'amount', 'currency', 'refund', 'refund_status', 'refund_request', 'problem_code', 'problem_detail']);
      expect(items).toHaveLength(20);
      expect(items.map((row) => row[0])).toEqual(payments.map((_, i) => `batch-${i}`));
      for (const row of items) {
        expect(row[1]).toBe('refunded');
        expect(row[6]).toMatch(/^re_/);
      }
      expect(refundPosts(h.server.gw.emulator)).toHaveLength(20);
    });
  });
});
