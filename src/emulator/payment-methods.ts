// Stripe's test payment methods and what each one makes happen (docs.stripe.com/testing), as a lookup table.
export type PaymentMethodBehaviour =
  | 'succeed'
  | 'bypass_pending'
  | 'requires_action'
  | 'decline'
  | 'decline_insufficient_funds'
  | 'dispute'
  | 'pending_refund'
  | 'refund_fail';

export interface TestPaymentMethod {
  behaviour: PaymentMethodBehaviour;
  brand: string;
  last4: string;
  country: string;
  funding: 'credit' | 'debit';
}

const card = (behaviour: PaymentMethodBehaviour, brand: string, last4: string, country = 'US', funding: 'credit' | 'debit' = 'credit'): TestPaymentMethod => ({
  behaviour,
  brand,
  last4,
  country,
  funding,
});

export const TEST_PAYMENT_METHODS: Readonly<Record<string, TestPaymentMethod>> = {
  pm_card_visa: card('succeed', 'visa', '4242'),
  pm_card_visa_debit: card('succeed', 'visa', '5556', 'US', 'debit'),
  pm_card_mastercard: card('succeed', 'mastercard', '4444'),
  pm_card_amex: card('succeed', 'amex', '8431'),
  pm_card_jp: card('succeed', 'visa', '0003', 'JP'),
  pm_card_bypassPending: card('bypass_pending', 'visa', '0077'),
  pm_card_authenticationRequired: card('requires_action', 'visa', '3184'),
  pm_card_chargeDeclined: card('decline', 'visa', '0002'),
  pm_card_chargeDeclinedInsufficientFunds: card('decline_insufficient_funds', 'visa', '9995'),
  pm_card_createDispute: card('dispute', 'visa', '0259'),
  pm_card_pendingRefund: card('pending_refund', 'visa', '7726'),
  pm_card_refundFail: card('refund_fail', 'visa', '5126'),
};

export function findTestPaymentMethod(id: string): TestPaymentMethod | undefined {
  return Object.hasOwn(TEST_PAYMENT_METHODS, id) ? TEST_PAYMENT_METHODS[id] : undefined;
}
