// Refund batches in the ledger on every backend: stored once, claimed one run at a time, counted, ended with one event.
import { describe, expect, it } from 'vitest';
import { createLedger } from '../../src/ledger/create-ledger.js';
import { emptyCounts, type BatchItemInput, type ItemResult, type RefundBatch } from '../../src/refunds/batch.js';
import type { Ledger } from '../../src/refunds/ledger.js';
import { ledgerBackends, postgresBackend, useTestLedger } from '../helpers/ledger.js';
import { at, refund, T0 } from './fixtures.js';

const LEASE = 30_000;
const newBatch = (id = 'rb_1', total = 3): RefundBatch => ({
  id,
  status: 'queued',
  counts: emptyCounts(total),
  requestedBy: 'billing',
  created: Math.floor(T0.getTime() / 1000),
  completedAt: null,
});
const items = (count: number, prefix = 'k'): BatchItemInput[] =>
  Array.from({ length: count }, (_, i) => ({ key: `${prefix}-${i}`, charge: `ch_${i}`, ...(i % 2 === 0 ? { amount: 100 + i } : {}) }));
const refunded = (id: string): ItemResult => ({ status: 'refunded', refund: refund({ id }) });
const refused: ItemResult = {
  status: 'refused',
  problem: { code: 'charge_already_refunded', detail: 'Charge ch_1 has already been refunded in full.', fields: {}, requestId: 'rb_1.1' },
};

async function storeAndClaimAll(ledger: Ledger, count: number, holder = 'w1') {
  await ledger.createBatch({ batch: newBatch('rb_1', count), items: items(count), now: T0 });
  return ledger.claimBatchItems({ holder, now: at(1), limit: count, leaseMs: LEASE });
}

const completions = async (ledger: Ledger) =>
  (await ledger.listEvents({ caller: 'billing', all: false, limit: 100 })).data.filter((e) => e.type === 'refund_batch.completed');

