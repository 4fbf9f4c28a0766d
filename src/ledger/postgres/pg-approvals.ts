// Daily limits and refund requests on PostgreSQL: one statement per method (the create's rare duplicate reads once more).
import { newEventId } from '../../refunds/events.js';
import type { RefundRequest } from '../../refunds/refund-request.js';
import { refundEventObject } from '../event-rows.js';
import { guarded } from '../ledger-errors.js';
import type { RunQuery } from '../refund-list.js';
import {
  iso,
  isoOfSeconds,
  listRefundRequests,
  outcomeParams,
  refundRequestEventObject,
  toRefundRequest,
  type ApprovalMethods,
  type RefundRequestRow,
} from '../refund-request-rows.js';
import { refundParams } from '../refund-rows.js';
import {
  CREATE_REFUND_REQUEST,
  DAILY_USED,
  DECIDE_REFUND_REQUEST,
  GET_REFUND_REQUEST,
  PRUNE_DAILY,
  RELEASE_DAILY,
  RELEASE_SETTLEMENT,
  RESERVE_DAILY,
  SETTLE_REFUND_REQUEST,
  TAKE_SETTLEMENT,
} from './pg-approval-statements.js';
import { REFUND_CHANGE_PARAMS } from './pg-statements.js';


/** `retryingSequence` runs a statement again when a concurrent writer of the same object took its event's sequence. */
export function pgApprovals(run: RunQuery, retryingSequence: <T>(write: () => Promise<T>) => Promise<T>): ApprovalMethods {
  const getRequest = async (id: string): Promise<RefundRequest | null> => {
    const [row] = await run<RefundRequestRow>(GET_REFUND_REQUEST, [id]);
    return row === undefined ? null : toRefundRequest(row);
  };

  return {
    reserveDaily: (input) =>
      guarded(async () => {
        const [row] = await run<{ already: boolean; reserved: number | string; used: number | string }>(RESERVE_DAILY, [
          input.id,
          input.caller,
          input.currency,
          input.day,
          input.amount,
          input.cap,
          iso(input.now),
        ]);
        if (row?.already) return { reserved: true, already: true };
        if (Number(row?.reserved ?? 0) > 0) return { reserved: true, already: false };
        return { reserved: false, used: Number(row?.used ?? 0) };
      }),
    releaseDaily: (id, now) => guarded(async () => Number((await run<{ released: number | string }>(RELEASE_DAILY, [id, iso(now)]))[0]?.released ?? 0) > 0),
    dailyUsed: ({ caller, currency, day }) =>
      guarded(async () => Number((await run<{ reserved: number | string }>(DAILY_USED, [caller, currency, day]))[0]?.reserved ?? 0)),
    pruneDailyLimits: (beforeDay) => guarded(async () => Number((await run<{ deleted: number | string }>(PRUNE_DAILY, [beforeDay]))[0]?.deleted ?? 0)),

    createRefundRequest: (request, now) =>
      guarded(async () => {
        const params = [
          request.id,
          JSON.stringify(request.request),
          request.amount,
          request.currency,
          request.requestedBy,
          isoOfSeconds(request.created),
          isoOfSeconds(request.expiresAt),
          newEventId(),
          refundRequestEventObject(request),
          iso(now),
        ];
        const [row] = await retryingSequence(() => run<{ inserted: number | string }>(CREATE_REFUND_REQUEST, params));
        if (Number(row?.inserted ?? 0) > 0) return request;
        return (await getRequest(request.id)) ?? request;
      }),
    getRefundRequest: (id) => guarded(() => getRequest(id)),
    listRefundRequests: (query) => guarded(() => listRefundRequests(run, query)),
    decideRefundRequest: ({ after, now, settlement }) =>
      guarded(async () => {
        const params = [
          after.id,
          after.status,
          after.decidedBy,
          after.decisionNote,
          after.decidedAt === null ? null : isoOfSeconds(after.decidedAt),
          settlement?.holder ?? null,
          settlement ? iso(settlement.until) : null,
          iso(now),
          newEventId(),
          refundRequestEventObject(after),
        ];
        const [row] = await retryingSequence(() => run<{ decided: number | string }>(DECIDE_REFUND_REQUEST, params));
        return Number(row?.decided ?? 0) > 0;
      }),
    takeRefundRequestSettlement: ({ id, settlement, now }) =>
      guarded(async () => {
        const [row] = await run<RefundRequestRow>(TAKE_SETTLEMENT, [id, settlement.holder, iso(settlement.until), iso(now)]);
        return row === undefined ? null : toRefundRequest(row);
      }),
    settleRefundRequest: ({ after, holder, now }) =>
      guarded(async () => {
        const refund = after.refund;
        const change = refund
          ? [...refundParams(refund), iso(now), newEventId(), refundEventObject(refund)]
          : new Array<null>(REFUND_CHANGE_PARAMS).fill(null);
        const params = [after.id, ...outcomeParams(after), holder, newEventId(), refundRequestEventObject(after), iso(now), ...change];
        const [row] = await retryingSequence(() => run<{ settled: number | string }>(SETTLE_REFUND_REQUEST, params));
        return Number(row?.settled ?? 0) > 0;
      }),
    releaseRefundRequestSettlement: (id, holder) => guarded(async () => void (await run(RELEASE_SETTLEMENT, [id, holder]))),
  };
}
