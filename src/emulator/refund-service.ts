// Refunds: Stripe's refusals in Stripe's order, the balance they are paid from, and the timed transitions of the test cards, each emitting its events.
import { tryDebitForRefund, enqueueWaitingRefund, releaseMaturedFunds, creditAvailable } from './balance.js';
import { watchRefund, watchRefundCreation } from './change-events.js';
import type { StripeError } from './errors.js';
import { invalidRequest } from './errors.js';
import { renderPaymentIntent } from './render.js';
import { newChargeLinkedBase, type EmulatorState } from './state.js';
import { OPEN_DISPUTE_STATUSES, type ChargeRecord, type PaymentIntentRecord, type RefundRecord } from './store.js';
import { PENDING_REFUND_SETTLES_AFTER_MS, REFUND_FAILS_AFTER_MS } from './timings.js';

export interface CreateRefundInput {
  charge?: string;
  paymentIntent?: string;
  amount?: number;
  reason: string | null;
  metadata: Record<string, string>;
}

/** "$45.00"-style amounts in messages, the way Stripe's older messages wrote them whatever the currency. */
const ZERO_DECIMAL = new Set(['bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'ugx', 'vnd', 'vuv', 'xaf', 'xof', 'xpf']);
export const formatAmount = (amount: number, currency: string): string => (ZERO_DECIMAL.has(currency) ? `$${amount}` : `$${(amount / 100).toFixed(2)}`);

function unexpectedStateForRefund(state: EmulatorState, pi: PaymentIntentRecord, viaCharge: string | null): StripeError {
  let message: string;
  if (pi.status === 'requires_capture') {
    message = viaCharge
      ? // Stripe's text, as logged in woocommerce/woocommerce-gateway-stripe#1081 (2019).
        `This uncaptured Charge was created by a PaymentIntent (${pi.id}). You must cancel the PaymentIntent to reverse the authorization instead of refunding the Charge directly. For more information, see https://stripe.com/docs/payments/payment-intents/creating-payment-intents#separate-auth-capture`
      : `This PaymentIntent (${pi.id}) has a status of requires_capture: it is only authorized, so there is nothing captured to refund. Cancel the PaymentIntent to release the authorization instead.`;
  } else {
    message = `This PaymentIntent (${pi.id}) has a status of ${pi.status} and does not have a successful charge to refund.`;
  }
  return invalidRequest(message, { code: 'payment_intent_unexpected_state', extra: { payment_intent: renderPaymentIntent(state, pi) } });
}

function hasOpenUnrefundableDispute(state: EmulatorState, charge: ChargeRecord): boolean {
  for (const id of state.store.disputes.where('charge', charge.id)) {
    const d = state.store.disputes.get(id);
    if (d && OPEN_DISPUTE_STATUSES.includes(d.status) && !d.isChargeRefundable) return true;
  }
  return false;
}

/** Finds the charge a refund request is about and applies every refusal; returns the charge and the amount to refund. */
function checkRefundable(state: EmulatorState, input: CreateRefundInput): { charge: ChargeRecord; amount: number } {
  const { store } = state;
  let charge: ChargeRecord | undefined;
  if (input.paymentIntent !== undefined) {
    const pi = store.paymentIntents.getOr404(input.paymentIntent);
    if (pi.status !== 'succeeded') throw unexpectedStateForRefund(state, pi, null);
    charge = pi.latestCharge === null ? undefined : store.charges.get(pi.latestCharge);
    if (!charge) throw unexpectedStateForRefund(state, pi, null);
  } else {
    charge = store.charges.getOr404(input.charge ?? '');
  }
  if (charge.amountRefunded >= charge.amount) {
    throw invalidRequest(`Charge ${charge.id} has already been refunded.`, { code: 'charge_already_refunded' });
  }
  const pi = store.paymentIntents.get(charge.paymentIntent);
  if (pi && pi.status !== 'succeeded') throw unexpectedStateForRefund(state, pi, charge.id);
  if (charge.status !== 'succeeded' || !charge.captured) {
    throw invalidRequest(`Charge ${charge.id} has a status of ${charge.status} and cannot be refunded.`, { code: 'charge_not_refundable' });
  }
  if (hasOpenUnrefundableDispute(state, charge)) {
    throw invalidRequest(`Charge ${charge.id} has been charged back; cannot issue a refund.`, { code: 'charge_disputed' });
  }
  const remaining = charge.amount - charge.amountRefunded;
  const amount = input.amount ?? remaining;
  if (amount > remaining) {
    throw invalidRequest(
      `Refund amount (${formatAmount(amount, charge.currency)}) is greater than unrefunded amount on charge (${formatAmount(remaining, charge.currency)})`,
      { param: 'amount' },
    );
  }
  return { charge, amount };
}

function insertRefund(state: EmulatorState, charge: ChargeRecord, fields: Partial<RefundRecord> & Pick<RefundRecord, 'amount' | 'status'>): RefundRecord {
  const refund: RefundRecord = {
    ...newChargeLinkedBase(state, 're', charge, fields.amount, fields.id),
    paymentMethod: charge.paymentMethod,
    pendingReason: null,
    failureReason: null,
    failureBalanceTransaction: null,
    balanceTransaction: null,
    reason: null,
    metadata: {},
    funded: false,
    ...fields,
  };
  state.store.refunds.insert(refund);
  charge.amountRefunded += refund.amount;
  return refund;
}

/** The money has left the balance: the refund succeeds, or for `pm_card_pendingRefund` starts its processing span. */
function markFunded(state: EmulatorState, refund: RefundRecord, charge: ChargeRecord): void {
  const now = state.clock.nowMs();
  refund.funded = true;
  refund.balanceTransaction = state.newId('txn');
  if (charge.behaviour === 'pending_refund') {
    refund.status = 'pending';
    refund.pendingReason = 'processing';
    state.processingRefunds.push({ refundId: refund.id, atMs: now + PENDING_REFUND_SETTLES_AFTER_MS });
    return;
  }
  refund.status = 'succeeded';
  refund.pendingReason = null;
  // Stripe: "the refund will appear to be successful at first and will only have the failed status on subsequent fetches".
  if (charge.behaviour === 'refund_fail') state.failingRefunds.push({ refundId: refund.id, atMs: now + REFUND_FAILS_AFTER_MS });
}

export function createRefund(state: EmulatorState, input: CreateRefundInput, fixedId?: string): RefundRecord {
  const { charge, amount } = checkRefundable(state, input);
  const created = watchRefundCreation(state, charge);
  const refund = insertRefund(state, charge, { amount, status: 'pending', reason: input.reason, metadata: input.metadata, ...(fixedId ? { id: fixedId } : {}) });
  if (tryDebitForRefund(state.balance, charge.currency, amount)) {
    markFunded(state, refund, charge);
  } else {
    refund.pendingReason = 'insufficient_funds';
    enqueueWaitingRefund(state.balance, charge.currency, refund.id);
  }
  created(refund);
  return refund;
}

/** The refund Stripe makes itself when an authorisation is released (cancel, or the rest of a partial capture): no money moves. */
export function createReleaseRefund(state: EmulatorState, charge: ChargeRecord, amount: number): RefundRecord {
  const created = watchRefundCreation(state, charge);
  const refund = insertRefund(state, charge, { amount, status: 'succeeded', funded: true });
  created(refund);
  return refund;
}

function failRefund(state: EmulatorState, refund: RefundRecord): void {
  const charge = state.store.charges.get(refund.charge);
  if (refund.status !== 'succeeded' || !charge) return;
  const changed = watchRefund(state, refund);
  refund.status = 'failed';
  refund.failureReason = 'expired_or_canceled_card';
  refund.failureBalanceTransaction = state.newId('txn');
  charge.amountRefunded -= refund.amount;
  creditAvailable(state.balance, refund.currency, refund.amount);
  changed();
}

/**
 * Applies every transition that is due on the emulator clock, emitting its events as automatic (no request). Called before
 * any request reads or changes state, by the scheduler tick, and when the clock moves.
 */
export function settle(state: EmulatorState): void {
  state.events.attributeTo(null, () => settleNow(state));
}

function settleNow(state: EmulatorState): void {
  const now = state.clock.nowMs();
  const { balance, store } = state;
  releaseMaturedFunds(balance, now);
  for (const [currency, queue] of balance.waiting) {
    for (let id = queue.peek(); id !== undefined; id = queue.peek()) {
      const refund = store.refunds.get(id);
      const charge = refund && store.charges.get(refund.charge);
      if (!refund || !charge || refund.status !== 'pending') {
        queue.shift();
        continue;
      }
      if (!tryDebitForRefund(balance, currency, refund.amount, { headOfQueue: true })) break;
      queue.shift();
      const changed = watchRefund(state, refund);
      markFunded(state, refund, charge);
      changed();
    }
  }
  for (let next = state.processingRefunds.peek(); next !== undefined && next.atMs <= now; next = state.processingRefunds.peek()) {
    state.processingRefunds.shift();
    const refund = store.refunds.get(next.refundId);
    if (refund && refund.status === 'pending') {
      const changed = watchRefund(state, refund);
      refund.status = 'succeeded';
      refund.pendingReason = null;
      changed();
    }
  }
  for (let next = state.failingRefunds.peek(); next !== undefined && next.atMs <= now; next = state.failingRefunds.peek()) {
    state.failingRefunds.shift();
    const refund = store.refunds.get(next.refundId);
    if (refund) failRefund(state, refund);
  }
}
