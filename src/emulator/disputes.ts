// /v1/disputes: list (by `charge` or `payment_intent`) and retrieve, so the gateway can tell an open dispute from a closed one.
import { resourceMissing } from './errors.js';
import { buildExpandTree } from './expand.js';
import { readExpand, readString, rejectUnknown } from './form.js';
import { LIST_PARAMS, listBody, paginate, readListQuery } from './lists.js';
import { renderDispute } from './render.js';
import { defineRoute, type PreparedRoute } from './router.js';

const list = defineRoute({
  method: 'GET',
  pattern: '/v1/disputes',
  validate: ({ params }) => {
    rejectUnknown(params, [...LIST_PARAMS, 'charge', 'payment_intent']);
    return {
      query: readListQuery(params),
      charge: readString(params, 'charge'),
      paymentIntent: readString(params, 'payment_intent'),
      expand: buildExpandTree('list_of_dispute', readExpand(params)).get('data'),
    };
  },
  execute: ({ state }, { query, charge, paymentIntent, expand }) => {
    const { store } = state;
    let ids: readonly string[] = store.disputeOrder;
    if (charge !== undefined) ids = store.disputesByCharge.get(charge) ?? [];
    if (paymentIntent !== undefined) {
      const byPi = store.disputesByPaymentIntent.get(paymentIntent) ?? [];
      ids = charge === undefined ? byPi : ids.filter((id) => store.disputes.get(id)?.paymentIntent === paymentIntent);
    }
    const page = paginate(ids, (id) => store.disputes.get(id), query, 'dispute');
    return { body: listBody('/v1/disputes', page.data.map((d) => renderDispute(state, d, expand)), page.hasMore) };
  },
});

const retrieve = defineRoute({
  method: 'GET',
  pattern: '/v1/disputes/:id',
  validate: ({ params }) => {
    rejectUnknown(params, ['expand']);
    return buildExpandTree('dispute', readExpand(params));
  },
  execute: ({ state, path }, expand) => {
    const id = path['id'] ?? '';
    const dispute = state.store.disputes.get(id);
    if (!dispute) throw resourceMissing('dispute', id);
    return { body: renderDispute(state, dispute, expand) };
  },
});

export const disputeRoutes: readonly PreparedRoute[] = [list, retrieve];
