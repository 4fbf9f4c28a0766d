// Refund requests on every backend: stored once with their event, decided once, settled by the approval that holds them.
import { describe, expect, it } from 'vitest';
import { isGatewayError } from '../../src/refunds/gateway-error.js';
import type { SettlementLease } from '../../src/refunds/ledger.js';
import type { RefundRequest } from '../../src/refunds/refund-request.js';
import { ledgerBackends, useTestLedger } from '../helpers/ledger.js';
import { at, refund, refundRequest as request, T0 } from './fixtures.js';

const T0_SECONDS = T0.getTime() / 1000;

const approved = (overrides: Partial<RefundRequest> = {}) =>
  request({ status: 'approved', decidedBy: 'finance', decisionNote: 'ok', decidedAt: T0_SECONDS + 60, ...overrides });
const lease = (holder: string, untilMs: number): SettlementLease => ({ holder, until: at(untilMs) });

for (const backend of ledgerBackends) {
  describe.skipIf(backend.skip)(`refund requests on ${backend.name}`, () => {
    const db = useTestLedger(backend);
    const eventsOf = async () =>
      (await db().ledger.listEvents({ caller: 'auditor', all: true, limit: 100 })).data.map((e) => ({
        type: e.type,
        owner: e.owner,
        objectType: e.objectType,
        objectId: e.objectId,
        sequence: e.sequence,
        previousStatus: e.previousStatus,
      }));

    it('when a request is created, then it reads back as stored and a refund_request.created event carries it', async () => {
      const { ledger } = db();
      expect(await ledger.createRefundRequest(request(), T0)).toEqual(request());
      expect(await ledger.getRefundRequest('rr_1')).toEqual(request());
      expect(await ledger.getRefundRequest('rr_none')).toBeNull();
      const events = (await ledger.listEvents({ caller: 'support', all: false, limit: 10 })).data;
      expect(events.map((e) => [e.type, e.owner, e.objectType, e.objectId, e.sequence, e.previousStatus])).toEqual([
        ['refund_request.created', 'support', 'refund_request', 'rr_1', 1, null],
      ]);
      expect(events[0]?.object).toEqual(request());
    });

    it('when the same id is created again (a retried request), then the first stays, is returned, and no second event is written', async () => {
      const { ledger } = db();
      await ledger.createRefundRequest(request(), T0);
      const again = await ledger.createRefundRequest(request({ amount: 1, created: T0_SECONDS + 5 }), at(5_000));
      expect(again).toEqual(request());
      expect((await eventsOf()).map((e) => e.type)).toEqual(['refund_request.created']);
    });

    it('when a request is rejected, then once only, with its event; a second decision of either kind changes nothing', async () => {
      const { ledger } = db();
      await ledger.createRefundRequest(request(), T0);
      const rejected = request({ status: 'rejected', decidedBy: 'finance', decisionNote: 'no', decidedAt: T0_SECONDS + 60 });
      expect(await ledger.decideRefundRequest({ after: rejected, now: at(60_000) })).toBe(true);
      expect(await ledger.decideRefundRequest({ after: approved(), now: at(61_000), settlement: lease('h1', 120_000) })).toBe(false);
      expect(await ledger.getRefundRequest('rr_1')).toEqual(rejected);
      expect((await eventsOf()).map((e) => [e.type, e.sequence, e.previousStatus])).toEqual([
        ['refund_request.created', 1, null],
        ['refund_request.rejected', 2, 'awaiting_approval'],
      ]);
    });

    it('when a request is past its expiry, then no decision is written', async () => {
      const { ledger } = db();
      await ledger.createRefundRequest(request(), T0);
      expect(await ledger.decideRefundRequest({ after: approved(), now: at(3_600_000), settlement: lease('h1', 3_700_000) })).toBe(false);
      expect((await ledger.getRefundRequest('rr_1'))?.status).toBe('awaiting_approval');
    });

    it('when two approvals decide at once, then exactly one decision is written', async () => {
      const { ledger } = db();
      await ledger.createRefundRequest(request(), T0);
      const results = await Promise.all(
        ['a', 'b', 'c', 'd'].map((who) => ledger.decideRefundRequest({ after: approved({ decidedBy: who }), now: at(1_000), settlement: lease(who, 60_000) })),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('when an approval settles with its refund, then the outcome, the approval event and the refund’s index row and event are written together', async () => {
      const { ledger } = db();
      await ledger.createRefundRequest(request(), T0);
      expect(await ledger.decideRefundRequest({ after: approved(), now: at(60_000), settlement: lease('h1', 120_000) })).toBe(true);
      // Decided but not settled: no approval event yet, and the settlement is held.
      expect((await eventsOf()).map((e) => e.type)).toEqual(['refund_request.created']);
      expect(await ledger.takeRefundRequestSettlement({ id: 'rr_1', settlement: lease('h2', 200_000), now: at(61_000) })).toBeNull();

      const made = refund({ id: 're_approved', amount: 30_000, requestedBy: 'support' });
      expect(await ledger.settleRefundRequest({ after: approved({ refund: made }), holder: 'h2', now: at(62_000) })).toBe(false);
      expect(await ledger.settleRefundRequest({ after: approved({ refund: made }), holder: 'h1', now: at(62_000) })).toBe(true);

      expect(await ledger.getRefundRequest('rr_1')).toEqual(approved({ refund: made }));
      expect(await ledger.getIndexedRefund('re_approved')).toEqual(made);
      // One write holds both events; which of the two got the lower seq is the backend's business.
      const events = await eventsOf();
      expect(events[0]).toMatchObject({ type: 'refund_request.created', objectId: 'rr_1', sequence: 1 });
      expect(events.slice(1).sort((a, b) => (a.type < b.type ? -1 : 1))).toEqual([
        { type: 'refund.created', owner: 'support', objectType: 'refund', objectId: 're_approved', sequence: 1, previousStatus: null },
        { type: 'refund_request.approved', owner: 'support', objectType: 'refund_request', objectId: 'rr_1', sequence: 2, previousStatus: 'awaiting_approval' },
      ]);
      // Settled: nothing to take over any more.
      expect(await ledger.takeRefundRequestSettlement({ id: 'rr_1', settlement: lease('h3', 900_000), now: at(800_000) })).toBeNull();
    });

    it('when an approval’s refund has no outcome, then its settlement is taken over once released or run out, and the problem is stored', async () => {
      const { ledger } = db();
      await ledger.createRefundRequest(request(), T0);
      await ledger.decideRefundRequest({ after: approved(), now: at(60_000), settlement: lease('h1', 120_000) });
      // Run out: another attempt takes it.
      const taken = await ledger.takeRefundRequestSettlement({ id: 'rr_1', settlement: lease('h2', 300_000), now: at(120_000) });
      expect(taken).toEqual(approved());
      // Released: taken at once.
      await ledger.releaseRefundRequestSettlement('rr_1', 'h1');
      expect(await ledger.takeRefundRequestSettlement({ id: 'rr_1', settlement: lease('h3', 400_000), now: at(130_000) })).toBeNull();
      await ledger.releaseRefundRequestSettlement('rr_1', 'h2');
      expect(await ledger.takeRefundRequestSettlement({ id: 'rr_1', settlement: lease('h3', 400_000), now: at(130_000) })).toEqual(approved());

      const problem = { code: 'charge_already_refunded' as const, detail: 'Charge ch_1 has already been refunded in full.', fields: {}, requestId: 'req_9' };
      expect(await ledger.settleRefundRequest({ after: approved({ problem }), holder: 'h3', now: at(131_000) })).toBe(true);
      expect(await ledger.getRefundRequest('rr_1')).toEqual(approved({ problem }));
      expect((await eventsOf()).map((e) => e.type)).toEqual(['refund_request.created', 'refund_request.approved']);
    });

    it('when requests are listed, then newest first, filtered by status (expiry read at `now`) and requester, in pages', async () => {
      const { ledger } = db();
      await ledger.createRefundRequest(request({ id: 'rr_old', expiresAt: T0_SECONDS + 10 }), T0);
      await ledger.createRefundRequest(request({ id: 'rr_shop', requestedBy: 'shop' }), T0);
      await ledger.createRefundRequest(request({ id: 'rr_rejected' }), T0);
      await ledger.decideRefundRequest({ after: request({ id: 'rr_rejected', status: 'rejected', decidedBy: 'finance', decidedAt: T0_SECONDS }), now: T0 });
      await ledger.createRefundRequest(request({ id: 'rr_new' }), T0);
      const ids = async (query: Partial<Parameters<typeof ledger.listRefundRequests>[0]>) =>
        (await ledger.listRefundRequests({ limit: 10, now: at(60_000), ...query })).data.map((r) => r.id);

      expect(await ids({})).toEqual(['rr_new', 'rr_rejected', 'rr_shop', 'rr_old']);
      expect(await ids({ status: 'awaiting_approval' })).toEqual(['rr_new', 'rr_shop']);
      expect(await ids({ status: 'expired' })).toEqual(['rr_old']);
      expect(await ids({ status: 'rejected' })).toEqual(['rr_rejected']);
      expect(await ids({ status: 'awaiting_approval', now: T0 })).toEqual(['rr_new', 'rr_shop', 'rr_old']);
      expect(await ids({ requestedBy: 'shop' })).toEqual(['rr_shop']);

      const first = await ledger.listRefundRequests({ limit: 2, now: at(60_000) });
      expect(first.hasMore).toBe(true);
      const next = await ledger.listRefundRequests({ limit: 2, now: at(60_000), startingAfter: first.data[1]!.id });
      expect({ ids: next.data.map((r) => r.id), hasMore: next.hasMore }).toEqual({ ids: ['rr_shop', 'rr_old'], hasMore: false });
      const unknown = await ledger.listRefundRequests({ limit: 2, now: T0, startingAfter: 'rr_none' }).catch((e: unknown) => e);
      expect(isGatewayError(unknown) && unknown.code).toBe('validation_error');
    });
  });
}
