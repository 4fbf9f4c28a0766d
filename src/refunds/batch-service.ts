// Refund batches as callers see them: send one (idempotent), read it, list its items, cancel what has not started.
import { BATCH_ROUTE, batchIdOf, emptyCounts, type BatchItem, type BatchItemInput, type BatchItemStatus, type RefundBatch } from './batch.js';
import { GatewayError } from './gateway-error.js';
import { runIdempotent, type IdempotencyDeps } from './idempotency.js';
import type { Ledger } from './ledger.js';
import type { CallerContext } from './refund-service.js';
import type { Page } from './types.js';

export interface BatchServiceDeps {
  ledger: Ledger;
  idempotency: IdempotencyDeps;
  now: () => Date;
  /** Told when a new batch is stored, so this process's worker starts on it at once instead of at its next look. */
  onQueued?: () => void;
}

const notFound = (id: string): GatewayError => new GatewayError('not_found', `Refund batch ${id} does not exist.`);

export class BatchService {
  readonly #deps: BatchServiceDeps;

  constructor(deps: BatchServiceDeps) {
    this.#deps = deps;
  }

  /**
   * Stores the batch and its items under the batch's own Idempotency-Key: a retry with the same key and items replays
   * the first answer (the same batch); the batch's id is derived from the key, so even a retry after a crash between
   * storing the batch and its answer finds the same batch instead of queueing the items twice.
   */
  async create(caller: CallerContext, idempotencyKey: string, items: readonly BatchItemInput[]): Promise<{ replayed: boolean; value: RefundBatch }> {
    const { ledger, now } = this.#deps;
    const answer = await runIdempotent<RefundBatch>(
      this.#deps.idempotency,
      { callerId: caller.callerId, route: BATCH_ROUTE, key: idempotencyKey },
      { requestId: caller.requestId, body: { items } },
      async (attempt) => {
        const created = now();
        const batch: RefundBatch = {
          id: batchIdOf(attempt.requestId),
          status: 'queued',
          counts: emptyCounts(items.length),
          requestedBy: caller.callerId,
          created: Math.floor(created.getTime() / 1000),
          completedAt: null,
        };
        return { value: await ledger.createBatch({ batch, items, now: created }), refund: null };
      },
    );
    if (!answer.replayed) this.#deps.onQueued?.();
    return answer;
  }

  async get(id: string): Promise<RefundBatch> {
    const batch = await this.#deps.ledger.getBatch(id);
    if (batch === null) throw notFound(id);
    return batch;
  }

  async listItems(query: { batchId: string; status?: BatchItemStatus; limit: number; startingAfter?: string }): Promise<Page<BatchItem>> {
    // An unknown batch is a 404, not an empty list that looks like a batch with no items of that status.
    await this.get(query.batchId);
    return this.#deps.ledger.listBatchItems(query);
  }

  /** Cancels the items not started; the batch as it is then (canceled, or running until its started items end). */
  async cancel(id: string): Promise<RefundBatch> {
    const batch = await this.#deps.ledger.cancelBatch(id, this.#deps.now());
    if (batch === null) throw notFound(id);
    return batch;
  }
}
