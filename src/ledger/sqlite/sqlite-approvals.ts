// Daily limits and refund requests on the embedded SQLite ledger: each method one short synchronous transaction.
import type Database from 'better-sqlite3';
import { newEventId, type EventType } from '../../refunds/events.js';
import type { RefundRequest } from '../../refunds/refund-request.js';
import type { Refund } from '../../refunds/types.js';
import type { Ledger } from '../../refunds/ledger.js';
import { guarded } from '../ledger-errors.js';
import {
  iso,
  isoOfSeconds,
  listRefundRequests,
  outcomeParams,
  REFUND_REQUEST_COLUMNS,
  refundRequestEventObject,
  toRefundRequest,
  type ApprovalMethods,
  type RefundRequestRow,
} from '../refund-request-rows.js';

/** What the approvals need of the SQLite ledger: its statements and the refund index upsert (inside a transaction). */
export interface SqliteAccess {
  db: Database.Database;
  all<Row>(sql: string, params?: readonly unknown[]): Row[];
  write(sql: string, params: readonly unknown[]): number;
  upsertRefund(refund: Refund, now: Date): void;
}


export function sqliteApprovals({ db, all, write, upsertRefund }: SqliteAccess): ApprovalMethods {
  const requestEvent = (type: EventType, request: RefundRequest, previousStatus: string | null, now: Date): void => {
    const [last] = all<{ sequence: number | null }>(
      `SELECT max(sequence) AS sequence FROM events WHERE object_type = 'refund_request' AND object_id = $1`,
      [request.id],
    );
    write(
      `INSERT INTO events (id, type, owner, object_type, object_id, sequence, object, previous_status, created_at)
       VALUES ($1, $2, $3, 'refund_request', $4, $5, $6, $7, $8)`,
      [newEventId(), type, request.requestedBy, request.id, (last?.sequence ?? 0) + 1, refundRequestEventObject(request), previousStatus, iso(now)],
    );
  };
  const getRequest = (id: string): RefundRequest | null => {
    const [row] = all<RefundRequestRow>(`SELECT ${REFUND_REQUEST_COLUMNS} FROM refund_requests WHERE id = $1`, [id]);
    return row === undefined ? null : toRefundRequest(row);
  };

  // One process holds the file and each transaction runs from BEGIN to COMMIT without yielding: check and add are one.
  const reserve = db.transaction((input: Parameters<Ledger['reserveDaily']>[0]) => {
    const [prior] = all<{ state: string }>('SELECT state FROM limit_reservations WHERE id = $1', [input.id]);
    if (prior?.state === 'held') return { reserved: true as const, already: true };
    const [total] = all<{ reserved: number }>('SELECT reserved FROM daily_limit_totals WHERE caller = $1 AND currency = $2 AND day = $3', [
      input.caller,
      input.currency,
      input.day,
    ]);
    const used = Number(total?.reserved ?? 0);
    if (used + input.amount > input.cap) return { reserved: false as const, used };
    write(
      `INSERT INTO daily_limit_totals (caller, currency, day, reserved) VALUES ($1, $2, $3, $4)
       ON CONFLICT (caller, currency, day) DO UPDATE SET reserved = reserved + excluded.reserved`,
      [input.caller, input.currency, input.day, input.amount],
    );
    write(
      `INSERT INTO limit_reservations (id, caller, currency, day, amount, state, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, 'held', $6, $6)
       ON CONFLICT (id) DO UPDATE SET caller = excluded.caller, currency = excluded.currency, day = excluded.day,
         amount = excluded.amount, state = 'held', updated_at = excluded.updated_at`,
      [input.id, input.caller, input.currency, input.day, input.amount, iso(input.now)],
    );
    return { reserved: true as const, already: false };
  });

  const release = db.transaction((id: string, now: Date): boolean => {
    const [held] = all<{ caller: string; currency: string; day: string; amount: number }>(
      `SELECT caller, currency, day, amount FROM limit_reservations WHERE id = $1 AND state = 'held'`,
      [id],
    );
    if (held === undefined) return false;
    write(`UPDATE limit_reservations SET state = 'released', updated_at = $2 WHERE id = $1`, [id, iso(now)]);
    write('UPDATE daily_limit_totals SET reserved = reserved - $4 WHERE caller = $1 AND currency = $2 AND day = $3', [
      held.caller,
      held.currency,
      held.day,
      held.amount,
    ]);
    return true;
  });

  const prune = db.transaction((beforeDay: string): number => {
    write('DELETE FROM daily_limit_totals WHERE day < $1', [beforeDay]);
    return write('DELETE FROM limit_reservations WHERE day < $1', [beforeDay]);
  });

  const create = db.transaction((request: RefundRequest, now: Date): RefundRequest => {
    const inserted = write(
      `INSERT INTO refund_requests (id, status, request, amount, currency, requested_by, created_at, expires_at)
       VALUES ($1, 'awaiting_approval', $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING`,
      [request.id, JSON.stringify(request.request), request.amount, request.currency, request.requestedBy, isoOfSeconds(request.created), isoOfSeconds(request.expiresAt)],
    );
    if (inserted === 0) return getRequest(request.id) ?? request;
    requestEvent('refund_request.created', request, null, now);
    return request;
  });

  const decide = db.transaction((input: Parameters<Ledger['decideRefundRequest']>[0]): boolean => {
    const { after, now, settlement } = input;
    const changed = write(
      `UPDATE refund_requests SET status = $2, decided_by = $3, decision_note = $4, decided_at = $5, holder = $6, lease_until = $7
        WHERE id = $1 AND status = 'awaiting_approval' AND expires_at > $8`,
      [after.id, after.status, after.decidedBy, after.decisionNote, after.decidedAt === null ? null : isoOfSeconds(after.decidedAt), settlement?.holder ?? null, settlement ? iso(settlement.until) : null, iso(now)],
    );
    if (changed === 0) return false;
    if (after.status === 'rejected') requestEvent('refund_request.rejected', after, 'awaiting_approval', now);
    return true;
  });

  const take = db.transaction((input: Parameters<Ledger['takeRefundRequestSettlement']>[0]): RefundRequest | null => {
    const changed = write(
      `UPDATE refund_requests SET holder = $2, lease_until = $3
        WHERE id = $1 AND status = 'approved' AND refund IS NULL AND problem IS NULL AND (lease_until IS NULL OR lease_until <= $4)`,
      [input.id, input.settlement.holder, iso(input.settlement.until), iso(input.now)],
    );
    return changed === 0 ? null : getRequest(input.id);
  });

  const settle = db.transaction((input: Parameters<Ledger['settleRefundRequest']>[0]): boolean => {
    const { after, holder, now } = input;
    // The refund exists at Stripe whatever happens to the settlement: it is indexed either way.
    if (after.refund) upsertRefund(after.refund, now);
    const changed = write(
      `UPDATE refund_requests SET refund = $2, problem = $3, holder = NULL, lease_until = NULL
        WHERE id = $1 AND holder = $4 AND status = 'approved' AND refund IS NULL AND problem IS NULL`,
      [after.id, ...outcomeParams(after), holder],
    );
    if (changed === 0) return false;
    requestEvent('refund_request.approved', after, 'awaiting_approval', now);
    return true;
  });

  return {
    reserveDaily: (input) => guarded(async () => reserve(input)),
    releaseDaily: (id, now) => guarded(async () => release(id, now)),
    dailyUsed: ({ caller, currency, day }) =>
      guarded(async () => {
        const [row] = all<{ reserved: number }>('SELECT reserved FROM daily_limit_totals WHERE caller = $1 AND currency = $2 AND day = $3', [
          caller,
          currency,
          day,
        ]);
        return Number(row?.reserved ?? 0);
      }),
    pruneDailyLimits: (beforeDay) => guarded(async () => prune(beforeDay)),
    createRefundRequest: (request, now) => guarded(async () => create(request, now)),
    getRefundRequest: (id) => guarded(async () => getRequest(id)),
    listRefundRequests: (query) => guarded(() => listRefundRequests(async (sql, params) => all(sql, params), query)),
    decideRefundRequest: (input) => guarded(async () => decide(input)),
    takeRefundRequestSettlement: (input) => guarded(async () => take(input)),
    settleRefundRequest: (input) => guarded(async () => settle(input)),
    releaseRefundRequestSettlement: (id, holder) =>
      guarded(async () => {
        write('UPDATE refund_requests SET holder = NULL, lease_until = NULL WHERE id = $1 AND holder = $2', [id, holder]);
      }),
  };
}
