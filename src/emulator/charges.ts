// /v1/charges: retrieve (with `expand[]=refunds`), list (by `payment_intent`) and a charge's refunds.
import { resourceMissing } from './errors.js';
import { buildExpandTree } from './expand.js';
import { readExpand, readString, rejectUnknown } from './form.js';
import { LIST_PARAMS, listBody, paginate, readListQuery } from './lists.js';
import { renderCharge, renderRefund } from './render.js';
import { defineRoute, type PreparedRoute } from './router.js';
import type { EmulatorState } from './state.js';
import type { ChargeRecord } from './store.js';

export function getCharge(state: EmulatorState, id: string): ChargeRecord {
  const charge = state.store.charges.get(id);
  if (!charge) throw resourceMissing('charge', id);
  return charge;
}

const retrieve = defineRoute({
  method: 'GET',
  pattern: '/v1/charges/:id',
  validate: ({ params }) => {
    rejectUnknown(params, ['expand']);
    return buildExpandTree('charge', readExpand(params));
  },
  execute: ({ state, path }, expand) => ({ body: renderCharge(state, getCharge(state, path['id'] ?? ''), expand) }),
});

const list = defineRoute({
  method: 'GET',
  pattern: '/v1/charges',
  validate: ({ params }) => {
    rejectUnknown(params, [...LIST_PARAMS, 'payment_intent']);
    return { query: readListQuery(params), paymentIntent: readString(params, 'payment_intent'), expand: buildExpandTree('list_of_charge', readExpand(params)).get('data') };
  },
  execute: ({ state }, { query, paymentIntent, expand }) => {
    const { store } = state;
    if (paymentIntent !== undefined && !store.paymentIntents.has(paymentIntent)) throw resourceMissing('payment_intent', paymentIntent, 'payment_intent');
    const ids = paymentIntent === undefined ? store.chargeOrder : (store.chargesByPaymentIntent.get(paymentIntent) ?? []);
    const page = paginate(ids, (id) => store.charges.get(id), query, 'charge');
    return { body: listBody('/v1/charges', page.data.map((ch) => renderCharge(state, ch, expand)), page.hasMore) };
  },
});

const refundsOfCharge = defineRoute({
  method: 'GET',
  pattern: '/v1/charges/:id/refunds',
  validate: ({ params }) => {
    rejectUnknown(params, [...LIST_PARAMS]);
    return { query: readListQuery(params), expand: buildExpandTree('list_of_refund', readExpand(params)).get('data') };
  },
  execute: ({ state, path }, { query, expand }) => {
    const charge = getCharge(state, path['id'] ?? '');
    const page = paginate(state.store.refundsByCharge.get(charge.id) ?? [], (id) => state.store.refunds.get(id), query, 'refund');
    return { body: listBody(`/v1/charges/${charge.id}/refunds`, page.data.map((r) => renderRefund(state, r, expand)), page.hasMore) };
  },
});

export const chargeRoutes: readonly PreparedRoute[] = [list, retrieve, refundsOfCharge];
