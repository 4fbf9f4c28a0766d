// One reconciliation run: Stripe's event list read forward from the stored cursor, then refunds that stayed unsettled re-read.
import { isGatewayError } from './gateway-error.js';
import type { Ledger } from './ledger.js';
import type { CallOptions } from './payment-gateway.js';
import type { RefundLifecycle } from './refund-lifecycle.js';
import { REFUND_EVENT_TYPES, type ProviderEvent, type ProviderEventSource } from './stripe-events.js';

export const RECONCILE_JOB = 'reconcile';

/** The progress kept in the job's row: the last event applied, or where a walk without one starts (unix seconds). */
export interface ReconcileState {
  cursor?: string;
  since?: number;
}

export interface ReconcileSummary {
  /** Events the list gave (new or not). */
  eventsSeen: number;
  /** Events applied now (the others were applied before, by webhook or an earlier run, or are not about refunds). */
  eventsApplied: number;
  refundsReread: number;
  /** Seconds from the newest event applied now being made at Stripe to this run; 0 when nothing new was there. */
  lagSeconds: number;
  /** Whether the list was read to its newest event (false: the page budget ran out; the next run goes on). */
  caughtUp: boolean;
  /** Set when the stored cursor was gone (older than Stripe keeps events): the run started from the present. */
  cursorLost: boolean;
  /** The last event applied, where the next run starts. */
  cursor: string | undefined;
  /** When the run held the job: from just after its lease was taken to just before it was given back. */
  startedAt: Date;
  finishedAt: Date;
}

export type ReconcileResult =
  | { kind: 'done'; summary: ReconcileSummary }
  /** Another replica holds the job. */
  | { kind: 'busy' }
  /** Its next run (by any replica) is still to come. */
  | { kind: 'not_due' };

export interface ReconciliationDeps {
  ledger: Ledger;
  events: ProviderEventSource;
  lifecycle: RefundLifecycle;
  now: () => Date;
  /** This process's name in the job's lease. */
  holder: string;
  intervalMs: number;
  /** How long one holder keeps the job without news; renewed as the run goes, so only a dead holder loses it. */
  leaseMs: number;
  /** Event pages (100 each) read per run, and refunds re-read per run: a run never floods Stripe. */
  maxPages: number;
  maxRereads: number;
  callOptions?: CallOptions;
  /** Wraps a run once the job is taken (tracing gives each run a trace of its own; a look that finds it not due, none). */
  aroundRun?: (run: () => Promise<ReconcileSummary>) => Promise<ReconcileSummary>;
}

/** Stripe and the gateway disagree on the time by a little: a walk from a moment looks this much further back. */
const CLOCK_MARGIN_SECONDS = 60;
const PAGE = 100;

class LeaseLost extends Error {
  constructor() {
    super('Another replica took the reconciliation job over (this run outlived its lease); this run stops.');
  }
}

/**
 * Runs the job once if it is due and no other replica holds it. Every event goes through RefundLifecycle.apply, the
 * webhook's own path, so events the webhooks already brought cost one ledger read each and nothing else.
 */
export async function reconcileOnce(deps: ReconciliationDeps): Promise<ReconcileResult> {
  const { ledger, holder, now } = deps;
  const startedAt = now();
  const take = await ledger.takeJob({ job: RECONCILE_JOB, holder, now: startedAt, leaseMs: deps.leaseMs });
  if (take.kind !== 'taken') return { kind: take.kind };
  const run = () => runTaken(deps, take.job.state as ReconcileState, startedAt);
  return { kind: 'done', summary: await (deps.aroundRun ? deps.aroundRun(run) : run()) };
}

