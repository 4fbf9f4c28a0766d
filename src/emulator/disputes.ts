// /v1/disputes: list (by `charge` or `payment_intent`) and retrieve, so the gateway can tell an open dispute from a closed one.
import { renderDispute } from './render.js';
import { idsByChargeAndIntent, listRoute, retrieveRoute } from './resource-routes.js';
import type { PreparedRoute } from './router.js';

// Unlike /v1/refunds, an unknown charge or PaymentIntent here is an empty list, not a 404.
const list = listRoute({
  pattern: '/v1/disputes',
  type: 'list_of_dispute',
  filters: ['charge', 'payment_intent'],
  records: (state) => state.store.disputes,
  render: renderDispute,
  select: ({ store }, filter) => idsByChargeAndIntent(store.disputes, filter),
});

const retrieve = retrieveRoute({ pattern: '/v1/disputes/:id', type: 'dispute', records: (state) => state.store.disputes, render: renderDispute });

export const disputeRoutes: readonly PreparedRoute[] = [list, retrieve];
