// Refund batches on PostgreSQL: shared by every replica, one statement per change, claims that never overlap.
import { newEventId } from '../../refunds/events.js';
import type { ClaimedBatchItem } from '../../refunds/ledger.js';
import { listBatchItems, outcomeJson, toBatch, toBatchItem, type BatchItemRow, type BatchMethods, type BatchRow } from '../batch-rows.js';
import { guarded } from '../ledger-errors.js';
import type { RunQuery } from '../refund-list.js';
import { CANCEL_BATCH, CLAIM_ITEMS, CREATE_BATCH, GET_BATCH, PRUNE_BATCHES, RETRY_ITEM, SETTLE_ITEM } from './pg-batch-statements.js';

const iso = (date: Date): string => date.toISOString();
const seconds = (date: Date): number => Math.floor(date.getTime() / 1000);

export function pgBatches(run: RunQuery): BatchMethods {
  const getBatch = async (id: string) => {
    const [row] = await run<BatchRow>(GET_BATCH, [id]);
    return row === undefined ? null : toBatch(row);
  };
  return {
    createBatch: ({ batch, items, now }) =>
      guarded(async () => {
        const keys = items.map((item) => item.key);
        const requests = items.map(({ key: _key, ...request }) => JSON.stringify(request));
        const [row] = await run<{ inserted: number }>(CREATE_BATCH, [batch.id, batch.requestedBy, items.length, batch.created, iso(now), keys, requests]);
        if (Number(row?.inserted ?? 0) > 0) return batch;
        const stored = await getBatch(batch.id);
        if (stored === null) throw new Error(`batch ${batch.id} was neither inserted nor found`);
        return stored;
      }),
    getBatch: (id) => guarded(() => getBatch(id)),
    listBatchItems: (query) => guarded(() => listBatchItems(run, query)),
    claimBatchItems: ({ holder, now, limit, leaseMs }) =>
      guarded(async () => {
        const rows = await run<BatchItemRow & { requested_by: string }>(CLAIM_ITEMS, [iso(now), limit, holder, iso(new Date(now.getTime() + leaseMs))]);
        return rows.map((row): ClaimedBatchItem => ({ ...toBatchItem(row), requestedBy: row.requested_by }));
      }),
    settleBatchItem: ({ batchId, position, holder, now, result }) =>
      guarded(async () => {
        const params = [batchId, position, holder, result.status, outcomeJson(result), seconds(now), newEventId(), iso(now)];
        const [row] = await run<{ settled: number }>(SETTLE_ITEM, params);
        return Number(row?.settled ?? 0) > 0;
      }),
    retryBatchItem: ({ batchId, position, holder, at }) =>
      guarded(async () => (await run(RETRY_ITEM, [batchId, position, holder, iso(at)])).length > 0),
    cancelBatch: (id, now) =>
      guarded(async () => {
        const [row] = await run<BatchRow>(CANCEL_BATCH, [id, seconds(now), newEventId(), iso(now)]);
        return row === undefined ? null : toBatch(row);
      }),
    pruneBatches: (before) => guarded(async () => Number((await run<{ deleted: number }>(PRUNE_BATCHES, [seconds(before)]))[0]?.deleted ?? 0)),
  };
}
