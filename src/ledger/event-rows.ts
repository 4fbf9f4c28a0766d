// The events table's rows as both backends return them, and the pull feed's query written once for both.
import { GatewayError } from '../refunds/gateway-error.js';
import type { EventObjectType, EventQuery, EventType, GatewayEvent } from '../refunds/events.js';
import type { Page, Refund } from '../refunds/types.js';
import type { RunQuery } from './refund-list.js';
import { readJson, readTime } from './refund-rows.js';

export interface EventRow {
  seq: number | string;
  id: string;
  type: EventType;
  owner: string | null;
  object_type: EventObjectType;
  object_id: string;
  sequence: number | string;
  object: unknown;
  previous_status: string | null;
  created_at: Date | string;
}

export const EVENT_COLUMNS = 'seq, id, type, owner, object_type, object_id, sequence, object, previous_status, created_at';

export const toEvent = (row: EventRow): GatewayEvent => ({
  id: row.id,
  type: row.type,
  owner: row.owner,
  objectType: row.object_type,
  objectId: row.object_id,
  sequence: Number(row.sequence),
  object: readJson(row.object),
  previousStatus: row.previous_status,
  created: readTime(row.created_at),
});

/** A refund's event payload as stored: the domain refund itself. */
export const refundEventObject = (refund: Refund): string => JSON.stringify(refund);

export async function listEvents(run: RunQuery, query: EventQuery): Promise<Page<GatewayEvent>> {
  const params: unknown[] = [];
  const param = (value: unknown): string => `$${params.push(value)}`;
  const where: string[] = query.all ? [] : [`owner = ${param(query.caller)}`];
  if (query.startingAfter !== undefined) {
    const [cursor] = await run<{ seq: number | string; owner: string | null }>('SELECT seq, owner FROM events WHERE id = $1', [query.startingAfter]);
    // Another caller's event is as unknown to this caller as one that does not exist.
    if (cursor === undefined || (!query.all && cursor.owner !== query.caller)) {
      throw new GatewayError('validation_error', `No event ${query.startingAfter} to start after.`, {
        fields: { errors: [{ in: 'query', path: '/starting_after', message: `Unknown event id ${query.startingAfter}.` }] },
      });
    }
    where.push(`seq > ${param(Number(cursor.seq))}`);
  }
  const limit = param(query.limit + 1);
  const rows = await run<EventRow>(
    `SELECT ${EVENT_COLUMNS} FROM events ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq LIMIT ${limit}`,
    params,
  );
  return { data: rows.slice(0, query.limit).map(toEvent), hasMore: rows.length > query.limit };
}
