// Sandbox demo data: one payment per interesting case, at stable ids (letters and digits after the prefix) listed in DEMO_PAYMENTS.
import { creditAvailable } from './balance.js';
import { insertCharge } from './charge-service.js';
import { cancelPaymentIntent, confirmPaymentIntent, createPaymentIntent, type CreatePaymentIntentInput } from './payment-intent-service.js';
import { TEST_PAYMENT_METHODS } from './payment-methods.js';
import { createRefund } from './refund-service.js';
import type { EmulatorState } from './state.js';

export interface DemoPayment {
  /** The PaymentIntent id. */
  id: string;
  /** Its charge, or null when it has none. */
  chargeId: string | null;
  description: string;
}

export const DEMO_PAYMENTS: readonly DemoPayment[] = [
  { id: 'pi_DemoSucceeded', chargeId: 'ch_DemoSucceeded', description: 'succeeded, $50.00, nothing refunded yet: refund it in full or in parts' },
  { id: 'pi_DemoPartlyRefunded', chargeId: 'ch_DemoPartlyRefunded', description: 'succeeded, $100.00, $25.00 already refunded: $75.00 left' },
  { id: 'pi_DemoFullyRefunded', chargeId: 'ch_DemoFullyRefunded', description: 'succeeded, $40.00, fully refunded: any refund is charge_already_refunded' },
  { id: 'pi_DemoDisputed', chargeId: 'ch_DemoDisputed', description: 'succeeded, $80.00, open dispute (needs_response): refunds are refused' },
  { id: 'pi_DemoRequiresCapture', chargeId: 'ch_DemoRequiresCapture', description: 'authorised only (requires_capture), $75.00: cancel it instead of refunding' },
  { id: 'pi_DemoRequiresAction', chargeId: null, description: 'waiting for 3-D Secure (requires_action), $30.00: cancelable, not refundable' },
  { id: 'pi_DemoProcessing', chargeId: 'ch_DemoProcessing', description: 'processing, $20.00: neither refundable nor cancelable yet' },
  { id: 'pi_DemoCanceled', chargeId: 'ch_DemoCanceled', description: 'canceled after authorisation, $15.00: the authorisation was released' },
  { id: 'pi_DemoDeclined', chargeId: 'ch_DemoDeclined', description: 'card declined (requires_payment_method), $12.00: nothing to refund' },
  { id: 'pi_DemoJpy', chargeId: 'ch_DemoJpy', description: 'succeeded, ¥5000 (jpy, zero-decimal: amount 5000 means ¥5000)' },
  {
    id: 'pi_DemoPendingRefund',
    chargeId: 'ch_DemoPendingRefund',
    description: 'succeeded, $60.00, card 4000000000007726: refunds stay pending for 10 minutes, then succeed ($10.00 re_DemoPendingRefund is pending)',
  },
  {
    id: 'pi_DemoRefundFails',
    chargeId: 'ch_DemoRefundFails',
    description: 'succeeded, $30.00, card 4000000000005126: refunds say succeeded, then fail (expired_or_canceled_card), as $10.00 re_DemoRefundFails did',
  },
];

const base = (amount: number, currency = 'usd'): CreatePaymentIntentInput => ({
  amount,
  currency,
  paymentMethod: 'pm_card_visa',
  paymentMethodTypes: ['card'],
  automaticPaymentMethods: null,
  returnUrl: null,
  confirm: true,
  captureMethod: 'automatic',
  description: null,
  metadata: { demo: 'true' },
});

function pay(state: EmulatorState, name: string, input: Partial<CreatePaymentIntentInput> & { amount: number }, description: string): void {
  createPaymentIntent(state, { ...base(input.amount), ...input, description }, { id: `pi_${name}`, chargeId: `ch_${name}` });
}

/** Fills a fresh state with DEMO_PAYMENTS. Funds go straight to the available balance so demo refunds succeed at once. */
export function seedDemoPayments(state: EmulatorState): void {
  const describe = (id: string): string => DEMO_PAYMENTS.find((p) => p.id === id)?.description ?? id;
  pay(state, 'DemoSucceeded', { amount: 5000 }, describe('pi_DemoSucceeded'));
  pay(state, 'DemoPartlyRefunded', { amount: 10_000 }, describe('pi_DemoPartlyRefunded'));
  createRefund(state, { charge: 'ch_DemoPartlyRefunded', amount: 2500, reason: 'requested_by_customer', metadata: { demo: 'true' } }, 're_DemoPartlyRefunded');
  pay(state, 'DemoFullyRefunded', { amount: 4000 }, describe('pi_DemoFullyRefunded'));
  createRefund(state, { charge: 'ch_DemoFullyRefunded', reason: 'duplicate', metadata: { demo: 'true' } }, 're_DemoFullyRefunded');
  pay(state, 'DemoDisputed', { amount: 8000, paymentMethod: 'pm_card_createDispute' }, describe('pi_DemoDisputed'));
  pay(state, 'DemoRequiresCapture', { amount: 7500, captureMethod: 'manual' }, describe('pi_DemoRequiresCapture'));
  pay(state, 'DemoRequiresAction', { amount: 3000, paymentMethod: 'pm_card_authenticationRequired' }, describe('pi_DemoRequiresAction'));

  // No test card leaves a card payment in `processing`, so this one is set by hand: a pending charge, not yet captured.
  const processing = createPaymentIntent(state, { ...base(2000), confirm: false, description: describe('pi_DemoProcessing') }, { id: 'pi_DemoProcessing' });
  const visa = TEST_PAYMENT_METHODS['pm_card_visa'];
  if (visa) insertCharge(state, processing, 'pm_card_visa', visa, { id: 'ch_DemoProcessing', status: 'pending' });
  processing.status = 'processing';

  pay(state, 'DemoCanceled', { amount: 1500, captureMethod: 'manual' }, describe('pi_DemoCanceled'));
  const canceled = state.store.paymentIntents.get('pi_DemoCanceled');
  if (canceled) cancelPaymentIntent(state, canceled, 'requested_by_customer');

  const declined = createPaymentIntent(state, { ...base(1200), paymentMethod: 'pm_card_chargeDeclined', confirm: false, description: describe('pi_DemoDeclined') }, { id: 'pi_DemoDeclined' });
  try {
    confirmPaymentIntent(state, declined, {}, { chargeId: 'ch_DemoDeclined' });
  } catch {
    // The decline is the point: the PaymentIntent is back in requires_payment_method with last_payment_error set.
  }

  pay(state, 'DemoJpy', { amount: 5000, currency: 'jpy', paymentMethod: 'pm_card_jp' }, describe('pi_DemoJpy'));
  pay(state, 'DemoPendingRefund', { amount: 6000, paymentMethod: 'pm_card_pendingRefund' }, describe('pi_DemoPendingRefund'));
  createRefund(state, { charge: 'ch_DemoPendingRefund', amount: 1000, reason: 'requested_by_customer', metadata: { demo: 'true' } }, 're_DemoPendingRefund');
  pay(state, 'DemoRefundFails', { amount: 3000, paymentMethod: 'pm_card_refundFail' }, describe('pi_DemoRefundFails'));
  // It fails at the first settle after the seed (the scheduler's first tick or the first request), with its events.
  createRefund(state, { charge: 'ch_DemoRefundFails', amount: 1000, reason: 'requested_by_customer', metadata: { demo: 'true' } }, 're_DemoRefundFails');

  // Enough available balance that sandbox refunds are paid from it even with bank debits turned off.
  creditAvailable(state.balance, 'usd', 1_000_000);
  creditAvailable(state.balance, 'jpy', 1_000_000);
}
