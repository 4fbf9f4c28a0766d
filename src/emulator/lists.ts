// Stripe's list endpoints: `limit`, `starting_after`, `ending_before`, `created` filters, newest first, by binary search over creation order.
import { invalidRequest, resourceMissing } from './errors.js';
import { readInteger, type Params } from './form.js';

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

interface Listed {
  seq: number;
  created: number;
}

/** First index in `ids` (ascending by seq) whose seq is ≥ `seq`. */
function lowerBound<T extends Listed>(ids: readonly string[], get: (id: string) => T | undefined, seq: number): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const item = get(ids[mid] ?? '');
    if (item !== undefined && item.seq < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** One page, newest first. `ids` is in creation order; a cursor is any object of the same kind (Stripe's rule). */
export function paginate<T extends Listed>(ids: readonly string[], get: (id: string) => T | undefined, query: ListQuery, kind: string): { data: T[]; hasMore: boolean } {
  const cursorOf = (id: string, param: string): T => {
    const item = get(id);
    if (item === undefined) throw resourceMissing(kind, id, param);
    return item;
  };
  const data: T[] = [];
  let hasMore = false;
  if (query.endingBefore !== undefined) {
    // Items newer than the cursor, the ones closest to it first; then shown newest first like every page.
    const cursor = cursorOf(query.endingBefore, 'ending_before');
    for (let i = lowerBound(ids, get, cursor.seq + 1); i < ids.length; i += 1) {
      const item = get(ids[i] ?? '');
      if (item === undefined || !inRange(item.created, query.created)) continue;
      if (data.length === query.limit) {
        hasMore = true;
        break;
      }
      data.push(item);
    }
    return { data: data.reverse(), hasMore };
  }
  const start = query.startingAfter === undefined ? ids.length - 1 : lowerBound(ids, get, cursorOf(query.startingAfter, 'starting_after').seq) - 1;
  for (let i = start; i >= 0; i -= 1) {
    const item = get(ids[i] ?? '');
    if (item === undefined || !inRange(item.created, query.created)) continue;
    if (data.length === query.limit) {
      hasMore = true;
      break;
    }
    data.push(item);
  }
  return { data, hasMore };
}

export function listBody(url: string, data: unknown[], hasMore: boolean): Record<string, unknown> {
  return { object: 'list', data, has_more: hasMore, url };
}
