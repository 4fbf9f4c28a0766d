// The outbox on every backend: a refund's change and its event are one write; deliveries are claimed once at a time.
import { describe, expect, it } from 'vitest';
import { isGatewayError } from '../../src/refunds/gateway-error.js';
import { ledgerBackends, useTestLedger } from '../helpers/ledger.js';
import { at, beginInput, refund, T0 } from './fixtures.js';


for (const backend of ledgerBackends) {
  describe.skipIf(backend.skip)(`events on ${backend.name}`, () => {
    const db = useTestLedger(backend);
    const eventsOf = async (caller = 'auditor', all = true) => (await db().ledger.listEvents({ caller, all, limit: 100 })).data;

    /** billing listens to its own refunds, auditor to every refund. */
    const LISTENERS = [
      { caller: 'billing', all: false },
      { caller: 'auditor', all: true },
    ];
    const listen = (now = T0, listeners = LISTENERS) => db().ledger.fanOutEvents({ listeners, now, limit: 100 });

    it('when a refund is first recorded, then one refund.created event with sequence 1 is stored, and fan-out makes one delivery per listener', async () => {
      await listen();
      await db().ledger.recordRefund(refund({ status: 'pending' }), T0);
      expect(await db().sql.query('SELECT * FROM event_deliveries')).toEqual([]);
      await listen();

      const [event, ...rest] = await eventsOf();
      expect(rest).toEqual([]);
      expect(event).toMatchObject({ type: 'refund.created', owner: 'billing', objectType: 'refund', objectId: 're_1', sequence: 1, previousStatus: null });
      expect(event?.object).toEqual(refund({ status: 'pending' }));
      expect(event?.id).toMatch(/^evt_[0-9a-f]{24}$/);
      expect(event?.created).toEqual(T0);
      const deliveries = await db().sql.query<{ caller: string; state: string }>('SELECT caller, state FROM event_deliveries ORDER BY caller');
      expect(deliveries).toEqual([
        { caller: 'auditor', state: 'pending' },
        { caller: 'billing', state: 'pending' },
      ]);
    });

    it('when a refund changes status, then refund.updated carries the previous status and the next sequence; an unchanged or stale report adds nothing', async () => {
      const { ledger } = db();
      await ledger.recordRefund(refund({ status: 'pending' }), T0);
      await ledger.recordRefund(refund({ status: 'pending' }), at(1));
      await ledger.recordRefund(refund({ status: 'succeeded' }), at(2));
      await ledger.recordRefund(refund({ status: 'pending' }), at(3));
      await ledger.recordRefund(refund({ status: 'failed', failureReason: 'expired_or_canceled_card' }), at(4));

      expect((await eventsOf()).map((e) => [e.type, e.sequence, e.previousStatus, (e.object as { status: string }).status])).toEqual([
        ['refund.created', 1, null, 'pending'],
        ['refund.updated', 2, 'pending', 'succeeded'],
        ['refund.updated', 3, 'succeeded', 'failed'],
      ]);
    });

    it('when an idempotency record is completed with a refund, then the refund and its event are written with it', async () => {
      const { ledger } = db();
      await ledger.beginIdempotent(beginInput());
      expect(await ledger.completeIdempotent({ scope: beginInput().scope, holder: 'req_first', outcome: { ok: true }, refund: refund(), now: at(5) })).toBe(true);

      expect(await ledger.getIndexedRefund('re_1')).toEqual(refund());
      expect((await eventsOf()).map((e) => e.type)).toEqual(['refund.created']);
    });

    it('when a caller lists events, then it sees only its own objects’ unless it sees all, oldest first, in pages', async () => {
      const { ledger } = db();
      await ledger.recordRefund(refund({ id: 're_a' }), at(1));
      await ledger.recordRefund(refund({ id: 're_dash', requestedBy: null, gatewayRequestId: null }), at(2));
      await ledger.recordRefund(refund({ id: 're_b' }), at(3));
      await ledger.recordRefund(refund({ id: 're_shop', requestedBy: 'shop' }), at(4));

      expect((await eventsOf('billing', false)).map((e) => e.objectId)).toEqual(['re_a', 're_b']);
      expect((await eventsOf('auditor', true)).map((e) => e.objectId)).toEqual(['re_a', 're_dash', 're_b', 're_shop']);
      const first = await ledger.listEvents({ caller: 'auditor', all: true, limit: 2 });
      expect(first.hasMore).toBe(true);
      const next = await ledger.listEvents({ caller: 'auditor', all: true, limit: 2, startingAfter: first.data[1]!.id });
      expect({ ids: next.data.map((e) => e.objectId), hasMore: next.hasMore }).toEqual({ ids: ['re_b', 're_shop'], hasMore: false });
      // Another caller's event is no cursor for billing.
      const shops = (await eventsOf()).find((e) => e.objectId === 're_shop')!;
      const refused = await ledger.listEvents({ caller: 'billing', all: false, limit: 2, startingAfter: shops.id }).catch((e: unknown) => e);
      expect(isGatewayError(refused) && refused.code).toBe('validation_error');
    });

    it('when callers start listening, then they get the events recorded after that, and two fan-outs at once never make a delivery twice', async () => {
      const { ledger } = db();
      await ledger.recordRefund(refund({ id: 're_before' }), T0);
      expect(await listen(T0, [])).toBe(0);
      await ledger.recordRefund(refund({ id: 're_after' }), at(1));
      await ledger.recordRefund(refund({ id: 're_shop', requestedBy: 'shop' }), at(2));

      const made = await Promise.all([listen(at(3)), listen(at(3))]);
      expect(made[0] + made[1]).toBe(3);
      const rows = await db().sql.query<{ caller: string; object_id: string }>(
        'SELECT d.caller, e.object_id FROM event_deliveries d JOIN events e ON e.id = d.event_id ORDER BY d.caller, e.seq',
      );
      expect(rows).toEqual([
        { caller: 'auditor', object_id: 're_after' },
        { caller: 'auditor', object_id: 're_shop' },
        { caller: 'billing', object_id: 're_after' },
      ]);
    });

    it('when deliveries are claimed, then each is held by one sender until its lease ends, and settled ones are not sent again', async () => {
      const { ledger } = db();
      await listen();
      await ledger.recordRefund(refund(), T0);
      await listen();

      const mine = await ledger.claimDeliveries({ holder: 'sender-a', now: at(10), limit: 10, leaseMs: 1_000 });
      expect(mine.map((d) => d.caller).sort()).toEqual(['auditor', 'billing']);
      expect(mine[0]).toMatchObject({ attempts: 0, event: { type: 'refund.created', objectId: 're_1' } });
      expect(await ledger.claimDeliveries({ holder: 'sender-b', now: at(500), limit: 10, leaseMs: 1_000 })).toEqual([]);

      const delivered = mine.find((d) => d.caller === 'billing')!;
      await ledger.settleDelivery({ eventId: delivered.event.id, caller: 'billing', holder: 'sender-a', now: at(600), result: { kind: 'delivered' } });
      // sender-a died before settling the other one: after its lease, sender-b takes it over.
      const taken = await ledger.claimDeliveries({ holder: 'sender-b', now: at(1_010), limit: 10, leaseMs: 1_000 });
      expect(taken.map((d) => d.caller)).toEqual(['auditor']);
      // The late sender-a can no longer settle it.
      await ledger.settleDelivery({ eventId: taken[0]!.event.id, caller: 'auditor', holder: 'sender-a', now: at(1_020), result: { kind: 'delivered' } });
      await ledger.settleDelivery({ eventId: taken[0]!.event.id, caller: 'auditor', holder: 'sender-b', now: at(1_030), result: { kind: 'retry', at: at(5_000), error: '503' } });

      expect(await ledger.claimDeliveries({ holder: 'sender-c', now: at(4_999), limit: 10, leaseMs: 1_000 })).toEqual([]);
      const retried = await ledger.claimDeliveries({ holder: 'sender-c', now: at(5_000), limit: 10, leaseMs: 1_000 });
      expect(retried.map((d) => [d.caller, d.attempts])).toEqual([['auditor', 1]]);
      expect(await ledger.deliveryBacklog(at(5_000))).toEqual({ pending: 1, oldestPendingSeconds: 5 });
      await ledger.settleDelivery({ eventId: retried[0]!.event.id, caller: 'auditor', holder: 'sender-c', now: at(5_100), result: { kind: 'failed', error: 'gave up' } });
      expect(await ledger.deliveryBacklog(at(6_000))).toEqual({ pending: 0, oldestPendingSeconds: null });
    });

    it('when one refund is reported by many writers at once, then every change gets its own sequence and none is lost', async () => {
      const { ledger } = db();
      await ledger.recordRefund(refund({ status: 'pending', metadata: { n: '0' } }), T0);
      await Promise.all(Array.from({ length: 10 }, (_, i) => ledger.recordRefund(refund({ status: 'pending', metadata: { n: String(i + 1) } }), at(i + 1))));

      const sequences = (await eventsOf()).map((e) => e.sequence);
      expect(sequences).toEqual(Array.from({ length: sequences.length }, (_, i) => i + 1));
      expect(sequences.length).toBeGreaterThanOrEqual(2);
    });
  });
}
