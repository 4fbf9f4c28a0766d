// /v1/refunds: create (charge or payment_intent), retrieve, update metadata, list, cancel.
import { watchRefund } from './change-events.js';
import { invalidRequest, parameterMissing } from './errors.js';
import { buildExpandTree, readExpandOnly } from './expand.js';
import { mergeMetadata, readEnum, readExpand, readMetadata, readString, rejectUnknown } from './form.js';
import { readAmount } from './payment-intents.js';
import { createRefund, type CreateRefundInput } from './refund-service.js';
import { renderRefund } from './render.js';
import { idsByChargeAndIntent, listRoute, retrieveRoute } from './resource-routes.js';
import { defineRoute, type PreparedRoute } from './router.js';

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

const retrieve = retrieveRoute({ pattern: '/v1/refunds/:id', type: 'refund', records: (state) => state.store.refunds, render: renderRefund });

const update = defineRoute({
  method: 'POST',
  pattern: '/v1/refunds/:id',
  validate: ({ params }) => {
    rejectUnknown(params, ['metadata', 'expand']);
    return { metadata: readMetadata(params), expand: buildExpandTree('refund', readExpand(params)) };
  },
  execute: ({ state, path }, { metadata, expand }) => {
    const refund = state.store.refunds.getOr404(path['id'] ?? '');
    const changed = watchRefund(state, refund);
    refund.metadata = mergeMetadata(refund.metadata, metadata);
    changed();
    return { body: renderRefund(state, refund, expand) };
  },
});

const cancel = defineRoute({
  method: 'POST',
  pattern: '/v1/refunds/:id/cancel',
  validate: ({ params }) => readExpandOnly(params, 'refund'),
  execute: ({ state, path }) => {
    const refund = state.store.refunds.getOr404(path['id'] ?? '');
    // Card refunds never reach requires_action here, so this always refuses (the code is UNCONFIRMED at Stripe).
    throw invalidRequest(`You can't cancel a refund with a status of ${refund.status}. Only refunds with a status of requires_action can be canceled.`);
  },
});

// Stripe has no `status` filter. An unknown charge or PaymentIntent is a 404 here (it may be an empty list at Stripe).
const list = listRoute({
  pattern: '/v1/refunds',
  type: 'list_of_refund',
  filters: ['charge', 'payment_intent'],
  records: (state) => state.store.refunds,
  render: renderRefund,
  select: ({ store }, filter) => {
    if (filter.charge !== undefined) store.charges.getOr404(filter.charge, 'charge');
    if (filter.payment_intent !== undefined) store.paymentIntents.getOr404(filter.payment_intent, 'payment_intent');
    return idsByChargeAndIntent(store.refunds, filter);
  },
});

export const refundRoutes: readonly PreparedRoute[] = [create, list, retrieve, update, cancel];
