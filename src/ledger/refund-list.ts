// The refund index's list query, written once in SQL both backends speak ($n parameters, row values).
import { GatewayError } from '../refunds/gateway-error.js';
import type { IndexedRefundQuery } from '../refunds/ledger.js';
import type { Page, Refund } from '../refunds/types.js';
import { REFUND_COLUMNS, toRefund, type RefundRow } from './refund-rows.js';

/** Runs one statement with `$n` parameters and returns its rows. */
export type RunQuery = <Row>(sql: string, params: unknown[]) => Promise<Row[]>;

export async function listIndexedRefunds(run: RunQuery, query: IndexedRefundQuery): Promise<Page<Refund>> {
  const where: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown): string => `$${params.push(value)}`;

  if (query.status !== undefined) where.push(`status = ${param(query.status)}`);
  if (query.requestedBy !== undefined) where.push(`requested_by = ${param(query.requestedBy)}`);
  if (query.startingAfter !== undefined) {
    const [cursor] = await run<{ created: number | string; seq: number | string }>('SELECT created, seq FROM refunds WHERE id = $1', [
      query.startingAfter,
    ]);
    if (cursor === undefined) {
      throw new GatewayError('validation_error', `No refund ${query.startingAfter} to start after.`, {
        fields: { errors: [{ in: 'query', path: '/starting_after', message: `Unknown refund id ${query.startingAfter}.` }] },
      });
    }
    // A row comparison in the list order: a range of the (created DESC, seq DESC) indexes.
    where.push(`(created, seq) < (${param(Number(cursor.created))}, ${param(Number(cursor.seq))})`);
  }
  // One more than asked tells whether another page exists.
  const limit = param(query.limit + 1);
  const rows = await run<RefundRow>(
    `SELECT ${REFUND_COLUMNS} FROM refunds ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY created DESC, seq DESC LIMIT ${limit}`,
    params,
  );
  return { data: rows.slice(0, query.limit).map(toRefund), hasMore: rows.length > query.limit };
}