for (const backend of ledgerBackends) {
  describe.skipIf(backend.skip)(`refund batches on ${backend.name}`, () => {
    const db = useTestLedger(backend);

    it('when a batch is stored, then it is queued with every item pending, in the order sent, each with its request', async () => {
      const { ledger } = db();
      const stored = await ledger.createBatch({ batch: newBatch('rb_1', 3), items: items(3), now: T0 });

      expect(stored).toEqual(newBatch('rb_1', 3));
      expect(await ledger.getBatch('rb_1')).toEqual(newBatch('rb_1', 3));
      const page = await ledger.listBatchItems({ batchId: 'rb_1', limit: 10 });
      expect(page.hasMore).toBe(false);
      expect(page.data.map((i) => [i.key, i.position, i.status, i.attempts])).toEqual([
        ['k-0', 0, 'pending', 0],
        ['k-1', 1, 'pending', 0],
        ['k-2', 2, 'pending', 0],
      ]);
      expect(page.data.map((i) => i.request)).toEqual([{ charge: 'ch_0', amount: 100 }, { charge: 'ch_1' }, { charge: 'ch_2', amount: 102 }]);
      expect(await ledger.getBatch('rb_other')).toBeNull();
    });

    it('when the same batch id is stored again (a retried POST), then nothing is added and the stored batch comes back', async () => {
      const { ledger } = db();
      await ledger.createBatch({ batch: newBatch('rb_1', 3), items: items(3), now: T0 });
      const [item] = await ledger.claimBatchItems({ holder: 'w1', now: at(1), limit: 1, leaseMs: LEASE });
      await ledger.settleBatchItem({ batchId: 'rb_1', position: item!.position, holder: 'w1', now: at(2), result: refunded('re_0') });

      const again = await ledger.createBatch({ batch: newBatch('rb_1', 3), items: items(3, 'other'), now: at(3) });

      expect(again).toMatchObject({ id: 'rb_1', status: 'running', counts: { total: 3, pending: 2, refunded: 1 } });
      expect((await ledger.listBatchItems({ batchId: 'rb_1', limit: 10 })).data.map((i) => i.key)).toEqual(['k-0', 'k-1', 'k-2']);
    });

    it('when items are claimed, then each is held for one run, counted, and the batch runs; a held item is not claimed again until its lease ends', async () => {
      const { ledger } = db();
      await ledger.createBatch({ batch: newBatch('rb_1', 3), items: items(3), now: T0 });

      const first = await ledger.claimBatchItems({ holder: 'w1', now: at(1), limit: 2, leaseMs: LEASE });
      const second = await ledger.claimBatchItems({ holder: 'w2', now: at(2), limit: 5, leaseMs: LEASE });
      const none = await ledger.claimBatchItems({ holder: 'w3', now: at(3), limit: 5, leaseMs: LEASE });

      expect(first.map((i) => [i.key, i.attempts, i.requestedBy])).toEqual([
        ['k-0', 1, 'billing'],
        ['k-1', 1, 'billing'],
      ]);
      expect(second.map((i) => i.key)).toEqual(['k-2']);
      expect(none).toEqual([]);
      expect((await ledger.getBatch('rb_1'))?.status).toBe('running');

      // w1 died: its items come back once the lease ran out, with their runs counted.
      const retaken = await ledger.claimBatchItems({ holder: 'w3', now: at(1 + LEASE), limit: 5, leaseMs: LEASE });
      expect(retaken.map((i) => [i.key, i.attempts])).toEqual([
        ['k-0', 2],
        ['k-1', 2],
      ]);
      // The late first holder can no longer store an answer.
      expect(await ledger.settleBatchItem({ batchId: 'rb_1', position: 0, holder: 'w1', now: at(LEASE + 2), result: refunded('re_0') })).toBe(false);
      expect((await ledger.getBatch('rb_1'))?.counts.pending).toBe(3);
    });

    it('when every item is answered, then the counts add up and the last answer completes the batch with one refund_batch.completed event', async () => {
      const { ledger } = db();
      const claimed = await storeAndClaimAll(ledger, 3);

      expect(await ledger.settleBatchItem({ batchId: 'rb_1', position: 0, holder: 'w1', now: at(10), result: refunded('re_0') })).toBe(true);
      expect(await ledger.settleBatchItem({ batchId: 'rb_1', position: 1, holder: 'w1', now: at(11), result: refused })).toBe(true);
      expect(await completions(ledger)).toEqual([]);
      expect(await ledger.settleBatchItem({ batchId: 'rb_1', position: 2, holder: 'w1', now: at(2_000), result: { status: 'failed', problem: { ...refused.problem, code: 'upstream_error' } } })).toBe(true);
      // A second answer for the same run changes nothing.
      expect(await ledger.settleBatchItem({ batchId: 'rb_1', position: 2, holder: 'w1', now: at(2_001), result: refunded('re_2') })).toBe(false);

      expect(claimed).toHaveLength(3);
      const completed = { ...newBatch('rb_1', 3), status: 'completed', completedAt: Math.floor(at(2_000).getTime() / 1000), counts: { ...emptyCounts(3), pending: 0, refunded: 1, refused: 1, failed: 1 } };
      expect(await ledger.getBatch('rb_1')).toEqual(completed);
      const events = await completions(ledger);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ owner: 'billing', objectType: 'refund_batch', objectId: 'rb_1', sequence: 1, previousStatus: 'running', object: completed });
      const listed = (await ledger.listBatchItems({ batchId: 'rb_1', limit: 10 })).data;
      expect(listed.map((i) => i.status)).toEqual(['refunded', 'refused', 'failed']);
      expect(listed[0]?.refund).toEqual(refund({ id: 're_0' }));
      expect(listed[1]?.problem).toEqual(refused.problem);
    });

    it('when an item is to be retried, then it is free again from the given time only, with its run counted', async () => {
      const { ledger } = db();
      await storeAndClaimAll(ledger, 1);

      expect(await ledger.retryBatchItem({ batchId: 'rb_1', position: 0, holder: 'w1', at: at(5_000) })).toBe(true);
      expect(await ledger.retryBatchItem({ batchId: 'rb_1', position: 0, holder: 'w1', at: at(5_000) })).toBe(false);

      expect(await ledger.claimBatchItems({ holder: 'w2', now: at(4_999), limit: 5, leaseMs: LEASE })).toEqual([]);
      expect((await ledger.claimBatchItems({ holder: 'w2', now: at(5_000), limit: 5, leaseMs: LEASE })).map((i) => i.attempts)).toEqual([2]);
    });

    it('when a batch is canceled, then items never run are canceled, started ones go on, and the batch ends canceled once they are answered', async () => {
      const { ledger } = db();
      await ledger.createBatch({ batch: newBatch('rb_1', 4), items: items(4), now: T0 });
      // k-0 runs now; k-1 ran once and waits for a retry: both may have reached Stripe.
      await ledger.claimBatchItems({ holder: 'w1', now: at(1), limit: 2, leaseMs: LEASE });
      await ledger.retryBatchItem({ batchId: 'rb_1', position: 1, holder: 'w1', at: at(60_000) });

      const canceled = await ledger.cancelBatch('rb_1', at(10));

      expect(canceled).toMatchObject({ status: 'running', completedAt: null, counts: { pending: 2, canceled: 2 } });
      expect(await ledger.claimBatchItems({ holder: 'w2', now: at(20), limit: 5, leaseMs: LEASE })).toEqual([]);
      expect(await completions(ledger)).toEqual([]);

      await ledger.settleBatchItem({ batchId: 'rb_1', position: 0, holder: 'w1', now: at(30), result: refunded('re_0') });
      const [retried] = await ledger.claimBatchItems({ holder: 'w2', now: at(60_000), limit: 5, leaseMs: LEASE });
      expect(retried?.key).toBe('k-1');
      await ledger.settleBatchItem({ batchId: 'rb_1', position: 1, holder: 'w2', now: at(60_001), result: refunded('re_1') });

      expect(await ledger.getBatch('rb_1')).toMatchObject({ status: 'canceled', completedAt: Math.floor(at(60_001).getTime() / 1000), counts: { pending: 0, refunded: 2, canceled: 2 } });
      expect((await ledger.listBatchItems({ batchId: 'rb_1', limit: 10 })).data.map((i) => i.status)).toEqual(['refunded', 'refunded', 'canceled', 'canceled']);
      const events = await completions(ledger);
      expect(events).toHaveLength(1);
      expect(events[0]?.object).toMatchObject({ status: 'canceled' });
    });

    it('when a batch with nothing started is canceled, then it ends at once; canceling again or after the end changes nothing', async () => {
      const { ledger } = db();
      await ledger.createBatch({ batch: newBatch('rb_1', 2), items: items(2), now: T0 });

      const canceled = await ledger.cancelBatch('rb_1', at(10));
      const again = await ledger.cancelBatch('rb_1', at(20));

      const ended = { ...newBatch('rb_1', 2), status: 'canceled', completedAt: Math.floor(at(10).getTime() / 1000), counts: { ...emptyCounts(2), pending: 0, canceled: 2 } };
      expect(canceled).toEqual(ended);
      expect(again).toEqual(ended);
      const events = await completions(ledger);
      expect(events).toHaveLength(1);
      expect(events[0]?.previousStatus).toBe('queued');
      expect(await ledger.cancelBatch('rb_missing', at(10))).toBeNull();
    });

    it('when items are listed, then they page by key in the order sent and filter by status; an unknown key is a validation error', async () => {
      const { ledger } = db();
      await storeAndClaimAll(ledger, 5);
      for (const position of [1, 3]) await ledger.settleBatchItem({ batchId: 'rb_1', position, holder: 'w1', now: at(2), result: refused });

      const first = await ledger.listBatchItems({ batchId: 'rb_1', limit: 2 });
      const second = await ledger.listBatchItems({ batchId: 'rb_1', limit: 2, startingAfter: 'k-1' });
      const last = await ledger.listBatchItems({ batchId: 'rb_1', limit: 2, startingAfter: 'k-3' });
      const pending = await ledger.listBatchItems({ batchId: 'rb_1', limit: 10, status: 'pending', startingAfter: 'k-0' });

      expect([first.data.map((i) => i.key), first.hasMore]).toEqual([['k-0', 'k-1'], true]);
      expect([second.data.map((i) => i.key), second.hasMore]).toEqual([['k-2', 'k-3'], true]);
      expect([last.data.map((i) => i.key), last.hasMore]).toEqual([['k-4'], false]);
      expect(pending.data.map((i) => i.key)).toEqual(['k-2', 'k-4']);
      await expect(ledger.listBatchItems({ batchId: 'rb_1', limit: 2, startingAfter: 'nope' })).rejects.toMatchObject({ code: 'validation_error' });
    });

    it('when ended batches are pruned, then those that ended before the cut go with their items, and running ones stay', async () => {
      const { ledger } = db();
      await ledger.createBatch({ batch: newBatch('rb_old', 1), items: items(1), now: T0 });
      await ledger.cancelBatch('rb_old', T0);
      await ledger.createBatch({ batch: newBatch('rb_running', 1), items: items(1), now: T0 });

      expect(await ledger.pruneBatches(at(60_000))).toBe(1);

      expect(await ledger.getBatch('rb_old')).toBeNull();
      expect(await ledger.getBatch('rb_running')).not.toBeNull();
      expect(await db().sql.query(`SELECT item_key FROM refund_batch_items WHERE batch_id = 'rb_old'`)).toEqual([]);
    });

    it('when a batch of 10 000 items is stored, then every item is there in order, in one write', async () => {
      const { ledger } = db();
      await ledger.createBatch({ batch: newBatch('rb_big', 10_000), items: items(10_000), now: T0 });

      expect((await ledger.getBatch('rb_big'))?.counts).toMatchObject({ total: 10_000, pending: 10_000 });
      const tail = await ledger.listBatchItems({ batchId: 'rb_big', limit: 2, startingAfter: 'k-9997' });
      expect(tail.data.map((i) => [i.key, i.position])).toEqual([
        ['k-9998', 9_998],
        ['k-9999', 9_999],
      ]);
    });
  });
}

