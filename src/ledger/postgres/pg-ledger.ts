// The Ledger port on PostgreSQL: state shared by every replica, in as few statements per refund as it can be.
import { newEventId } from '../../refunds/events.js';
import type { BeginIdempotentInput, CompleteIdempotentInput, IdempotencyBegin, JobTake, Ledger, StripeEventRecord } from '../../refunds/ledger.js';
import type { Refund } from '../../refunds/types.js';
import { listEvents, refundEventObject, toEvent, type EventRow } from '../event-rows.js';
import { decide, type ExistingRecord } from '../idempotency-decision.js';
import { toJobState, untaken, type JobRow } from '../job-rows.js';
import { guarded } from '../ledger-errors.js';
import type { LedgerLogger } from '../ledger-logger.js';
import { listIndexedRefunds } from '../refund-list.js';
import { readTime, REFUND_COLUMNS, refundParams, toRefund, type RefundRow } from '../refund-rows.js';
import { pgApprovals } from './pg-approvals.js';
import { pgBatches } from './pg-batches.js';
import { PgPaymentLocks } from './pg-payment-locks.js';
import type { PgPools } from './pg-pools.js';
import { inTransaction } from './pg-transaction.js';
import {
  BEGIN_RECORD,
  CLAIM_DELIVERIES,
  COMPLETE_RECORD,
  DELIVERY_BACKLOG,
  FAN_OUT,
  HEARTBEAT,
  FINISH_JOB,
  FIRST_JOB,
  HAS_STRIPE_EVENT,
  JOB_STATUS,
  MARK_CHECKED,
  PRUNE_STRIPE_EVENTS,
  PRUNE_RECORDS,
  RECORD_REFUND,
  REFUND_CHANGE_PARAMS,
  RELEASE_RECORD,
  SAVE_JOB,
  SETTLE_DELIVERY,
  STORE_STRIPE_EVENT,
  STORE_STRIPE_EVENT_WITH_REFUND,
  TAKE_JOB,
  TAKE_RECORD,
  UNSETTLED_REFUNDS,
  type NamedStatement,
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
  const run = async <Row>(sql: string | NamedStatement, params: unknown[] = []): Promise<Row[]> =>
    (await (typeof sql === 'string' ? pools.query.query(sql, params) : pools.query.query({ name: sql.name, text: sql.text, values: params }))).rows as Row[];
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

  /**
   * One refund (the usual webhook): one statement. Several (charge.refunded): one transaction, so the id is never
   * stored without every refund it reported, nor the other way round.
   */
  async function applyStripeEvent(event: StripeEventRecord): Promise<boolean> {
    const eventParams = [event.id, event.type, event.created, event.source, iso(event.now)];
    const [only, ...more] = event.refunds;
    if (more.length === 0) {
      const sql = only ? STORE_STRIPE_EVENT_WITH_REFUND : STORE_STRIPE_EVENT;
      const params = only ? [...eventParams, ...changeParams(only, event.now)] : eventParams;
      const [row] = await retryingSequence(() => run<{ stored: number }>(sql, params));
      return Number(row?.stored ?? 0) > 0;
    }
    return retryingSequence(() =>
      inTransaction(pools.query, async (client) => {
        const stored = (await client.query(STORE_STRIPE_EVENT, eventParams)).rows[0] as { stored: number } | undefined;
        // Seen before: nothing was written, so the commit that follows is empty.
        if (Number(stored?.stored ?? 0) === 0) return false;
        for (const refund of event.refunds) await client.query(RECORD_REFUND, changeParams(refund, event.now));
        return true;
      }),
    );
  }

  async function takeJob(input: { job: string; holder: string; now: Date; leaseMs: number }): Promise<JobTake> {
    const params = [input.job, input.holder, iso(input.now), iso(new Date(input.now.getTime() + input.leaseMs))];
    let [taken] = await run<JobRow>(TAKE_JOB, params);
    taken ??= (await run<JobRow>(FIRST_JOB, params))[0];
    if (taken) return { kind: 'taken', job: toJobState(taken) };
    const [row] = await run<JobRow>(JOB_STATUS, [input.job]);
    // Deleted between the statements (by hand): not ours this time; the next tick makes it again.
    if (!row) return { kind: 'busy', job: { state: {}, lastSuccessAt: null, nextRunAt: input.now, holder: null } };
    return { kind: untaken(row, input.now), job: toJobState(row) };
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
    hasStripeEvent: (id) => guarded(async () => (await run(HAS_STRIPE_EVENT, [id])).length > 0),
    applyStripeEvent: (event) => guarded(() => applyStripeEvent(event)),
    pruneStripeEvents: (before) => guarded(async () => Number((await run<{ deleted: number }>(PRUNE_STRIPE_EVENTS, [iso(before)]))[0]?.deleted ?? 0)),
    listUnsettledRefunds: ({ before, limit }) => guarded(async () => (await run<RefundRow>(UNSETTLED_REFUNDS, [iso(before), limit])).map(toRefund)),
    markRefundsChecked: (ids, now) => guarded(async () => void (ids.length > 0 && (await run(MARK_CHECKED, [[...ids], iso(now)])))),
    takeJob: (input) => guarded(() => takeJob(input)),
    saveJob: ({ job, holder, now, leaseMs, state }) =>
      guarded(async () => (await run(SAVE_JOB, [job, holder, JSON.stringify(state), iso(new Date(now.getTime() + leaseMs))])).length > 0),
    finishJob: ({ job, holder, now, nextRunAt, succeeded, state }) =>
      guarded(
        async () =>
          (await run(FINISH_JOB, [job, holder, iso(nextRunAt), state === undefined ? null : JSON.stringify(state), succeeded, iso(now)])).length > 0,
      ),
    jobStatus: (job) =>
      guarded(async () => {
        const [row] = await run<JobRow>(JOB_STATUS, [job]);
        return row ? toJobState(row) : null;
      }),
    listEvents: (query) => guarded(() => listEvents(run, query)),
    fanOutEvents: ({ listeners, now, limit }) =>
      guarded(async () => {
        const params = [limit, listeners.map((l) => l.caller), listeners.map((l) => l.all), iso(now)];
        return Number((await run<{ made: number }>(FAN_OUT, params))[0]?.made ?? 0);
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
    ...pgApprovals(run, retryingSequence),
    heartbeat: ({ replica, now, staleAfterMs }) =>
      guarded(async () => {
        const [row] = await run<{ replicas: number }>(HEARTBEAT, [replica, iso(now), iso(new Date(now.getTime() - staleAfterMs))]);
        return Number(row?.replicas ?? 1);
      }),
    ...pgBatches(run),
    paymentLocks,
    ping: () => guarded(async () => void (await run('SELECT 1'))),
    // pg's pools keep these counts themselves; read at scrape time for the saturation gauges.
    connectionPools: () =>
      (
        [
          ['queries', pools.query],
          ['locks', pools.locks],
        ] as const
      ).map(([pool, p]) => ({ pool, max: p.options.max, total: p.totalCount, idle: p.idleCount, waiting: p.waitingCount })),
    close: async () => {
      await paymentLocks.drain();
      await pools.close();
    },
  };
}
