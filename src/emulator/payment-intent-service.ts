// The PaymentIntent state machine: create, confirm (the test payment method decides), capture and cancel.
import { emitPaymentIntentCanceled } from './change-events.js';
import { captureCharge, insertCharge } from './charge-service.js';
import { invalidRequest, StripeError } from './errors.js';
import { findTestPaymentMethod } from './payment-methods.js';
import { createReleaseRefund } from './refund-service.js';
import { renderPaymentIntent } from './render.js';
import { newRecordBase, type EmulatorState } from './state.js';
import type { AutomaticPaymentMethods, CaptureMethod, PaymentIntentRecord, PaymentIntentStatus } from './store.js';

export interface CreatePaymentIntentInput {
  amount: number;
  currency: string;
  paymentMethod: string | null;
  paymentMethodTypes: string[] | null;
  automaticPaymentMethods: AutomaticPaymentMethods | null;
  returnUrl: string | null;
  confirm: boolean;
  captureMethod: CaptureMethod;
  description: string | null;
  metadata: Record<string, string>;
}

export interface ConfirmInput {
  paymentMethod?: string;
  returnUrl?: string;
  captureMethod?: CaptureMethod;
}

/** Ids the seed pins so demo payments are reachable by readable ids. */
export interface FixedIds {
  id?: string;
  chargeId?: string;
}

export const CANCELABLE_STATUSES: readonly PaymentIntentStatus[] = ['requires_payment_method', 'requires_capture', 'requires_confirmation', 'requires_action'];
const CONFIRMABLE_STATUSES: readonly PaymentIntentStatus[] = ['requires_payment_method', 'requires_confirmation', 'requires_action'];

const unexpectedState = (state: EmulatorState, pi: PaymentIntentRecord, message: string): StripeError =>
  invalidRequest(message, { code: 'payment_intent_unexpected_state', extra: { payment_intent: renderPaymentIntent(state, pi) } });

export function createPaymentIntent(state: EmulatorState, input: CreatePaymentIntentInput, fixed: FixedIds = {}): PaymentIntentRecord {
  const base = newRecordBase(state, 'pi', fixed.id);
  // Since API 2023-08-16 a PaymentIntent without payment_method_types uses automatic payment methods.
  const automatic = input.paymentMethodTypes === null ? (input.automaticPaymentMethods ?? { enabled: true }) : input.automaticPaymentMethods;
  const pi: PaymentIntentRecord = {
    ...base,
    amount: input.amount,
    currency: input.currency,
    status: input.paymentMethod === null ? 'requires_payment_method' : 'requires_confirmation',
    captureMethod: input.captureMethod,
    paymentMethod: input.paymentMethod,
    paymentMethodTypes: input.paymentMethodTypes ?? ['card'],
    allowedPaymentMethodTypes: input.paymentMethodTypes,
    automaticPaymentMethods: automatic,
    returnUrl: input.returnUrl,
    amountCapturable: 0,
    amountReceived: 0,
    latestCharge: null,
    canceledAt: null,
    cancellationReason: null,
    lastPaymentError: null,
    nextAction: null,
    description: input.description,
    metadata: input.metadata,
    clientSecret: `${base.id}_secret_${state.newId('x').slice(2)}`,
  };
  state.store.paymentIntents.insert(pi);
  if (input.confirm) confirmPaymentIntent(state, pi, {}, fixed);
  return pi;
}

