// The route shapes the resources share: retrieve one object by id, and list objects newest first with string filters.
import { buildExpandTree, readExpandOnly, type ExpandableType, type ExpandTree } from './expand.js';
import { readExpand, readString, rejectUnknown } from './form.js';
import { LIST_PARAMS, listBody, paginate, readListQuery } from './lists.js';
import { defineRoute, type PreparedRoute } from './router.js';
import type { EmulatorState } from './state.js';
import type { ChargeLinkedRecord, StoredRecord, Table } from './store.js';

type Render<T> = (state: EmulatorState, record: T, expand?: ExpandTree) => unknown;

export interface RetrieveRouteOptions<T extends StoredRecord> {
  /** `/v1/<objects>/:id`. */
  pattern: string;
  type: ExpandableType;
  records: (state: EmulatorState) => Table<T>;
  render: Render<T>;
  /** Parameters accepted besides `expand` (and ignored). */
  also?: readonly string[];
}

/** `GET …/:id`: the object with `expand` applied, or Stripe's 404 `resource_missing`. */
export function retrieveRoute<T extends StoredRecord>(options: RetrieveRouteOptions<T>): PreparedRoute {
  return defineRoute({
    method: 'GET',
    pattern: options.pattern,
    validate: ({ params }) => readExpandOnly(params, options.type, options.also),
    execute: ({ state, path }, expand) => ({ body: options.render(state, options.records(state).getOr404(path['id'] ?? ''), expand) }),
  });
}

export type ListFilter<F extends string> = Partial<Record<F, string>>;

export interface ListRouteOptions<T extends StoredRecord, F extends string> {
  /** The route, and the list's `url` unless `url` says otherwise. */
  pattern: string;
  /** The list's expandable type (`list_of_refund`, …): `expand[]=data.charge` and the like. */
  type: ExpandableType;
  /** String filters besides Stripe's list parameters, read in this order. */
  filters: readonly F[];
  records: (state: EmulatorState) => Table<T>;
  render: Render<T>;
  /** The ids the filters and the path leave, oldest first; throws where Stripe refuses a filter. Default: every record. */
  select?: (state: EmulatorState, filter: ListFilter<F>, path: Record<string, string>) => readonly string[];
  url?: (path: Record<string, string>) => string;
}

/** `GET` a list: Stripe's list parameters and the filters are checked first, then one page is answered, newest first. */
export function listRoute<T extends StoredRecord, F extends string = never>(options: ListRouteOptions<T, F>): PreparedRoute {
  return defineRoute({
    method: 'GET',
    pattern: options.pattern,
    validate: ({ params }) => {
      rejectUnknown(params, [...LIST_PARAMS, ...options.filters]);
      const query = readListQuery(params);
      const filter: ListFilter<F> = {};
      for (const name of options.filters) {
        const value = readString(params, name);
        if (value !== undefined) filter[name] = value;
      }
      return { query, filter, expand: buildExpandTree(options.type, readExpand(params)).get('data') };
    },
    execute: ({ state, path }, { query, filter, expand }) => {
      const records = options.records(state);
      const ids = options.select ? options.select(state, filter, path) : records.order;
      const page = paginate(ids, records, query);
      return { body: listBody(options.url ? options.url(path) : options.pattern, page.data.map((record) => options.render(state, record, expand)), page.hasMore) };
    },
  });
}

/** A table of refunds or disputes, as far as narrowing by charge and PaymentIntent needs it. */
interface ChargeLinkedTable {
  readonly order: readonly string[];
  get(id: string): ChargeLinkedRecord | undefined;
  where(field: 'charge' | 'paymentIntent', value: string): readonly string[];
}

/** Ids narrowed to a charge and/or a PaymentIntent, oldest first; with both, the charge's that are also the PaymentIntent's. */
export function idsByChargeAndIntent(records: ChargeLinkedTable, filter: ListFilter<'charge' | 'payment_intent'>): readonly string[] {
  const { charge, payment_intent: paymentIntent } = filter;
  if (charge === undefined) return paymentIntent === undefined ? records.order : records.where('paymentIntent', paymentIntent);
  const ofCharge = records.where('charge', charge);
  return paymentIntent === undefined ? ofCharge : ofCharge.filter((id) => records.get(id)?.paymentIntent === paymentIntent);
}
