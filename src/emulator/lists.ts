// Stripe's list endpoints: `limit`, `starting_after`, `ending_before`, `created` filters, newest first, by binary search over creation order.
import { invalidRequest, resourceMissing } from './errors.js';
import { readInteger, type Params } from './form.js';
import type { StoredRecord } from './store.js';

export interface CreatedRange {
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
}

export interface ListQuery {
  limit: number;
  startingAfter?: string;
  endingBefore?: string;
  created?: CreatedRange;
}

export const LIST_PARAMS = ['limit', 'starting_after', 'ending_before', 'created', 'expand'] as const;

function readCreated(params: Params): CreatedRange | undefined {
  const raw = params['created'];
  if (raw === undefined) return undefined;
  if (typeof raw === 'string') {
    const at = readInteger(params, 'created') ?? 0;
    return { gte: at, lte: at };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalidRequest('Invalid created', { param: 'created' });
  const range: CreatedRange = {};
  for (const [op, value] of Object.entries(raw as Record<string, unknown>)) {
    if (op !== 'gt' && op !== 'gte' && op !== 'lt' && op !== 'lte') throw invalidRequest(`Received unknown parameter: created[${op}]`, { code: 'parameter_unknown', param: `created[${op}]` });
    range[op] = readInteger({ v: value }, 'v') ?? 0;
  }
  return range;
}

export function readListQuery(params: Params): ListQuery {
  const limit = readInteger(params, 'limit') ?? 10;
  if (limit < 1 || limit > 100) throw invalidRequest('This value must be greater than or equal to 1 and less than or equal to 100.', { code: 'parameter_invalid_integer', param: 'limit' });
  const query: ListQuery = { limit };
  for (const [param, key] of [['starting_after', 'startingAfter'], ['ending_before', 'endingBefore']] as const) {
    const value = params[param];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value === '') throw invalidRequest(`Invalid ${param}`, { param });
    query[key] = value;
  }
  if (query.startingAfter !== undefined && query.endingBefore !== undefined) {
    throw invalidRequest('You may only specify one of these parameters: ending_before, starting_after.', { code: 'parameters_exclusive', param: 'ending_before' });
  }
  const created = readCreated(params);
  if (created) query.created = created;
  return query;
}

const inRange = (created: number, r: CreatedRange | undefined): boolean =>
  r === undefined ||
  ((r.gt === undefined || created > r.gt) && (r.gte === undefined || created >= r.gte) && (r.lt === undefined || created < r.lt) && (r.lte === undefined || created <= r.lte));

/** What a list reads records from: a table, or anything else that finds them by id and names their kind. */
export interface ListSource<T extends StoredRecord> {
  readonly kind: string;
  get(id: string): T | undefined;
}

/** First index in `ids` (ascending by seq) whose seq is ≥ `seq`. */
function lowerBound<T extends StoredRecord>(ids: readonly string[], records: ListSource<T>, seq: number): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const item = records.get(ids[mid] ?? '');
    if (item !== undefined && item.seq < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A filter a list applies beyond `created` (an event's type, …): items it refuses are skipped, not counted. */
export type Keep<T> = (item: T) => boolean;

const keepAll = (): boolean => true;

/** Walks `ids` from `from` one `step` at a time, keeping up to `limit` items in the `created` range; `hasMore` when another was there. */
function walk<T extends StoredRecord>(ids: readonly string[], records: ListSource<T>, from: number, step: 1 | -1, query: ListQuery, keep: Keep<T>): { data: T[]; hasMore: boolean } {
  const data: T[] = [];
  for (let i = from; i >= 0 && i < ids.length; i += step) {
    const item = records.get(ids[i] ?? '');
    if (item === undefined || !inRange(item.created, query.created) || !keep(item)) continue;
    if (data.length === query.limit) return { data, hasMore: true };
    data.push(item);
  }
  return { data, hasMore: false };
}

/** One page, newest first. `ids` is in creation order; a cursor is any object of the same kind (Stripe's rule). */
export function paginate<T extends StoredRecord>(ids: readonly string[], records: ListSource<T>, query: ListQuery, keep: Keep<T> = keepAll): { data: T[]; hasMore: boolean } {
  if (query.endingBefore !== undefined) {
    // Items newer than the cursor, the ones closest to it first; then shown newest first like every page.
    const cursor = records.get(query.endingBefore);
    if (cursor === undefined) throw resourceMissing(records.kind, query.endingBefore, 'ending_before');
    const page = walk(ids, records, lowerBound(ids, records, cursor.seq + 1), 1, query, keep);
    return { data: page.data.reverse(), hasMore: page.hasMore };
  }
  if (query.startingAfter === undefined) return walk(ids, records, ids.length - 1, -1, query, keep);
  const cursor = records.get(query.startingAfter);
  if (cursor === undefined) throw resourceMissing(records.kind, query.startingAfter, 'starting_after');
  return walk(ids, records, lowerBound(ids, records, cursor.seq) - 1, -1, query, keep);
}

export function listBody(url: string, data: unknown[], hasMore: boolean): Record<string, unknown> {
  return { object: 'list', data, has_more: hasMore, url };
}
