// /v1/payment_intents: create, retrieve, list, confirm, capture, cancel.
import { invalidRequest, resourceMissing } from './errors.js';
import { buildExpandTree } from './expand.js';
import { readBoolean, readEnum, readExpand, readInteger, readMetadata, readString, rejectUnknown, type Params } from './form.js';
import { findTestPaymentMethod } from './payment-methods.js';
import { cancelPaymentIntent, capturePaymentIntent, confirmPaymentIntent, createPaymentIntent, type ConfirmInput } from './payment-intent-service.js';
import { renderPaymentIntent } from './render.js';
import { listRoute, retrieveRoute } from './resource-routes.js';
import { defineRoute, type PreparedRoute } from './router.js';
import type { EmulatorState } from './state.js';
import type { AutomaticPaymentMethods, CaptureMethod, PaymentIntentRecord } from './store.js';

const CAPTURE_METHODS: readonly CaptureMethod[] = ['automatic', 'automatic_async', 'manual'];
export const MAX_AMOUNT = 99_999_999;

/** Stripe's amount rules for money coming in: a positive integer of at most eight digits. */
export function readAmount(params: Params, name: string): number | undefined {
  const amount = readInteger(params, name);
  if (amount === undefined) return undefined;
  if (amount < 1) throw invalidRequest('This value must be greater than or equal to 1.', { code: 'parameter_invalid_integer', param: name });
  if (amount > MAX_AMOUNT) throw invalidRequest('Amount must be no more than $999,999.99', { code: 'amount_too_large', param: name });
  return amount;
}

function readPaymentMethod(params: Params): string | undefined {
  const id = readString(params, 'payment_method');
  if (id !== undefined && !findTestPaymentMethod(id)) throw resourceMissing('PaymentMethod', id, 'payment_method');
  return id;
}

function readAutomatic(params: Params): AutomaticPaymentMethods | null {
  const raw = params['automatic_payment_methods'];
  if (raw === undefined) return null;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalidRequest('Invalid object', { param: 'automatic_payment_methods' });
  const inner = raw as Params;
  rejectUnknown(inner, ['enabled', 'allow_redirects']);
  const enabled = readBoolean(inner, 'enabled');
  if (enabled === undefined) throw invalidRequest('Missing required param: automatic_payment_methods[enabled].', { code: 'parameter_missing', param: 'automatic_payment_methods[enabled]' });
  const allowRedirects = readEnum(inner, 'allow_redirects', ['always', 'never'] as const);
  return allowRedirects === undefined ? { enabled } : { enabled, allowRedirects };
}

// API 2026 (stripe-node 23) names it `allowed_payment_method_types`; older versions `payment_method_types`. Both are accepted.
function readTypes(params: Params): string[] | null {
  if (params['payment_method_types'] !== undefined && params['allowed_payment_method_types'] !== undefined) {
    throw invalidRequest('You may only specify one of these parameters: allowed_payment_method_types, payment_method_types.', { code: 'parameters_exclusive', param: 'payment_method_types' });
  }
  const name = params['allowed_payment_method_types'] === undefined ? 'payment_method_types' : 'allowed_payment_method_types';
  const raw = params[name];
  if (raw === undefined) return null;
  const list = Array.isArray(raw) ? raw : typeof raw === 'object' && raw !== null ? Object.values(raw) : [raw];
  for (const type of list) {
    if (type !== 'card') throw invalidRequest(`The payment method type ${JSON.stringify(type)} is invalid or not supported by the emulator (only card is).`, { param: name });
  }
  return list as string[];
}

