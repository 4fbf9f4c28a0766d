// /v1/refunds: create (charge or payment_intent), retrieve, update metadata, list, cancel.
import { invalidRequest, parameterMissing, resourceMissing } from './errors.js';
import { buildExpandTree } from './expand.js';
import { mergeMetadata, readEnum, readExpand, readMetadata, readString, rejectUnknown } from './form.js';
import { LIST_PARAMS, listBody, paginate, readListQuery } from './lists.js';
import { readAmount } from './payment-intents.js';
import { createRefund, type CreateRefundInput } from './refund-service.js';
import { renderRefund } from './render.js';
import { defineRoute, type PreparedRoute } from './router.js';
import type { EmulatorState } from './state.js';
import type { RefundRecord } from './store.js';

function getRefund(state: EmulatorState, id: string): RefundRecord {
  const refund = state.store.refunds.get(id);
  if (!refund) throw resourceMissing('refund', id);
  return refund;
}

// Stripe parameters the emulator knows but does not model (Connect, customer balance, Konbini-style instructions).
const UNSUPPORTED = ['refund_application_fee', 'reverse_transfer', 'instructions_email', 'origin', 'currency', 'customer'];

const create = defineRoute({
  method: 'POST',
  pattern: '/v1/refunds',
  validate: ({ params }) => {
    rejectUnknown(params, ['charge', 'payment_intent', 'amount', 'reason', 'metadata', 'expand', ...UNSUPPORTED]);
    for (const name of UNSUPPORTED) {
      if (params[name] !== undefined) throw invalidRequest(`The emulator does not support the parameter ${name}.`, { param: name });
    }
    const charge = readString(params, 'charge');
    const paymentIntent = readString(params, 'payment_intent');
    // UNCONFIRMED at Stripe: both → parameters_exclusive (the code Stripe uses for such pairs); neither → "Missing required param: charge." (2020).
    if (charge && paymentIntent) {
      throw invalidRequest('You may only specify one of these parameters: charge, payment_intent.', { code: 'parameters_exclusive', param: 'payment_intent' });
    }
    if (!charge && !paymentIntent) throw parameterMissing('charge');
    const input: CreateRefundInput = {
      reason: readEnum(params, 'reason', ['duplicate', 'fraudulent', 'requested_by_customer'] as const) ?? null,
      metadata: mergeMetadata({}, readMetadata(params)),
    };
    if (charge) input.charge = charge;
    if (paymentIntent) input.paymentIntent = paymentIntent;
    const amount = readAmount(params, 'amount');
    if (amount !== undefined) input.amount = amount;
    return { input, expand: buildExpandTree('refund', readExpand(params)) };
  },
  execute: ({ state }, { input, expand }) => ({ body: renderRefund(state, createRefund(state, input), expand) }),
});

const retrieve = defineRoute({
  method: 'GET',
  pattern: '/v1/refunds/:id',
  validate: ({ params }) => {
    rejectUnknown(params, ['expand']);
    return buildExpandTree('refund', readExpand(params));
  },
  execute: ({ state, path }, expand) => ({ body: renderRefund(state, getRefund(state, path['id'] ?? ''), expand) }),
});

const update = defineRoute({
  method: 'POST',
  pattern: '/v1/refunds/:id',
  validate: ({ params }) => {
    rejectUnknown(params, ['metadata', 'expand']);
    return { metadata: readMetadata(params), expand: buildExpandTree('refund', readExpand(params)) };
  },
  execute: ({ state, path }, { metadata, expand }) => {
    const refund = getRefund(state, path['id'] ?? '');
    refund.metadata = mergeMetadata(refund.metadata, metadata);
    return { body: renderRefund(state, refund, expand) };
  },
});

const cancel = defineRoute({
  method: 'POST',
  pattern: '/v1/refunds/:id/cancel',
  validate: ({ params }) => {
    rejectUnknown(params, ['expand']);
    return buildExpandTree('refund', readExpand(params));
  },
  execute: ({ state, path }) => {
    const refund = getRefund(state, path['id'] ?? '');
    // Card refunds never reach requires_action here, so this always refuses (the code is UNCONFIRMED at Stripe).
    throw invalidRequest(`You can't cancel a refund with a status of ${refund.status}. Only refunds with a status of requires_action can be canceled.`);
  },
});

const list = defineRoute({
  method: 'GET',
  pattern: '/v1/refunds',
  validate: ({ params }) => {
    rejectUnknown(params, [...LIST_PARAMS, 'charge', 'payment_intent']);
    return {
      query: readListQuery(params),
      charge: readString(params, 'charge'),
      paymentIntent: readString(params, 'payment_intent'),
      expand: buildExpandTree('list_of_refund', readExpand(params)).get('data'),
    };
  },
  execute: ({ state }, { query, charge, paymentIntent, expand }) => {
    const { store } = state;
    let ids: readonly string[] = store.refundOrder;
    if (charge !== undefined) {
      if (!store.charges.has(charge)) throw resourceMissing('charge', charge, 'charge');
      ids = store.refundsByCharge.get(charge) ?? [];
    }
    if (paymentIntent !== undefined) {
      if (!store.paymentIntents.has(paymentIntent)) throw resourceMissing('payment_intent', paymentIntent, 'payment_intent');
      const byPi = store.refundsByPaymentIntent.get(paymentIntent) ?? [];
      ids = charge === undefined ? byPi : ids.filter((id) => store.refunds.get(id)?.paymentIntent === paymentIntent);
    }
    const page = paginate(ids, (id) => store.refunds.get(id), query, 'refund');
    return { body: listBody('/v1/refunds', page.data.map((r) => renderRefund(state, r, expand)), page.hasMore) };
  },
});

export const refundRoutes: readonly PreparedRoute[] = [create, list, retrieve, update, cancel];