describe.skipIf(postgresBackend.skip)(`refund batches across replicas on ${postgresBackend.name}`, () => {
  const db = useTestLedger(postgresBackend);

  it('when two replicas claim and settle the same batch at once, then no item is taken twice and the counts end exact', async () => {
    const { databaseUrl } = db();
    const replicas = await Promise.all([0, 1].map(() => createLedger({ kind: 'postgres', databaseUrl: databaseUrl! })));
    try {
      const [a, b] = replicas as [Ledger, Ledger];
      await a.createBatch({ batch: newBatch('rb_1', 200), items: items(200), now: T0 });
      const taken = new Map<string, string>();
      const work = async (ledger: Ledger, holder: string) => {
        for (;;) {
          const claimed = await ledger.claimBatchItems({ holder, now: at(1), limit: 7, leaseMs: LEASE });
          if (claimed.length === 0) return;
          for (const item of claimed) {
            expect(taken.has(item.key)).toBe(false);
            taken.set(item.key, holder);
          }
          await Promise.all(claimed.map((item) => ledger.settleBatchItem({ batchId: 'rb_1', position: item.position, holder, now: at(2), result: refunded(`re_${item.position}`) })));
        }
      };
      await Promise.all([work(a, 'a'), work(b, 'b'), work(a, 'a2'), work(b, 'b2')]);

      expect(taken.size).toBe(200);
      expect(new Set(taken.values()).size).toBeGreaterThan(1);
      expect(await a.getBatch('rb_1')).toMatchObject({ status: 'completed', counts: { pending: 0, refunded: 200 } });
      expect(await completions(a)).toHaveLength(1);
    } finally {
      await Promise.all(replicas.map((l) => l.close()));
    }
  });

  it('when a cancel races the last answers, then the batch ends once with one event', async () => {
    const { ledger } = db();
    await ledger.createBatch({ batch: newBatch('rb_1', 40), items: items(40), now: T0 });
    const claimed = await ledger.claimBatchItems({ holder: 'w', now: at(1), limit: 20, leaseMs: LEASE });

    await Promise.all([
      ...claimed.map((item) => ledger.settleBatchItem({ batchId: 'rb_1', position: item.position, holder: 'w', now: at(2), result: refunded(`re_${item.position}`) })),
      ledger.cancelBatch('rb_1', at(2)),
      ledger.cancelBatch('rb_1', at(2)),
    ]);

    expect(await ledger.getBatch('rb_1')).toMatchObject({ status: 'canceled', counts: { pending: 0, refunded: 20, canceled: 20 } });
    expect(await completions(ledger)).toHaveLength(1);
  });
});