const create = defineRoute({
  method: 'POST',
  pattern: '/v1/payment_intents',
  validate: ({ params }) => {
    rejectUnknown(params, ['amount', 'currency', 'payment_method', 'payment_method_types', 'allowed_payment_method_types', 'automatic_payment_methods', 'return_url', 'confirm', 'capture_method', 'metadata', 'description', 'expand']);
    const amount = readAmount(params, 'amount');
    if (amount === undefined) throw invalidRequest('Missing required param: amount.', { code: 'parameter_missing', param: 'amount' });
    const currency = readString(params, 'currency');
    if (currency === undefined) throw invalidRequest('Missing required param: currency.', { code: 'parameter_missing', param: 'currency' });
    if (!/^[a-z]{3}$/.test(currency)) throw invalidRequest(`Invalid currency: ${currency}. Stripe currently supports these currencies: usd, eur, gbp, jpy, …`, { param: 'currency' });
    const paymentMethodTypes = readTypes(params);
    const automaticPaymentMethods = readAutomatic(params);
    if (paymentMethodTypes !== null && automaticPaymentMethods?.enabled) {
      throw invalidRequest('You may only specify one of these parameters: automatic_payment_methods, allowed_payment_method_types (payment_method_types).', {
        code: 'parameters_exclusive',
        param: 'automatic_payment_methods',
      });
    }
    return {
      input: {
        amount,
        currency,
        paymentMethod: readPaymentMethod(params) ?? null,
        paymentMethodTypes,
        automaticPaymentMethods,
        returnUrl: readString(params, 'return_url') ?? null,
        confirm: readBoolean(params, 'confirm') ?? false,
        captureMethod: readEnum(params, 'capture_method', CAPTURE_METHODS) ?? 'automatic',
        description: readString(params, 'description') ?? null,
        metadata: readMetadata(params) ?? {},
      },
      expand: buildExpandTree('payment_intent', readExpand(params)),
    };
  },
  execute: ({ state }, { input, expand }) => ({ body: renderPaymentIntent(state, createPaymentIntent(state, input), expand) }),
});

const retrieve = retrieveRoute({
  pattern: '/v1/payment_intents/:id',
  type: 'payment_intent',
  records: (state) => state.store.paymentIntents,
  render: renderPaymentIntent,
  also: ['client_secret'],
});

const list = listRoute({ pattern: '/v1/payment_intents', type: 'list_of_payment_intent', filters: [], records: (state) => state.store.paymentIntents, render: renderPaymentIntent });

/** `POST /v1/payment_intents/:id/<action>`: `read` checks the action's parameters, then `act` changes the PaymentIntent, which is the answer. */
function intentAction<I>(action: string, read: (params: Params) => I, act: (state: EmulatorState, pi: PaymentIntentRecord, input: I) => void): PreparedRoute {
  return defineRoute({
    method: 'POST',
    pattern: `/v1/payment_intents/:id/${action}`,
    validate: ({ params }) => ({ input: read(params), expand: buildExpandTree('payment_intent', readExpand(params)) }),
    execute: ({ state, path }, { input, expand }) => {
      const pi = state.store.paymentIntents.getOr404(path['id'] ?? '');
      act(state, pi, input);
      return { body: renderPaymentIntent(state, pi, expand) };
    },
  });
}

const confirm = intentAction(
  'confirm',
  (params) => {
    rejectUnknown(params, ['payment_method', 'return_url', 'capture_method', 'expand']);
    const input: ConfirmInput = {};
    const pm = readPaymentMethod(params);
    if (pm !== undefined) input.paymentMethod = pm;
    const returnUrl = readString(params, 'return_url');
    if (returnUrl !== undefined) input.returnUrl = returnUrl;
    const captureMethod = readEnum(params, 'capture_method', CAPTURE_METHODS);
    if (captureMethod !== undefined) input.captureMethod = captureMethod;
    return input;
  },
  confirmPaymentIntent,
);

const capture = intentAction(
  'capture',
  (params) => {
    rejectUnknown(params, ['amount_to_capture', 'expand']);
    return readAmount(params, 'amount_to_capture');
  },
  capturePaymentIntent,
);

const cancel = intentAction(
  'cancel',
  (params) => {
    rejectUnknown(params, ['cancellation_reason', 'expand']);
    return readEnum(params, 'cancellation_reason', ['duplicate', 'fraudulent', 'requested_by_customer', 'abandoned'] as const) ?? null;
  },
  cancelPaymentIntent,
);

export const paymentIntentRoutes: readonly PreparedRoute[] = [create, list, retrieve, confirm, capture, cancel];
