// /v1/charges: retrieve (with `expand[]=refunds`), list (by `payment_intent`) and a charge's refunds.
import { renderCharge, renderRefund } from './render.js';
import { listRoute, retrieveRoute } from './resource-routes.js';
import type { PreparedRoute } from './router.js';

const list = listRoute({
  pattern: '/v1/charges',
  type: 'list_of_charge',
  filters: ['payment_intent'],
  records: (state) => state.store.charges,
  render: renderCharge,
  select: ({ store }, { payment_intent: paymentIntent }) => {
    if (paymentIntent === undefined) return store.charges.order;
    store.paymentIntents.getOr404(paymentIntent, 'payment_intent');
    return store.charges.where('paymentIntent', paymentIntent);
  },
});

const retrieve = retrieveRoute({ pattern: '/v1/charges/:id', type: 'charge', records: (state) => state.store.charges, render: renderCharge });

const refundsOfCharge = listRoute({
  pattern: '/v1/charges/:id/refunds',
  type: 'list_of_refund',
  filters: [],
  records: (state) => state.store.refunds,
  render: renderRefund,
  select: ({ store }, _filter, path) => store.refunds.where('charge', store.charges.getOr404(path['id'] ?? '').id),
  url: (path) => `/v1/charges/${path['id'] ?? ''}/refunds`,
});

export const chargeRoutes: readonly PreparedRoute[] = [list, retrieve, refundsOfCharge];