/** The run itself, holding the job's lease from `startedAt`. */
async function runTaken(deps: ReconciliationDeps, saved: ReconcileState, startedAt: Date): Promise<ReconcileSummary> {
  const { ledger, holder, now } = deps;
  const takenAt = now();
  const state: ReconcileState = { ...saved };
  let renewedAt = startedAt.getTime();
  /** Saves the progress, and with it the lease; a lease another replica took means this run must stop. */
  const save = async (): Promise<void> => {
    const at = now();
    if (!(await ledger.saveJob({ job: RECONCILE_JOB, holder, now: at, leaseMs: deps.leaseMs, state: { ...state } }))) throw new LeaseLost();
    renewedAt = at.getTime();
  };
  /** Between two Stripe calls: renews the lease once a third of it went by, so a long run keeps it. */
  const keepLease = async (): Promise<void> => {
    if (now().getTime() - renewedAt > deps.leaseMs / 3) await save();
  };
  try {
    const walk = await walkEvents(deps, state, save, keepLease);
    const refundsReread = await deps.lifecycle.recheckUnsettled({
      before: new Date(startedAt.getTime() - deps.intervalMs),
      limit: deps.maxRereads,
      ...(deps.callOptions ? { options: deps.callOptions } : {}),
      afterEach: keepLease,
    });
    const finishedAt = now();
    // The lease is given back after finishedAt: two runs' [startedAt, finishedAt] never overlap, whichever replica ran them.
    await ledger.finishJob({
      job: RECONCILE_JOB,
      holder,
      now: finishedAt,
      // The cadence holds from the start of a run, but a run longer than an interval is followed by a rest, not a rush.
      nextRunAt: new Date(Math.max(startedAt.getTime() + deps.intervalMs, finishedAt.getTime() + deps.intervalMs / 10)),
      succeeded: true,
      state: { ...state },
    });
    const lagSeconds = walk.newestApplied === undefined ? 0 : Math.max(0, finishedAt.getTime() / 1000 - walk.newestApplied.created);
    return {
      eventsSeen: walk.seen,
      eventsApplied: walk.applied,
      refundsReread,
      lagSeconds,
      caughtUp: walk.caughtUp,
      cursorLost: walk.cursorLost,
      cursor: state.cursor,
      startedAt: takenAt,
      finishedAt,
    };
  } catch (error) {
    // The progress saved so far stays; the next try comes after an interval, as a run would.
    if (!(error instanceof LeaseLost)) {
      await ledger
        .finishJob({ job: RECONCILE_JOB, holder, now: now(), nextRunAt: new Date(now().getTime() + deps.intervalMs), succeeded: false })
        .catch(() => undefined);
    }
    throw error;
  }
}

interface Walk {
  seen: number;
  applied: number;
  newestApplied: ProviderEvent | undefined;
  caughtUp: boolean;
  cursorLost: boolean;
}

/**
 * Stripe lists events newest first. From a cursor, `ending_before` gives the events right after it (still newest
 * first), so each page is applied oldest first and the cursor moves to its newest. Without a cursor (the first run,
 * or a cursor Stripe no longer has), the events since `since` are read from the top down, then applied oldest first.
 */
async function walkEvents(deps: ReconciliationDeps, state: ReconcileState, save: () => Promise<void>, keepLease: () => Promise<void>): Promise<Walk> {
  const walk: Walk = { seen: 0, applied: 0, newestApplied: undefined, caughtUp: false, cursorLost: false };
  const apply = async (events: readonly ProviderEvent[]): Promise<void> => {
    for (const event of events) {
      walk.seen += 1;
      const { outcome } = await deps.lifecycle.apply(event, 'reconcile', deps.callOptions);
      if (outcome === 'recorded') {
        walk.applied += 1;
        walk.newestApplied = event;
      }
      await keepLease();
    }
  };
  const list = (from: { endingBefore?: string; startingAfter?: string; createdGte?: number }) =>
    deps.events.listEvents({ types: REFUND_EVENT_TYPES, limit: PAGE, ...from }, deps.callOptions);

  let pages = 0;
  if (state.cursor !== undefined) {
    for (; pages < deps.maxPages; pages++) {
      let page;
      try {
        page = await list({ endingBefore: state.cursor });
      } catch (error) {
        if (!isGatewayError(error) || error.code !== 'not_found') throw error;
        // Older than Stripe keeps events (30 days): what happened since cannot be listed any more. Start from now.
        walk.cursorLost = true;
        state.cursor = undefined;
        state.since = Math.floor(deps.now().getTime() / 1000);
        await save();
        break;
      }
      await apply([...page.data].reverse());
      const newest = page.data[0];
      if (newest) state.cursor = newest.id;
      await save();
      if (!page.hasMore) {
        walk.caughtUp = true;
        return walk;
      }
    }
    if (state.cursor !== undefined) return walk;
  }

  state.since ??= Math.floor(deps.now().getTime() / 1000);
  const found: ProviderEvent[] = [];
  let startingAfter: string | undefined;
  for (; pages < deps.maxPages; pages++) {
    const page = await list({ createdGte: state.since - CLOCK_MARGIN_SECONDS, ...(startingAfter !== undefined ? { startingAfter } : {}) });
    found.push(...page.data);
    startingAfter = page.data.at(-1)?.id;
    if (!page.hasMore || startingAfter === undefined) {
      walk.caughtUp = true;
      break;
    }
  }
  // Out of pages before the oldest: the newest ones are applied, and what came before them is left to re-reads.
  await apply(found.reverse());
  const newest = found.at(-1);
  if (newest) {
    state.cursor = newest.id;
    delete state.since;
  }
  await save();
  return walk;
}
