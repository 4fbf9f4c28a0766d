// The refund picture of one payment: how much was taken, refunded and is left, and what a caller should do next.
import { isCancelable, refundableAmount } from './rules.js';
import type { Charge, Page, PaymentIntent, Refund } from './types.js';

export interface PaymentPicture {
  id: string;
  type: 'payment_intent' | 'charge';
  status: string;
  amount: number;
  amountCaptured: number;
  amountRefunded: number;
  refundableAmount: number;
  currency: string;
  charge: string | null;
  paymentIntent: string | null;
  refundable: boolean;
  cancelable: boolean;
  nextStep: 'refund' | 'cancel' | 'none';
  refunds: Refund[];
  hasMoreRefunds: boolean;
}

export interface PictureInput {
  asked: 'payment_intent' | 'charge';
  intent: PaymentIntent | null;
  charge: Charge | null;
  blockingDispute: boolean;
  refunds: Page<Refund>;
}

export function buildPaymentPicture({ asked, intent, charge, blockingDispute, refunds }: PictureInput): PaymentPicture {
  const subject = asked === 'payment_intent' ? intent : charge;
  if (!subject) throw new Error(`buildPaymentPicture: the ${asked} asked for is missing`);
  const captured = charge !== null && charge.captured && charge.status === 'succeeded';
  const left = charge ? refundableAmount(charge) : 0;
  // Money can go back only from a captured charge whose PaymentIntent (if any) has succeeded, with no open dispute.
  const refundable = captured && (intent === null || intent.status === 'succeeded') && !blockingDispute && left > 0;
  const cancelable = intent !== null && isCancelable(intent);
  return {
    id: subject.id,
    type: asked,
    status: subject.status,
    amount: subject.amount,
    amountCaptured: charge?.amountCaptured ?? 0,
    amountRefunded: charge?.amountRefunded ?? 0,
    refundableAmount: refundable ? left : 0,
    currency: subject.currency,
    charge: charge?.id ?? null,
    paymentIntent: intent?.id ?? null,
    refundable,
    cancelable,
    nextStep: refundable ? 'refund' : cancelable ? 'cancel' : 'none',
    refunds: refunds.data,
    hasMoreRefunds: refunds.hasMore,
  };
}
