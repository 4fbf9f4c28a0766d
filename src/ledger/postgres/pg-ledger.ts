// The Ledger port on PostgreSQL: state shared by every replica, in as few statements per refund as it can be.
import type { BeginIdempotentInput, CompleteIdempotentInput, IdempotencyBegin, Ledger } from '../../refunds/ledger.js';
import type { Refund } from '../../refunds/types.js';
import { decide, type ExistingRecord } from '../idempotency-decision.js';
import { guarded } from '../ledger-errors.js';
import type { LedgerLogger } from '../ledger-logger.js';
import { listIndexedRefunds } from '../refund-list.js';
import { REFUND_COLUMNS, refundParams, toRefund, type RefundRow } from '../refund-rows.js';
import { PgPaymentLocks } from './pg-payment-locks.js';
import type { PgPools } from './pg-pools.js';
import { BEGIN_RECORD, COMPLETE_RECORD, PRUNE_RECORDS, refundUpsert, RELEASE_RECORD, TAKE_RECORD } from './pg-statements.js';

type BeginRow = ExistingRecord & { inserted: boolean };

const iso = (date: Date): string => date.toISOString();

export function createPgLedger(pools: PgPools, logger: LedgerLogger): Ledger {
  const run = async <Row>(sql: string, params: unknown[] = []): Promise<Row[]> =>
    (await pools.query.query(sql, params)).rows as Row[];
  const paymentLocks = new PgPaymentLocks(pools.locks, logger);

  async function begin(input: BeginIdempotentInput): Promise<IdempotencyBegin> {
    const now = iso(input.now);
    const lease = iso(new Date(input.now.getTime() + input.leaseMs));
    // A record deleted or inserted between two statements makes the answer stale: ask again, a few times at most.
    for (let round = 0; round < 3; round += 1) {
      const [row] = await run<BeginRow>(BEGIN_RECORD, [input.scope, input.fingerprint, input.requestId, input.holder, lease, now]);
      if (row === undefined) continue;
      if (row.inserted) return { kind: 'started', requestId: row.request_id };
      const decided = decide(row, input.fingerprint, input.now);
      if (decided !== 'take') return decided;
      const [taken] = await run<{ request_id: string }>(TAKE_RECORD, [input.scope, input.fingerprint, input.holder, lease, now]);
      if (taken) return { kind: 'resumed', requestId: taken.request_id };
    }
    throw new Error(`Idempotency record ${input.scope} kept changing while it was being read.`);
  }

  async function complete(input: CompleteIdempotentInput): Promise<boolean> {
    const refund: Refund | null = input.refund;
    const params = [
      input.scope,
      JSON.stringify(input.outcome ?? null),
      refund?.id ?? null,
      iso(input.now),
      input.holder,
      ...(refund ? refundParams(refund) : new Array<null>(12).fill(null)),
      iso(input.now),
    ];
    const [row] = await run<{ completed: number }>(COMPLETE_RECORD, params);
    return Number(row?.completed ?? 0) > 0;
  }

  return {
    beginIdempotent: (input) => guarded(() => begin(input)),
    completeIdempotent: (input) => guarded(() => complete(input)),
    releaseIdempotent: (scope, holder) => guarded(async () => void (await run(RELEASE_RECORD, [scope, holder]))),
    pruneIdempotency: (before) => guarded(async () => Number((await run<{ deleted: number }>(PRUNE_RECORDS, [iso(before)]))[0]?.deleted ?? 0)),
    recordRefund: (refund, now) => guarded(async () => void (await run(refundUpsert(1), [...refundParams(refund), iso(now)]))),
    getIndexedRefund: (id) =>
      guarded(async () => {
        const [row] = await run<RefundRow>(`SELECT ${REFUND_COLUMNS} FROM refunds WHERE id = $1`, [id]);
        return row === undefined ? null : toRefund(row);
      }),
    listIndexedRefunds: (query) => guarded(() => listIndexedRefunds(run, query)),
    paymentLocks,
    ping: () => guarded(async () => void (await run('SELECT 1'))),
    close: async () => {
      await paymentLocks.drain();
      await pools.close();
    },
  };
}
