// Charges as PaymentIntents create them: authorised, captured (funds into the balance) or declined.
import { creditAvailable, creditPending } from './balance.js';
import { openDispute } from './dispute-service.js';
import type { TestPaymentMethod } from './payment-methods.js';
import { newRecordBase, type EmulatorState } from './state.js';
import type { ChargeRecord, PaymentIntentRecord } from './store.js';
import { FUNDS_AVAILABLE_AFTER_MS } from './timings.js';

export function insertCharge(
  state: EmulatorState,
  pi: PaymentIntentRecord,
  paymentMethodId: string,
  pm: TestPaymentMethod,
  fields: Pick<ChargeRecord, 'status'> & Partial<ChargeRecord>,
): ChargeRecord {
  const charge: ChargeRecord = {
    ...newRecordBase(state, 'ch', fields.id),
    amount: pi.amount,
    amountCaptured: 0,
    amountRefunded: 0,
    currency: pi.currency,
    captured: false,
    paymentIntent: pi.id,
    paymentMethod: paymentMethodId,
    behaviour: pm.behaviour,
    balanceTransaction: null,
    failureCode: null,
    failureMessage: null,
    disputed: false,
    description: pi.description,
    metadata: {},
    ...fields,
  };
  state.store.charges.insert(charge);
  pi.latestCharge = charge.id;
  return charge;
}

/** Captures `amount` of an authorised charge: funds land in pending (or straight in available for `pm_card_bypassPending`). */
export function captureCharge(state: EmulatorState, charge: ChargeRecord, amount: number): void {
  charge.captured = true;
  charge.amountCaptured = amount;
  charge.balanceTransaction = state.newId('txn');
  if (charge.behaviour === 'bypass_pending') creditAvailable(state.balance, charge.currency, amount);
  else creditPending(state.balance, charge.currency, amount, state.clock.nowMs() + FUNDS_AVAILABLE_AFTER_MS);
  // Stripe's pm_card_createDispute: the charge succeeds, then the cardholder disputes it.
  if (charge.behaviour === 'dispute') openDispute(state, charge);
}
