// The refund service's own decisions on a small in-memory stand-in of the payment gateway (table-test territory):
// how Stripe's late refusals and cancellations that already happened are explained.
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/refunds/gateway-error.js';
import type { Ledger } from '../../src/refunds/ledger.js';
import type { ChargeView, CreateRefundInput, IntentView, PaymentGateway } from '../../src/refunds/payment-gateway.js';
import { createRefundServices } from '../../src/refunds/services.js';
import type { Charge, PaymentIntent, Refund } from '../../src/refunds/types.js';
import { newTestLedger } from '../helpers/ledger.js';

const charge = (over: Partial<Charge> = {}): Charge => ({
  id: 'ch_1', amount: 10_000, amountCaptured: 10_000, amountRefunded: 0, currency: 'usd', status: 'succeeded',
  captured: true, disputed: false, paymentIntent: 'pi_1', created: 1, ...over,
});
const intent = (over: Partial<PaymentIntent> = {}): PaymentIntent => ({
  id: 'pi_1', status: 'succeeded', amount: 10_000, amountCapturable: 0, amountReceived: 10_000, currency: 'usd',
  latestCharge: 'ch_1', created: 1, ...over,
});

/** Answers from plain values; `refuseCreate` plays Stripe refusing after someone else refunded in the meantime. */
class StandInGateway implements PaymentGateway {
  charges: Charge[] = [];
  intentState = intent();
  created: CreateRefundInput[] = [];
  onCreate: (() => void) | undefined;
  #view(c: Charge): ChargeView {
    return { charge: c, intent: this.intentState, refunds: { data: [], hasMore: false } };
  }
  async readCharge(): Promise<ChargeView> {
    const next = this.charges.length > 1 ? this.charges.shift() : this.charges[0];
    return this.#view(next ?? charge());
  }
  async readPaymentIntent(): Promise<IntentView> {
    return { intent: this.intentState, charge: this.#view(this.charges[0] ?? charge()) };
  }
  async hasBlockingDispute(): Promise<boolean> {
    return false;
  }
  async createRefund(input: CreateRefundInput): Promise<Refund> {
    this.created.push(input);
    this.onCreate?.();
    throw new GatewayError('amount_exceeds_refundable', 'Stripe: more than is left.');
  }
  async getRefund(): Promise<Refund> {
    throw new GatewayError('not_found', 'none');
  }
  async listRefunds() {
    return { data: [], hasMore: false };
  }
  async cancelPaymentIntent(): Promise<IntentView> {
    throw new GatewayError('payment_intent_not_cancelable', 'Stripe: already canceled.', { fields: { payment_intent_status: 'canceled' } });
  }
  async ping(): Promise<void> {}
}

const servicesOn = (gateway: PaymentGateway, ledger: Ledger) =>
  createRefundServices({ gateway, ledger, now: () => new Date(), lockWaitMs: 1_000, attemptBudgetMs: 60_000 });
const caller = { callerId: 'billing', requestId: 'req_1' };
const refusalOf = async (promise: Promise<unknown>): Promise<GatewayError> => {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(GatewayError);
  return error as GatewayError;
};

describe('RefundService with a stand-in gateway', () => {
  it.each([
    ['someone took part of it', charge({ amountRefunded: 9_000 }), { code: 'amount_exceeds_refundable', fields: { refundable_amount: 1_000, currency: 'usd' } }],
    ['someone took all of it', charge({ amountRefunded: 10_000 }), { code: 'charge_already_refunded', fields: {} }],
  ])('when Stripe refuses more than is left because %s, then the rules explain it from a fresh read', async (_name, fresh, expected) => {
    const ledger = await newTestLedger();
    try {
      const gateway = new StandInGateway();
      gateway.charges = [charge(), fresh];
      const error = await refusalOf(servicesOn(gateway, ledger).refunds.createRefund(caller, 'k1', { charge: 'ch_1', amount: 5_000 }));
      expect({ code: error.code, fields: error.fields }).toEqual(expected);
      expect(gateway.created).toHaveLength(1);
    } finally {
      await ledger.close();
    }
  });

  it('when a cancel is retried after Stripe forgot the key and the PaymentIntent is canceled, then the retry answers the cancellation', async () => {
    const ledger = await newTestLedger();
    try {
      const gateway = new StandInGateway();
      gateway.intentState = intent({ status: 'requires_capture' });
      const service = servicesOn(gateway, ledger).payments;
      // First attempt: Stripe cancels, but the answer never arrives (the stand-in says so with a timeout).
      gateway.cancelPaymentIntent = async () => {
        gateway.intentState = intent({ status: 'canceled' });
        throw new GatewayError('upstream_timeout', 'no answer');
      };
      expect((await refusalOf(service.cancelPaymentIntent(caller, 'pi_1', {}, 'c1'))).code).toBe('upstream_timeout');
      // The retry: Stripe no longer knows the key and refuses to cancel a canceled PaymentIntent.
      gateway.cancelPaymentIntent = StandInGateway.prototype.cancelPaymentIntent;
      const retried = await service.cancelPaymentIntent(caller, 'pi_1', {}, 'c1');
      expect(retried.replayed).toBe(false);
      expect(retried.value).toMatchObject({ id: 'pi_1', status: 'canceled', cancelable: false, nextStep: 'none' });
    } finally {
      await ledger.close();
    }
  });

  it('when a cancel without a key finds the PaymentIntent canceled, then it is refused (only a retry may find its own work done)', async () => {
    const ledger = await newTestLedger();
    try {
      const gateway = new StandInGateway();
      gateway.intentState = intent({ status: 'canceled' });
      const error = await refusalOf(servicesOn(gateway, ledger).payments.cancelPaymentIntent(caller, 'pi_1', {}, undefined));
      expect(error.code).toBe('payment_intent_not_cancelable');
    } finally {
      await ledger.close();
    }
  });
});
