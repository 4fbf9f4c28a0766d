// The Ledger port on PostgreSQL: state shared by every replica, in as few statements per refund as it can be.
import { newEventId } from '../../refunds/events.js';
import type { BeginIdempotentInput, CompleteIdempotentInput, IdempotencyBegin, Ledger } from '../../refunds/ledger.js';
import type { Refund } from '../../refunds/types.js';
import { listEvents, refundEventObject, toEvent, type EventRow } from '../event-rows.js';
import { decide, type ExistingRecord } from '../idempotency-decision.js';
import { guarded } from '../ledger-errors.js';
import type { LedgerLogger } from '../ledger-logger.js';
import { listIndexedRefunds } from '../refund-list.js';
import { readTime, REFUND_COLUMNS, refundParams, toRefund, type RefundRow } from '../refund-rows.js';
import { PgPaymentLocks } from './pg-payment-locks.js';
import type { PgPools } from './pg-pools.js';
import {
  BEGIN_RECORD,
  CLAIM_DELIVERIES,
  COMPLETE_RECORD,
  DELIVERY_BACKLOG,
  FAN_OUT,
  HEARTBEAT,
  PRUNE_RECORDS,
  RECORD_REFUND,
  REFUND_CHANGE_PARAMS,
  RELEASE_RECORD,
  SETTLE_DELIVERY,
  START_CURSOR,
  TAKE_RECORD,
} from './pg-statements.js';

type BeginRow = ExistingRecord & { inserted: boolean };

const UNIQUE_VIOLATION = '23505';
const iso = (date: Date): string => date.toISOString();

/** Runs a statement that writes an event again when a concurrent writer of the same object took its sequence number. */
async function retryingSequence<T>(write: () => Promise<T>): Promise<T> {
  for (let round = 0; ; round += 1) {
    try {
      return await write();
    } catch (error) {
      const { code, constraint } = error as { code?: string; constraint?: string };
      if (round >= 3 || code !== UNIQUE_VIOLATION || !constraint?.startsWith('events_')) throw error;
    }
  }
}

export function createPgLedger(pools: PgPools, logger: LedgerLogger): Ledger {
  const run = async <Row>(sql: string, params: unknown[] = []): Promise<Row[]> =>
    (await pools.query.query(sql, params)).rows as Row[];
  const paymentLocks = new PgPaymentLocks(pools.locks, logger);

  /** refundChange's parameters for one refund (or nulls, for a completion that is about no refund). */
  const changeParams = (refund: Refund | null, now: Date): unknown[] =>
    refund
      ? [...refundParams(refund), iso(now), newEventId(), refundEventObject(refund)]
      : new Array<null>(REFUND_CHANGE_PARAMS).fill(null);

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
    const params = [
      input.scope,
      JSON.stringify(input.outcome ?? null),
      input.refund?.id ?? null,
      iso(input.now),
      input.holder,
      ...changeParams(input.refund, input.now),
    ];
    const [row] = await retryingSequence(() => run<{ completed: number }>(COMPLETE_RECORD, params));
    return Number(row?.completed ?? 0) > 0;
  }

  return {
    beginIdempotent: (input) => guarded(() => begin(input)),
    completeIdempotent: (input) => guarded(() => complete(input)),
    releaseIdempotent: (scope, holder) => guarded(async () => void (await run(RELEASE_RECORD, [scope, holder]))),
    pruneIdempotency: (before) => guarded(async () => Number((await run<{ deleted: number }>(PRUNE_RECORDS, [iso(before)]))[0]?.deleted ?? 0)),
    recordRefund: (refund, now) => guarded(async () => void (await retryingSequence(() => run(RECORD_REFUND, changeParams(refund, now))))),
    getIndexedRefund: (id) =>
      guarded(async () => {
        const [row] = await run<RefundRow>(`SELECT ${REFUND_COLUMNS} FROM refunds WHERE id = $1`, [id]);
        return row === undefined ? null : toRefund(row);
      }),
    listIndexedRefunds: (query) => guarded(() => listIndexedRefunds(run, query)),
    listEvents: (query) => guarded(() => listEvents(run, query)),
    fanOutEvents: ({ caller, all, now, limit }) =>
      guarded(async () => {
        await run(START_CURSOR, [caller]);
        return Number((await run<{ made: number }>(FAN_OUT, [caller, all, limit, iso(now)]))[0]?.made ?? 0);
      }),
    claimDeliveries: ({ holder, now, limit, leaseMs }) =>
      guarded(async () => {
        const rows = await run<EventRow & { caller: string; attempts: number }>(CLAIM_DELIVERIES, [
          iso(now),
          limit,
          holder,
          iso(new Date(now.getTime() + leaseMs)),
        ]);
        return rows.map((row) => ({ event: toEvent(row), caller: row.caller, attempts: Number(row.attempts) }));
      }),
    settleDelivery: ({ eventId, caller, holder, now, result }) =>
      guarded(async () => {
        const next = result.kind === 'retry' ? iso(result.at) : null;
        const error = result.kind === 'delivered' ? null : result.error;
        const state = result.kind === 'retry' ? 'pending' : result.kind;
        await run(SETTLE_DELIVERY, [eventId, caller, holder, state, next, error, iso(now)]);
      }),
    deliveryBacklog: (now) =>
      guarded(async () => {
        const [row] = await run<{ pending: number; oldest: Date | null }>(DELIVERY_BACKLOG);
        const oldest = row?.oldest ? readTime(row.oldest) : null;
        return { pending: Number(row?.pending ?? 0), oldestPendingSeconds: oldest ? Math.max(0, (now.getTime() - oldest.getTime()) / 1000) : null };
      }),
    heartbeat: ({ replica, now, staleAfterMs }) =>
      guarded(async () => {
        const [row] = await run<{ replicas: number }>(HEARTBEAT, [replica, iso(now), iso(new Date(now.getTime() - staleAfterMs))]);
        return Number(row?.replicas ?? 1);
      }),
    paymentLocks,
    ping: () => guarded(async () => void (await run('SELECT 1'))),
    close: async () => {
      await paymentLocks.drain();
      await pools.close();
    },
  };
}
