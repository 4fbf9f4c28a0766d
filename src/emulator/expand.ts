// `expand[]` paths turned into a tree and checked against what each object type can expand, before any work is done.
import { invalidRequest } from './errors.js';
import { readExpand, rejectUnknown, type Params } from './form.js';

export type ExpandTree = Map<string, ExpandTree>;

export type ExpandableType =
  | 'payment_intent'
  | 'charge'
  | 'refund'
  | 'dispute'
  | 'event'
  | 'webhook_endpoint'
  | 'refund_list'
  | 'list_of_payment_intent'
  | 'list_of_charge'
  | 'list_of_refund'
  | 'list_of_dispute'
  | 'list_of_event'
  | 'list_of_webhook_endpoint';

// What the emulator can expand; Stripe can expand more (balance_transaction, customer, …), which is refused clearly.
const EXPANDABLE: Record<ExpandableType, Record<string, ExpandableType>> = {
  payment_intent: { latest_charge: 'charge' },
  charge: { payment_intent: 'payment_intent', refunds: 'refund_list' },
  refund: { charge: 'charge', payment_intent: 'payment_intent' },
  dispute: { charge: 'charge', payment_intent: 'payment_intent' },
  // An event's data is a snapshot: nothing in it is expanded.
  event: {},
  webhook_endpoint: {},
  refund_list: { data: 'refund' },
  list_of_payment_intent: { data: 'payment_intent' },
  list_of_charge: { data: 'charge' },
  list_of_refund: { data: 'refund' },
  list_of_dispute: { data: 'dispute' },
  list_of_event: { data: 'event' },
  list_of_webhook_endpoint: { data: 'webhook_endpoint' },
};

/** Builds the tree and throws a Stripe-shaped 400 for a path the object cannot expand (Stripe allows 4 levels). */
export function buildExpandTree(type: ExpandableType, paths: readonly string[]): ExpandTree {
  const root: ExpandTree = new Map();
  for (const path of paths) {
    const parts = path.split('.');
    if (parts.length > 4) throw invalidRequest(`You cannot expand more than 4 levels of a property. Property: ${path}`, { param: 'expand' });
    let node = root;
    let nodeType: ExpandableType = type;
    for (const part of parts) {
      const childType = EXPANDABLE[nodeType][part];
      if (childType === undefined) {
        const expandable = Object.keys(EXPANDABLE[nodeType]);
        const hint = expandable.length === 0 ? 'Nothing in this object can be expanded.' : `The emulator expands only: ${expandable.join(', ')}.`;
        throw invalidRequest(`This property cannot be expanded (${part}). ${hint}`, { param: 'expand' });
      }
      let child = node.get(part);
      if (!child) {
        child = new Map();
        node.set(part, child);
      }
      node = child;
      nodeType = childType;
    }
  }
  return root;
}

export const NO_EXPAND: ExpandTree = new Map();

/** Parameters that may hold only `expand` (and the names in `also`): checked, then turned into the object's tree. */
export function readExpandOnly(params: Params, type: ExpandableType, also: readonly string[] = []): ExpandTree {
  rejectUnknown(params, ['expand', ...also]);
  return buildExpandTree(type, readExpand(params));
}
