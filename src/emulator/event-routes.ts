// /v1/events: the event log, newest first, filtered by `type` (with `*`), `types[]`, `created` and `delivery_success`, and one event by id.
import { invalidRequest, resourceMissing } from './errors.js';
import { buildExpandTree, readExpandOnly } from './expand.js';
import { readBoolean, readExpand, readString, rejectUnknown, type Params } from './form.js';
import { renderEvent, typeMatches, type EventRecord } from './events.js';
import { LIST_PARAMS, listBody, paginate, readListQuery, type Keep } from './lists.js';
import { defineRoute, type PreparedRoute } from './router.js';

const MAX_TYPES = 20;

function readTypes(params: Params): string[] | undefined {
  const raw = params['types'];
  if (raw === undefined) return undefined;
  const list = Array.isArray(raw) ? raw : typeof raw === 'object' && raw !== null ? Object.values(raw) : [raw];
  if (list.length > MAX_TYPES) throw invalidRequest(`Invalid types: at most ${MAX_TYPES} event types may be given.`, { param: 'types' });
  return list.map((type) => {
    if (typeof type !== 'string' || type === '') throw invalidRequest('Invalid array', { param: 'types' });
    return type;
  });
}

/** The filters besides `created`, as one predicate; `types[]` names exact types (only `type` takes a wildcard). */
function readFilter(params: Params): Keep<EventRecord> {
  const type = readString(params, 'type');
  const types = readTypes(params);
  // UNCONFIRMED at Stripe: its docs say "either type or types, but not both"; the emulator answers as for other exclusive pairs.
  if (type !== undefined && types !== undefined) {
    throw invalidRequest('You may only specify one of these parameters: type, types.', { code: 'parameters_exclusive', param: 'types' });
  }
  const delivered = readBoolean(params, 'delivery_success');
  return (event) =>
    (type === undefined || typeMatches(type, event.type)) &&
    (types === undefined || types.includes(event.type)) &&
    (delivered === undefined || delivered === (event.pendingWebhooks === 0));
}

const list = defineRoute({
  method: 'GET',
  pattern: '/v1/events',
  validate: ({ params }) => {
    rejectUnknown(params, [...LIST_PARAMS, 'type', 'types', 'delivery_success']);
    buildExpandTree('list_of_event', readExpand(params));
    return { query: readListQuery(params), keep: readFilter(params) };
  },
  execute: ({ state }, { query, keep }) => {
    state.events.prune(state.clock.nowMs());
    const page = paginate(state.events.order, state.events, query, keep);
    return { body: listBody('/v1/events', page.data.map(renderEvent), page.hasMore) };
  },
});

const retrieve = defineRoute({
  method: 'GET',
  pattern: '/v1/events/:id',
  validate: ({ params }) => readExpandOnly(params, 'event'),
  execute: ({ state, path }) => {
    state.events.prune(state.clock.nowMs());
    const event = state.events.get(path['id'] ?? '');
    if (event === undefined) throw resourceMissing('event', path['id'] ?? '');
    return { body: renderEvent(event) };
  },
});

export const eventRoutes: readonly PreparedRoute[] = [list, retrieve];
