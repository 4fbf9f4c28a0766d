// Disputes: opened by `pm_card_createDispute` (or the control API), closed only through the control API.
import { invalidRequest } from './errors.js';
import { newChargeLinkedBase, type EmulatorState } from './state.js';
import { OPEN_DISPUTE_STATUSES, type ChargeRecord, type DisputeRecord } from './store.js';
import { DISPUTE_EVIDENCE_DUE_AFTER_MS } from './timings.js';

export function openDispute(state: EmulatorState, charge: ChargeRecord, options: { id?: string; inquiry?: boolean } = {}): DisputeRecord {
  const dispute: DisputeRecord = {
    ...newChargeLinkedBase(state, 'dp', charge, charge.amountCaptured, options.id),
    // An inquiry (`warning_needs_response`) still lets the charge be refunded, as with Stripe's tok_createDisputeInquiry.
    status: options.inquiry ? 'warning_needs_response' : 'needs_response',
    reason: options.inquiry ? 'general' : 'fraudulent',
    isChargeRefundable: options.inquiry === true,
    dueBy: Math.floor((state.clock.nowMs() + DISPUTE_EVIDENCE_DUE_AFTER_MS) / 1000),
    metadata: {},
  };
  state.store.disputes.insert(dispute);
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
