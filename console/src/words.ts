// Statuses and next steps in words, and dates in the operator's locale.
import { formatMoney } from './money.js';
import type { Payment } from './types.js';

export const locale = (): string | undefined => (typeof navigator === 'undefined' ? undefined : navigator.language);

export const money = (amount: number, currency: string): string => formatMoney(amount, currency, locale());

export function dateTime(rfc3339: string | null | undefined): string {
  if (!rfc3339) return '—';
  const date = new Date(rfc3339);
  return Number.isNaN(date.getTime()) ? rfc3339 : date.toLocaleString(locale(), { dateStyle: 'medium', timeStyle: 'short' });
}

const STATUS_WORDS: Record<string, string> = {
  succeeded: 'Succeeded',
  pending: 'Pending',
  requires_action: 'Needs action',
  failed: 'Failed',
  canceled: 'Canceled',
  processing: 'Processing',
  requires_capture: 'Authorised, not captured',
  requires_payment_method: 'Needs a payment method',
  requires_confirmation: 'Needs confirmation',
  awaiting_approval: 'Awaiting approval',
  approved: 'Approved',
  rejected: 'Rejected',
  expired: 'Expired',
  queued: 'Queued',
  running: 'Running',
  completed: 'Completed',
  refunded: 'Refunded',
  refused: 'Refused',
};

export const statusWords = (status: string): string => STATUS_WORDS[status] ?? status.replaceAll('_', ' ');

/** What an operator who wants the money back should do, from the picture's `next_step` and what it shows. */
export function nextStepWords(p: Payment): string {
  const left = money(p.refundable_amount, p.currency);
  if (p.next_step === 'refund') {
    return p.amount_refunded > 0
      ? `Refund it: ${left} of the ${money(p.amount_captured, p.currency)} captured can still be refunded.`
      : `Refund it: all ${left} captured can be refunded, at once or in parts.`;
  }
  if (p.next_step === 'cancel') {
    return p.status === 'requires_capture'
      ? 'Cancel it: the payment is authorised but not captured, so it cannot be refunded. Cancelling releases the hold on the customer’s card.'
      : 'Cancel it: the payment was never completed, so there is nothing to refund. Cancelling stops it from being completed later.';
  }
  if (p.status === 'canceled') return 'Nothing to do: the payment was canceled, and no money was kept.';
  if (p.status === 'processing' || p.status === 'pending') return 'Wait: the payment is still processing; it can be neither refunded nor canceled yet.';
  if (p.amount_captured > 0 && p.amount_refunded >= p.amount_captured) return 'Nothing to do: it is fully refunded.';
  if (p.amount_captured > 0) {
    return 'Nothing to do here: the gateway will not refund this payment although money was captured (an open dispute does this; the money then goes back through the dispute).';
  }
  return 'Nothing to do: no money was captured.';
}

const REASON_WORDS: Record<string, string> = {
  requested_by_customer: 'Requested by the customer',
  duplicate: 'Duplicate',
  fraudulent: 'Fraudulent',
  abandoned: 'Abandoned',
  expired_uncaptured_charge: 'Authorisation expired',
};

export const reasonWords = (reason: string | null | undefined): string => (reason ? (REASON_WORDS[reason] ?? reason) : '—');
