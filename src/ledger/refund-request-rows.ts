// Refund requests' rows as both backends return them, their write parameters, and the list query written once for both.
import { GatewayError } from '../refunds/gateway-error.js';
import type { Ledger } from '../refunds/ledger.js';
import type { RefundRequest, RefundRequestQuery, StoredProblem } from '../refunds/refund-request.js';
import type { CreateRefundRequest, Page, Refund } from '../refunds/types.js';
import type { RunQuery } from './refund-list.js';
import { readJson, readTime } from './refund-rows.js';

/** What each backend's approvals part adds to the Ledger: daily reservations and refund requests. */
export type ApprovalMethods = Pick<
  Ledger,
  | 'reserveDaily'
  | 'releaseDaily'
  | 'dailyUsed'
  | 'pruneDailyLimits'
  | 'createRefundRequest'
  | 'getRefundRequest'
  | 'listRefundRequests'
  | 'decideRefundRequest'
  | 'takeRefundRequestSettlement'
  | 'settleRefundRequest'
  | 'releaseRefundRequestSettlement'
>;

export const iso = (date: Date): string => date.toISOString();

export interface RefundRequestRow {
  id: string;
  status: 'awaiting_approval' | 'approved' | 'rejected';
  request: CreateRefundRequest | string;
  amount: number | string;
  currency: string;
  requested_by: string;
  decided_by: string | null;
  decision_note: string | null;
  decided_at: Date | string | null;
  refund: Refund | string | null;
  problem: StoredProblem | string | null;
  created_at: Date | string;
  expires_at: Date | string;
}

export const REFUND_REQUEST_COLUMNS = `id, status, request, amount, currency, requested_by, decided_by, decision_note, decided_at,
  refund, problem, created_at, expires_at`;

const seconds = (value: Date | string): number => Math.floor(readTime(value).getTime() / 1000);

/** Unix seconds to the ISO text both backends store times as (PostgreSQL casts it to timestamptz). */
export const isoOfSeconds = (unixSeconds: number): string => new Date(unixSeconds * 1000).toISOString();

export const toRefundRequest = (row: RefundRequestRow): RefundRequest => ({
  id: row.id,
  status: row.status,
  request: readJson<CreateRefundRequest>(row.request),
  amount: Number(row.amount),
  currency: row.currency,
  requestedBy: row.requested_by,
  decidedBy: row.decided_by,
  decisionNote: row.decision_note,
  refund: row.refund === null ? null : readJson<Refund>(row.refund),
  problem: row.problem === null ? null : readJson<StoredProblem>(row.problem),
  created: seconds(row.created_at),
  decidedAt: row.decided_at === null ? null : seconds(row.decided_at),
  expiresAt: seconds(row.expires_at),
});

/** The object an event about a refund request carries: the request as it is right after the change. */
export const refundRequestEventObject = (request: RefundRequest): string => JSON.stringify(request);

const nullableJson = (value: unknown): string | null => (value === null ? null : JSON.stringify(value));

/** The outcome columns of a settled approval: the refund made, or the problem it got. */
export const outcomeParams = (request: RefundRequest): [string | null, string | null] => [nullableJson(request.refund), nullableJson(request.problem)];

export async function listRefundRequests(run: RunQuery, query: RefundRequestQuery): Promise<Page<RefundRequest>> {
  const where: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown): string => `$${params.push(value)}`;
  const now = query.now.toISOString();
  // `expired` is never stored: it is an awaiting request past its expiry, so the two filters split on expires_at.
  if (query.status === 'awaiting_approval') where.push(`status = 'awaiting_approval' AND expires_at > ${param(now)}`);
  else if (query.status === 'expired') where.push(`status = 'awaiting_approval' AND expires_at <= ${param(now)}`);
  else if (query.status !== undefined) where.push(`status = ${param(query.status)}`);
  if (query.requestedBy !== undefined) where.push(`requested_by = ${param(query.requestedBy)}`);
  if (query.startingAfter !== undefined) {
    const [cursor] = await run<{ seq: number | string }>('SELECT seq FROM refund_requests WHERE id = $1', [query.startingAfter]);
    if (cursor === undefined) {
      throw new GatewayError('validation_error', `No refund request ${query.startingAfter} to start after.`, {
        fields: { errors: [{ in: 'query', path: '/starting_after', message: `Unknown refund request id ${query.startingAfter}.` }] },
      });
    }
    where.push(`seq < ${param(Number(cursor.seq))}`);
  }
  const limit = param(query.limit + 1);
  const rows = await run<RefundRequestRow>(
    `SELECT ${REFUND_REQUEST_COLUMNS} FROM refund_requests ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ${limit}`,
    params,
  );
  return { data: rows.slice(0, query.limit).map(toRefundRequest), hasMore: rows.length > query.limit };
}