/** Runs the payment method's scenario. A decline changes state and then throws the 402, exactly as Stripe answers. */
export function confirmPaymentIntent(state: EmulatorState, pi: PaymentIntentRecord, input: ConfirmInput, fixed: FixedIds = {}): void {
  if (!CONFIRMABLE_STATUSES.includes(pi.status)) {
    throw unexpectedState(
      state,
      pi,
      `You cannot confirm this PaymentIntent because it has a status of ${pi.status}. Only a PaymentIntent with one of the following statuses may be confirmed: ${CONFIRMABLE_STATUSES.join(', ')}.`,
    );
  }
  if (input.returnUrl !== undefined) pi.returnUrl = input.returnUrl;
  if (input.captureMethod !== undefined) pi.captureMethod = input.captureMethod;
  const pmId = input.paymentMethod ?? pi.paymentMethod;
  if (pmId === null) {
    throw invalidRequest('You cannot confirm this PaymentIntent because it\'s missing a payment method. Update the PaymentIntent with a payment method and then confirm it again.', {
      code: 'payment_intent_unexpected_state',
      extra: { payment_intent: renderPaymentIntent(state, pi) },
    });
  }
  const auto = pi.automaticPaymentMethods;
  if (auto?.enabled && auto.allowRedirects !== 'never' && pi.returnUrl === null) {
    throw invalidRequest(
      'This PaymentIntent is configured to accept payment methods enabled in your Dashboard. Because some of these payment methods might redirect your customer off of your page, you must provide a `return_url`. If you don\'t want to accept redirect-based payment methods, set `automatic_payment_methods[enabled]` to `true` and `automatic_payment_methods[allow_redirects]` to `never` when creating Setup Intents and Payment Intents.',
      { param: 'return_url' },
    );
  }
  const pm = findTestPaymentMethod(pmId);
  if (!pm) throw invalidRequest(`No such PaymentMethod: '${pmId}'`, { code: 'resource_missing', param: 'payment_method' });
  pi.paymentMethod = pmId;
  pi.lastPaymentError = null;
  pi.nextAction = null;

  if (pm.behaviour === 'requires_action') {
    pi.status = 'requires_action';
    pi.nextAction =
      pi.returnUrl === null
        ? { type: 'use_stripe_sdk', use_stripe_sdk: { type: 'three_d_secure_redirect', stripe_js: `https://hooks.stripe.com/emulator/3ds/${pi.id}` } }
        : { type: 'redirect_to_url', redirect_to_url: { return_url: pi.returnUrl, url: `https://hooks.stripe.com/emulator/3ds/${pi.id}` } };
    return;
  }
  if (pm.behaviour === 'decline' || pm.behaviour === 'decline_insufficient_funds') {
    const declineCode = pm.behaviour === 'decline' ? 'generic_decline' : 'insufficient_funds';
    const message = pm.behaviour === 'decline' ? 'Your card was declined.' : 'Your card has insufficient funds.';
    const charge = insertCharge(state, pi, pmId, pm, { status: 'failed', failureCode: 'card_declined', failureMessage: message, ...(fixed.chargeId ? { id: fixed.chargeId } : {}) });
    const error = { type: 'card_error', code: 'card_declined', decline_code: declineCode, message, charge: charge.id, doc_url: 'https://stripe.com/docs/error-codes/card-declined' };
    pi.status = 'requires_payment_method';
    pi.paymentMethod = null;
    pi.lastPaymentError = error;
    throw new StripeError({
      status: 402,
      type: 'card_error',
      code: 'card_declined',
      message,
      extra: { decline_code: declineCode, charge: charge.id, payment_intent: renderPaymentIntent(state, pi) },
    });
  }
  const charge = insertCharge(state, pi, pmId, pm, { status: 'succeeded', ...(fixed.chargeId ? { id: fixed.chargeId } : {}) });
  if (pi.captureMethod === 'manual') {
    pi.status = 'requires_capture';
    pi.amountCapturable = pi.amount;
    return;
  }
  captureCharge(state, charge, pi.amount);
  pi.status = 'succeeded';
  pi.amountReceived = pi.amount;
}

export function capturePaymentIntent(state: EmulatorState, pi: PaymentIntentRecord, amountToCapture: number | undefined): void {
  const charge = pi.latestCharge === null ? undefined : state.store.charges.get(pi.latestCharge);
  if (pi.status !== 'requires_capture' || !charge) {
    throw unexpectedState(
      state,
      pi,
      `This PaymentIntent could not be captured because it has a status of ${pi.status}. Only a PaymentIntent with one of the following statuses may be captured: requires_capture.`,
    );
  }
  const amount = amountToCapture ?? pi.amountCapturable;
  if (amount > pi.amountCapturable) {
    throw invalidRequest(`The amount to capture (${amount}) must be less than or equal to the amount capturable (${pi.amountCapturable}).`, {
      code: 'amount_too_large',
      param: 'amount_to_capture',
    });
  }
  captureCharge(state, charge, amount);
  // A partial capture releases the rest of the authorisation with a refund Stripe makes itself.
  if (amount < charge.amount) createReleaseRefund(state, charge, charge.amount - amount);
  pi.status = 'succeeded';
  pi.amountReceived = amount;
  pi.amountCapturable = 0;
}

export function cancelPaymentIntent(state: EmulatorState, pi: PaymentIntentRecord, reason: string | null): void {
  if (!CANCELABLE_STATUSES.includes(pi.status)) {
    // Stripe's own text, which also names `processing` ("in rare cases"); the emulator does not cancel from processing.
    throw unexpectedState(
      state,
      pi,
      `You cannot cancel this PaymentIntent because it has a status of ${pi.status}. Only a PaymentIntent with one of the following statuses may be canceled: requires_payment_method, requires_capture, requires_confirmation, requires_action, processing.`,
    );
  }
  if (pi.status === 'requires_capture' && pi.latestCharge !== null) {
    const charge = state.store.charges.get(pi.latestCharge);
    if (charge && charge.amountRefunded < charge.amount) createReleaseRefund(state, charge, charge.amount - charge.amountRefunded);
  }
  pi.status = 'canceled';
  pi.canceledAt = state.clock.nowSeconds();
  pi.cancellationReason = reason;
  pi.amountCapturable = 0;
  pi.nextAction = null;
  emitPaymentIntentCanceled(state, pi);
}
