// Table tests of the refund rules: which payments may be refunded or cancelled, and for how much.
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/refunds/gateway-error.js';
import { assertCancelable, decideRefund, type RefundCheck } from '../../src/refunds/rules.js';
import { PAYMENT_INTENT_STATUSES, type Charge, type PaymentIntent, type PaymentIntentStatus } from '../../src/refunds/types.js';

const charge = (over: Partial<Charge> = {}): Charge => ({
  id: 'ch_1',
  amount: 10_000,
  amountCaptured: 10_000,
  amountRefunded: 0,
  currency: 'usd',
  status: 'succeeded',
  captured: true,
  disputed: false,
  paymentIntent: 'pi_1',
  created: 1,
  ...over,
});

const intent = (status: PaymentIntentStatus): PaymentIntent => ({
  id: 'pi_1',
  status,
  amount: 10_000,
  amountCapturable: status === 'requires_capture' ? 10_000 : 0,
  amountReceived: status === 'succeeded' ? 10_000 : 0,
  currency: 'usd',
  latestCharge: 'ch_1',
  created: 1,
});

const codeOf = (fn: () => unknown): string | number => {
  try {
    return fn() as number;
  } catch (error) {
    if (error instanceof GatewayError) return error.code;
    throw error;
  }
};

describe('decideRefund', () => {
  const cases: [string, Partial<RefundCheck>, string | number][] = [
    ['when no amount is given, then everything left is refunded', {}, 10_000],
    ['when part was refunded and no amount is given, then the rest is refunded', { charge: charge({ amountRefunded: 2_500 }) }, 7_500],
    ['when the amount fits, then that amount is refunded', { amount: 2_500 }, 2_500],
    ['when the amount is exactly what is left, then it is refunded', { amount: 10_000 }, 10_000],
    ['when the amount is one more than what is left, then amount_exceeds_refundable', { amount: 10_001 }, 'amount_exceeds_refundable'],
    ['when nothing is left, then charge_already_refunded', { charge: charge({ amountRefunded: 10_000 }) }, 'charge_already_refunded'],
    ['when nothing is left and an amount is given, then charge_already_refunded', { charge: charge({ amountRefunded: 10_000 }), amount: 1 }, 'charge_already_refunded'],
    // Stripe counts the released 4000 of a 6000-of-10000 partial capture as refunded: 6000 is left, not 2000.
    ['when partly captured, then everything captured is refundable', { charge: charge({ amountCaptured: 6_000, amountRefunded: 4_000 }) }, 6_000],
    ['when partly captured, then one more than captured is too much', { charge: charge({ amountCaptured: 6_000, amountRefunded: 4_000 }), amount: 6_001 }, 'amount_exceeds_refundable'],
    ['when partly captured and partly refunded, then the rest of the capture is left', { charge: charge({ amountCaptured: 6_000, amountRefunded: 5_000 }) }, 5_000],
    ['when the dispute is open, then charge_disputed', { blockingDispute: true }, 'charge_disputed'],
    ['when the charge was disputed but the dispute is closed, then it is refunded', { charge: charge({ disputed: true }), blockingDispute: false }, 10_000],
    ['when the currency is the payment’s, then it is refunded', { currency: 'usd', amount: 100 }, 100],
    ['when the currency is another, then currency_mismatch', { currency: 'jpy', amount: 100 }, 'currency_mismatch'],
    ['when the PaymentIntent is only authorised, then payment_intent_requires_capture', { intent: intent('requires_capture'), charge: charge({ captured: false }) }, 'payment_intent_requires_capture'],
    ['when the charge failed, then payment_intent_not_refundable', { charge: charge({ status: 'failed' }), intent: null }, 'payment_intent_not_refundable'],
    ['when the PaymentIntent is processing, then payment_intent_not_refundable', { intent: intent('processing'), charge: charge({ status: 'pending' }) }, 'payment_intent_not_refundable'],
    // The order of the contract: the payment's state wins over the currency guard and the money.
    ['when both the status and the currency are wrong, then the status wins', { intent: intent('requires_capture'), currency: 'eur' }, 'payment_intent_requires_capture'],
    ['when the currency is wrong and the amount too big, then currency_mismatch wins', { currency: 'eur', amount: 99_999 }, 'currency_mismatch'],
    ['when disputed and fully refunded, then charge_disputed wins', { blockingDispute: true, charge: charge({ amountRefunded: 10_000 }) }, 'charge_disputed'],
    ['when a zero-decimal currency, then amounts are exact', { charge: charge({ currency: 'jpy', amount: 5_000, amountCaptured: 5_000 }), currency: 'jpy', amount: 1_234 }, 1_234],
  ];
  it.each(cases)('%s', (_name, over, expected) => {
    const check: RefundCheck = { charge: charge(), intent: null, blockingDispute: false, ...over };
    expect(codeOf(() => decideRefund(check))).toBe(expected);
  });

  it('when amount_exceeds_refundable, then the problem carries what is left and the currency', () => {
    try {
      decideRefund({ charge: charge({ amountRefunded: 5_000 }), intent: null, blockingDispute: false, amount: 6_000 });
      expect.unreachable('the refund should have been refused');
    } catch (error) {
      expect(error).toBeInstanceOf(GatewayError);
      expect((error as GatewayError).fields).toEqual({ refundable_amount: 5_000, currency: 'usd' });
    }
  });
});

describe('assertCancelable', () => {
  const cancelable = new Set(['requires_payment_method', 'requires_capture', 'requires_confirmation', 'requires_action']);
  it.each(PAYMENT_INTENT_STATUSES.map((s) => [s] as const))('when the PaymentIntent is %s, then the contract decides', (status) => {
    const outcome = codeOf(() => assertCancelable(intent(status)));
    expect(outcome).toBe(cancelable.has(status) ? undefined : 'payment_intent_not_cancelable');
  });
});
