// The refund index on every backend: upserts under the final-status rule, and the filtered, paged list.
import { describe, expect, it } from 'vitest';
import { isGatewayError } from '../../src/refunds/gateway-error.js';
import type { Ledger } from '../../src/refunds/ledger.js';
import type { Refund, RefundStatus } from '../../src/refunds/types.js';
import { ledgerBackends, useTestLedger } from '../helpers/ledger.js';
import { at, refund, T0 } from './fixtures.js';

const FINAL: RefundStatus[] = ['succeeded', 'failed', 'canceled'];
const NON_FINAL: RefundStatus[] = ['pending', 'requires_action'];
const ids = (refunds: Refund[]): string[] => refunds.map((r) => r.id);

async function recordAll(ledger: Ledger, refunds: Refund[]): Promise<void> {
  // One after another: the recording order is part of what the list order is tested on.
  for (const [i, r] of refunds.entries()) await ledger.recordRefund(r, at(i));
}

for (const backend of ledgerBackends) {
  describe.skipIf(backend.skip)(`refund index on ${backend.name}`, () => {
    const db = useTestLedger(backend);

    it('when a refund is recorded, then it reads back field for field', async () => {
      const { ledger } = db();
      const full = refund({ metadata: { order: '42', note: 'ünïcødé, "quoted"' }, amount: 99_999_999, currency: 'jpy' });
      const bare = refund({
        id: 'pyr_2',
        charge: 'py_2',
        paymentIntent: null,
        reason: null,
        metadata: {},
        requestedBy: null,
        gatewayRequestId: null,
      });
      await recordAll(ledger, [full, bare]);

      expect(await ledger.getIndexedRefund(full.id)).toEqual(full);
      expect(await ledger.getIndexedRefund(bare.id)).toEqual(bare);
      expect(await ledger.getIndexedRefund('re_unknown')).toBeNull();
    });

    it('when the same refund is recorded again unchanged, then its row is not rewritten', async () => {
      const { ledger, sql } = db();
      await ledger.recordRefund(refund(), T0);
      const updatedAt = async () => (await sql.query<{ updated_at: string }>('SELECT updated_at FROM refunds WHERE id = $1', ['re_1']))[0]?.updated_at;
      const first = await updatedAt();

      await ledger.recordRefund(refund(), at(60_000));
      expect(await updatedAt()).toEqual(first);

      await ledger.recordRefund(refund({ status: 'succeeded' }), at(120_000));
      expect(await updatedAt()).toEqual(at(120_000).toISOString());
    });

    it('when a pending refund is reported succeeded, then the index says succeeded', async () => {
      const { ledger } = db();
      await ledger.recordRefund(refund({ status: 'pending' }), T0);

      await ledger.recordRefund(refund({ status: 'succeeded' }), at(1));

      expect((await ledger.getIndexedRefund('re_1'))?.status).toBe('succeeded');
    });

    it('when a non-final refund moves to another non-final status, then it is updated', async () => {
      const { ledger } = db();
      await ledger.recordRefund(refund({ status: 'pending' }), T0);

      await ledger.recordRefund(refund({ status: 'requires_action' }), at(1));

      expect((await ledger.getIndexedRefund('re_1'))?.status).toBe('requires_action');
    });

    for (const final of FINAL) {
      for (const stale of NON_FINAL) {
        it(`when a ${final} refund is reported ${stale} again, then the stale report changes nothing`, async () => {
          const { ledger } = db();
          const current = refund({ status: final, failureReason: final === 'failed' ? 'lost_or_stolen_card' : null });
          await ledger.recordRefund(current, T0);

          await ledger.recordRefund(refund({ status: stale, metadata: { order: 'stale' }, failureReason: null }), at(1));

          expect(await ledger.getIndexedRefund('re_1')).toEqual(current);
        });
      }
    }

    for (const [terminal, other] of [
      ['failed', 'succeeded'],
      ['failed', 'canceled'],
      ['canceled', 'succeeded'],
      ['canceled', 'failed'],
    ] as const) {
      it(`when a ${terminal} refund is reported ${other}, then the older news changes nothing (nothing leaves ${terminal} at Stripe)`, async () => {
        const { ledger } = db();
        const current = refund({ status: terminal, failureReason: terminal === 'failed' ? 'expired_or_canceled_card' : 'merchant_request' });
        await ledger.recordRefund(current, T0);

        await ledger.recordRefund(refund({ status: other, failureReason: null }), at(1));

        expect(await ledger.getIndexedRefund('re_1')).toEqual(current);
      });
    }

    it('when a failed refund gets new metadata, then the metadata changes and it stays failed', async () => {
      const { ledger } = db();
      await ledger.recordRefund(refund({ status: 'failed', failureReason: 'declined' }), T0);

      await ledger.recordRefund(refund({ status: 'failed', failureReason: 'declined', metadata: { order: '43' } }), at(1));

      expect(await ledger.getIndexedRefund('re_1')).toMatchObject({ status: 'failed', metadata: { order: '43' } });
    });

    it('when a succeeded refund is reported failed, then it becomes failed with its reason', async () => {
      const { ledger } = db();
      await ledger.recordRefund(refund({ status: 'succeeded' }), T0);

      await ledger.recordRefund(refund({ status: 'failed', failureReason: 'expired_or_canceled_card' }), at(1));

      expect(await ledger.getIndexedRefund('re_1')).toMatchObject({ status: 'failed', failureReason: 'expired_or_canceled_card' });
    });

    it('when a later report lacks who asked, then the index keeps the caller and request id it had', async () => {
      const { ledger } = db();
      await ledger.recordRefund(refund({ requestedBy: 'billing', gatewayRequestId: 'req_1' }), T0);

      await ledger.recordRefund(refund({ status: 'succeeded', requestedBy: null, gatewayRequestId: null }), at(1));

      expect(await ledger.getIndexedRefund('re_1')).toMatchObject({
        status: 'succeeded',
        requestedBy: 'billing',
        gatewayRequestId: 'req_1',
      });
    });

    it('when refunds share a second, then the list is newest first by created and then by last recorded', async () => {
      const { ledger } = db();
      await recordAll(ledger, [
        refund({ id: 're_a', created: 100 }),
        refund({ id: 're_b', created: 200 }),
        refund({ id: 're_c', created: 100 }),
        refund({ id: 're_d', created: 150 }),
      ]);
      // An update must not move a refund to the front.
      await ledger.recordRefund(refund({ id: 're_a', created: 100, status: 'succeeded' }), at(10));

      const page = await ledger.listIndexedRefunds({ limit: 10 });

      expect(ids(page.data)).toEqual(['re_b', 're_d', 're_c', 're_a']);
      expect(page.hasMore).toBe(false);
    });

    it('when paging with starting_after, then every refund comes exactly once, in order, and has_more ends false', async () => {
      const { ledger } = db();
      await recordAll(ledger, [1, 2, 3, 4, 5].map((n) => refund({ id: `re_${n}`, created: n === 5 ? 4 : n })));

      const pages = [];
      let startingAfter: string | undefined;
      for (;;) {
        const page = await ledger.listIndexedRefunds({ limit: 2, ...(startingAfter ? { startingAfter } : {}) });
        pages.push({ ids: ids(page.data), hasMore: page.hasMore });
        if (!page.hasMore) break;
        startingAfter = page.data.at(-1)?.id;
      }

      expect(pages).toEqual([
        { ids: ['re_5', 're_4'], hasMore: true },
        { ids: ['re_3', 're_2'], hasMore: true },
        { ids: ['re_1'], hasMore: false },
      ]);
    });

    it('when exactly limit refunds match, then has_more is false', async () => {
      const { ledger } = db();
      await recordAll(ledger, [refund({ id: 're_1' }), refund({ id: 're_2' })]);

      expect((await ledger.listIndexedRefunds({ limit: 2 })).hasMore).toBe(false);
      expect((await ledger.listIndexedRefunds({ limit: 1 })).hasMore).toBe(true);
    });

    it('when filtering by status, by caller, or both, then only matches come and has_more counts only them', async () => {
      const { ledger } = db();
      await recordAll(ledger, [
        refund({ id: 're_1', status: 'pending', requestedBy: 'billing', created: 1 }),
        refund({ id: 're_2', status: 'succeeded', requestedBy: 'billing', created: 2 }),
        refund({ id: 're_3', status: 'pending', requestedBy: null, created: 3 }),
        refund({ id: 're_4', status: 'pending', requestedBy: 'support', created: 4 }),
        refund({ id: 're_5', status: 'succeeded', requestedBy: 'support', created: 5 }),
      ]);

      expect(ids((await ledger.listIndexedRefunds({ status: 'pending', limit: 10 })).data)).toEqual(['re_4', 're_3', 're_1']);
      expect(ids((await ledger.listIndexedRefunds({ requestedBy: 'billing', limit: 10 })).data)).toEqual(['re_2', 're_1']);
      const both = await ledger.listIndexedRefunds({ status: 'pending', requestedBy: 'support', limit: 1 });
      expect({ ids: ids(both.data), hasMore: both.hasMore }).toEqual({ ids: ['re_4'], hasMore: false });
      expect((await ledger.listIndexedRefunds({ status: 'pending', limit: 2 })).hasMore).toBe(true);
    });

    it('when starting_after names a refund outside the filter, then the page starts after its place in the order', async () => {
      const { ledger } = db();
      await recordAll(ledger, [
        refund({ id: 're_1', status: 'pending', created: 1 }),
        refund({ id: 're_2', status: 'succeeded', created: 2 }),
        refund({ id: 're_3', status: 'pending', created: 3 }),
      ]);

      const page = await ledger.listIndexedRefunds({ status: 'pending', startingAfter: 're_2', limit: 10 });

      expect(ids(page.data)).toEqual(['re_1']);
    });

    it('when starting_after is an unknown refund, then it is a validation error on the query parameter', async () => {
      const { ledger } = db();
      await ledger.recordRefund(refund(), T0);

      const error: unknown = await ledger.listIndexedRefunds({ startingAfter: 're_missing', limit: 10 }).catch((e: unknown) => e);

      expect(isGatewayError(error) && error.code).toBe('validation_error');
      expect(isGatewayError(error) && error.fields).toEqual({
        errors: [{ in: 'query', path: '/starting_after', message: expect.stringContaining('re_missing') }],
      });
    });

    it('when the index is empty, then the list is empty without more', async () => {
      expect(await db().ledger.listIndexedRefunds({ limit: 10 })).toEqual({ data: [], hasMore: false });
    });
  });
}
