// The refund index in SQL: upsert with the final-status rule, read one, list a filtered page newest first.
import { GatewayError } from '../refunds/gateway-error.js';
import type { IndexedRefundQuery } from '../refunds/ledger.js';
import type { Page, Refund, RefundReason, RefundStatus } from '../refunds/types.js';
import { isoTime, toNumber, type SqlClient } from './sql-client.js';

interface RefundRow {
  id: string;
  amount: unknown;
  currency: string;
  status: RefundStatus;
  charge: string | null;
  payment_intent: string | null;
  reason: RefundReason | null;
  failure_reason: string | null;
  metadata: Record<string, string>;
  requested_by: string | null;
  gateway_request_id: string | null;
  created: unknown;
}

const COLUMNS = `id, amount, currency, status, charge, payment_intent, reason, failure_reason, metadata,
                 requested_by, gateway_request_id, created`;

const toRefund = (row: RefundRow): Refund => ({
  id: row.id,
  amount: toNumber(row.amount),
  currency: row.currency,
  status: row.status,
  charge: row.charge,
  paymentIntent: row.payment_intent,
  reason: row.reason,
  failureReason: row.failure_reason,
  metadata: row.metadata,
  requestedBy: row.requested_by,
  gatewayRequestId: row.gateway_request_id,
  created: toNumber(row.created),
});

/**
 * Webhooks arrive twice and out of order, so an update that would move a final refund back to pending or
 * requires_action is stale and skipped whole (its other fields are as old as its status). Final → other final is
 * real (Stripe fails a succeeded refund) and applies. Who asked is kept even if a later report lacks it, and `seq`
 * and `created` never change, so a refund keeps its place in the list. A report that changes nothing writes nothing.
 */
export async function recordRefund(client: SqlClient, refund: Refund, now: Date): Promise<void> {
  await client.query(
    `INSERT INTO refunds AS r
       (id, amount, currency, status, charge, payment_intent, reason, failure_reason, metadata, requested_by,
        gateway_request_id, created, recorded_at, updated_at)
     VALUES ($1, $2::bigint, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12::bigint, $13::timestamptz, $13::timestamptz)
     ON CONFLICT (id) DO UPDATE SET
       amount = excluded.amount, currency = excluded.currency, status = excluded.status, charge = excluded.charge,
       payment_intent = excluded.payment_intent, reason = excluded.reason, failure_reason = excluded.failure_reason,
       metadata = excluded.metadata,
       requested_by = coalesce(excluded.requested_by, r.requested_by),
       gateway_request_id = coalesce(excluded.gateway_request_id, r.gateway_request_id),
       updated_at = excluded.updated_at
     WHERE NOT (r.status IN ('succeeded', 'failed', 'canceled') AND excluded.status IN ('pending', 'requires_action'))
       -- Reads re-record what they read: an unchanged refund is left alone, so reading writes no row and no WAL.
       AND (r.amount, r.currency, r.status, r.charge, r.payment_intent, r.reason, r.failure_reason, r.metadata,
            r.requested_by, r.gateway_request_id)
           IS DISTINCT FROM
           (excluded.amount, excluded.currency, excluded.status, excluded.charge, excluded.payment_intent, excluded.reason,
            excluded.failure_reason, excluded.metadata, coalesce(excluded.requested_by, r.requested_by),
            coalesce(excluded.gateway_request_id, r.gateway_request_id))`,
    [
      refund.id,
      String(refund.amount),
      refund.currency,
      refund.status,
      refund.charge,
      refund.paymentIntent,
      refund.reason,
      refund.failureReason,
      JSON.stringify(refund.metadata),
      refund.requestedBy,
      refund.gatewayRequestId,
      String(refund.created),
      isoTime(now),
    ],
  );
}

export async function getIndexedRefund(client: SqlClient, id: string): Promise<Refund | null> {
  const [row] = await client.query<RefundRow>(`SELECT ${COLUMNS} FROM refunds WHERE id = $1`, [id]);
  return row === undefined ? null : toRefund(row);
}

export async function listIndexedRefunds(client: SqlClient, query: IndexedRefundQuery): Promise<Page<Refund>> {
  const where: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown): string => `$${params.push(value)}`;

  if (query.status !== undefined) where.push(`status = ${param(query.status)}`);
  if (query.requestedBy !== undefined) where.push(`requested_by = ${param(query.requestedBy)}`);
  if (query.startingAfter !== undefined) {
    const [cursor] = await client.query<{ created: unknown; seq: unknown }>(
      'SELECT created, seq FROM refunds WHERE id = $1',
      [query.startingAfter],
    );
    if (cursor === undefined) {
      throw new GatewayError('validation_error', `No refund ${query.startingAfter} to start after.`, {
        fields: {
          errors: [{ in: 'query', path: '/starting_after', message: `Unknown refund id ${query.startingAfter}.` }],
        },
      });
    }
    // A row comparison in the list order: a range of the (created DESC, seq DESC) indexes.
    where.push(`(created, seq) < (${param(String(cursor.created))}::bigint, ${param(String(cursor.seq))}::bigint)`);
  }
  // One more than asked tells whether another page exists.
  const limit = param(query.limit + 1);
  const rows = await client.query<RefundRow>(
    `SELECT ${COLUMNS} FROM refunds
     ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY created DESC, seq DESC
     LIMIT ${limit}`,
    params,
  );
  return { data: rows.slice(0, query.limit).map(toRefund), hasMore: rows.length > query.limit };
}
