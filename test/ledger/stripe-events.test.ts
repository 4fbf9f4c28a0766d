// Stripe events on every backend: each id applied once with the refunds it reports, in one write; unsettled refunds for reconciliation.
import { describe, expect, it } from 'vitest';
import type { StripeEventRecord } from '../../src/refunds/ledger.js';
import { ledgerBackends, useTestLedger } from '../helpers/ledger.js';
import { at, refund, T0 } from './fixtures.js';

const stripeEvent = (overrides: Partial<StripeEventRecord> = {}): StripeEventRecord => ({
  id: 'evt_1',
  type: 'refund.updated',
  created: 1_795_000_100,
  source: 'webhook',
  refunds: [refund({ status: 'succeeded' })],
  now: T0,
  ...overrides,
});

for (const backend of ledgerBackends) {
  describe.skipIf(backend.skip)(`Stripe events on ${backend.name}`, () => {
    const db = useTestLedger(backend);
    const eventCount = async () => Number((await db().sql.query<{ n: number }>('SELECT count(*) AS n FROM events'))[0]?.n);

    it('when an event is applied, then its id is stored, its refund indexed, and the change told to callers in the same write', async () => {
      const { ledger, sql } = db();

      expect(await ledger.hasStripeEvent('evt_1')).toBe(false);
      expect(await ledger.applyStripeEvent(stripeEvent())).toBe(true);

      expect(await ledger.hasStripeEvent('evt_1')).toBe(true);
      expect(await ledger.getIndexedRefund('re_1')).toEqual(refund({ status: 'succeeded' }));
      const rows = await sql.query<{ id: string; type: string; created: number | string; source: string }>('SELECT id, type, created, source FROM stripe_events');
      expect(rows.map((r) => ({ ...r, created: Number(r.created) }))).toEqual([{ id: 'evt_1', type: 'refund.updated', created: 1_795_000_100, source: 'webhook' }]);
      const [told] = (await ledger.listEvents({ caller: 'billing', all: false, limit: 10 })).data;
      expect(told).toMatchObject({ type: 'refund.created', objectId: 're_1', owner: 'billing' });
    });

    it('when the same event id comes again, even carrying something else, then nothing is written', async () => {
      const { ledger } = db();
      await ledger.applyStripeEvent(stripeEvent());
      const events = await eventCount();

      expect(await ledger.applyStripeEvent(stripeEvent({ refunds: [refund({ status: 'failed', failureReason: 'declined' })], now: at(1) }))).toBe(false);

      expect((await ledger.getIndexedRefund('re_1'))?.status).toBe('succeeded');
      expect(await eventCount()).toBe(events);
    });

    it('when an event reports several refunds (charge.refunded), then they are all indexed with the id, or none is', async () => {
      const { ledger } = db();
      const many = stripeEvent({ id: 'evt_charge', type: 'charge.refunded', refunds: [refund({ id: 're_a' }), refund({ id: 're_b', requestedBy: null })] });

      expect(await ledger.applyStripeEvent(many)).toBe(true);
      expect(await ledger.applyStripeEvent({ ...many, refunds: [refund({ id: 're_c' })] })).toBe(false);

      expect((await ledger.listIndexedRefunds({ limit: 10 })).data.map((r) => r.id).sort()).toEqual(['re_a', 're_b']);
      expect(await ledger.getIndexedRefund('re_b')).toMatchObject({ requestedBy: null });
    });

    it('when a multi-refund event fails halfway, then neither its id nor any of its refunds is kept', async () => {
      const { ledger } = db();
      // An amount the index refuses (CHECK amount >= 0) makes the second write fail after the first succeeded.
      const broken = stripeEvent({ id: 'evt_half', type: 'charge.refunded', refunds: [refund({ id: 're_ok' }), refund({ id: 're_bad', amount: -1 })] });

      await expect(ledger.applyStripeEvent(broken)).rejects.toThrow();

      expect(await ledger.hasStripeEvent('evt_half')).toBe(false);
      expect(await ledger.getIndexedRefund('re_ok')).toBeNull();
      expect(await eventCount()).toBe(0);
    });

    it('when an event reports no refund, then its id is still stored once', async () => {
      const { ledger } = db();

      expect(await ledger.applyStripeEvent(stripeEvent({ id: 'evt_empty', type: 'charge.refunded', refunds: [] }))).toBe(true);
      expect(await ledger.applyStripeEvent(stripeEvent({ id: 'evt_empty', type: 'charge.refunded', refunds: [] }))).toBe(false);
      expect(await ledger.hasStripeEvent('evt_empty')).toBe(true);
    });

    it('when events come out of order, then the refund ends in the status Stripe reached last', async () => {
      const { ledger } = db();
      const failed = refund({ status: 'failed', failureReason: 'expired_or_canceled_card' });
      // Newest first, as a reorder fault delivers them: failed, then the created (succeeded), then the pending one.
      await ledger.applyStripeEvent(stripeEvent({ id: 'evt_3', type: 'refund.failed', refunds: [failed] }));
      await ledger.applyStripeEvent(stripeEvent({ id: 'evt_2', type: 'refund.updated', refunds: [refund({ status: 'succeeded' })] }));
      await ledger.applyStripeEvent(stripeEvent({ id: 'evt_1', type: 'refund.created', refunds: [refund({ status: 'pending' })] }));

      expect(await ledger.getIndexedRefund('re_1')).toEqual(failed);
    });

    it('when pruning, then only ids received before the cut are forgotten', async () => {
      const { ledger } = db();
      await ledger.applyStripeEvent(stripeEvent({ id: 'evt_old', refunds: [], now: T0 }));
      await ledger.applyStripeEvent(stripeEvent({ id: 'evt_new', refunds: [], now: at(10_000) }));

      expect(await ledger.pruneStripeEvents(at(5_000))).toBe(1);

      expect(await ledger.hasStripeEvent('evt_old')).toBe(false);
      expect(await ledger.hasStripeEvent('evt_new')).toBe(true);
    });

    it('when asking for unsettled refunds, then only non-final ones untouched since the cut come, longest first, and a check moves them back', async () => {
      const { ledger } = db();
      await ledger.recordRefund(refund({ id: 're_pending_old', status: 'pending' }), T0);
      await ledger.recordRefund(refund({ id: 're_action', status: 'requires_action' }), at(1_000));
      await ledger.recordRefund(refund({ id: 're_done', status: 'succeeded' }), T0);
      await ledger.recordRefund(refund({ id: 're_pending_new', status: 'pending' }), at(50_000));
      const unsettled = async (before: Date, limit = 10) => (await ledger.listUnsettledRefunds({ before, limit })).map((r) => r.id);

      expect(await unsettled(at(10_000))).toEqual(['re_pending_old', 're_action']);
      expect(await unsettled(at(10_000), 1)).toEqual(['re_pending_old']);

      await ledger.markRefundsChecked(['re_pending_old'], at(20_000));

      expect(await unsettled(at(10_000))).toEqual(['re_action']);
      expect(await unsettled(at(60_000))).toEqual(['re_action', 're_pending_old', 're_pending_new']);
      await ledger.markRefundsChecked([], at(70_000));
    });
  });
}
