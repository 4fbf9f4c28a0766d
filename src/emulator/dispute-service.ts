// Disputes: opened by `pm_card_createDispute` (or the control API), closed only through the control API.
import { invalidRequest } from './errors.js';
import type { EmulatorState } from './state.js';
import { OPEN_DISPUTE_STATUSES, pushIndex, takeSeq, type ChargeRecord, type DisputeRecord } from './store.js';
import { DISPUTE_EVIDENCE_DUE_AFTER_MS } from './timings.js';

export function openDispute(state: EmulatorState, charge: ChargeRecord, options: { id?: string; inquiry?: boolean } = {}): DisputeRecord {
  const { store } = state;
  const dispute: DisputeRecord = {
    id: options.id ?? state.newId('dp'),
    seq: takeSeq(store),
    created: state.clock.nowSeconds(),
    amount: charge.amountCaptured,
    currency: charge.currency,
    charge: charge.id,
    paymentIntent: charge.paymentIntent,
    // An inquiry (`warning_needs_response`) still lets the charge be refunded, as with Stripe's tok_createDisputeInquiry.
    status: options.inquiry ? 'warning_needs_response' : 'needs_response',
    reason: options.inquiry ? 'general' : 'fraudulent',
    isChargeRefundable: options.inquiry === true,
    dueBy: Math.floor((state.clock.nowMs() + DISPUTE_EVIDENCE_DUE_AFTER_MS) / 1000),
    metadata: {},
  };
  store.disputes.set(dispute.id, dispute);
  store.disputeOrder.push(dispute.id);
  pushIndex(store.disputesByCharge, charge.id, dispute.id);
  pushIndex(store.disputesByPaymentIntent, charge.paymentIntent, dispute.id);
  charge.disputed = true;
  return dispute;
}

/** Closes an open dispute as won or lost; a closed dispute no longer blocks refunds (`charge.disputed` stays true, as at Stripe). */
export function closeDispute(state: EmulatorState, dispute: DisputeRecord, outcome: 'won' | 'lost'): DisputeRecord {
  if (!OPEN_DISPUTE_STATUSES.includes(dispute.status)) {
    throw invalidRequest(`Dispute ${dispute.id} is already closed (status ${dispute.status}).`, { param: 'status' });
  }
  dispute.status = dispute.status.startsWith('warning_') ? 'warning_closed' : outcome;
  dispute.isChargeRefundable = true;
  return dispute;
}
