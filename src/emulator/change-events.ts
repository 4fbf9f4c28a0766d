// The events each change emits: a refund made (refund.created, charge.refunded), a refund changed (refund.updated, refund.failed, charge.refund.updated), a PaymentIntent canceled.
import type { EventRecord } from './events.js';
import { previousAttributes } from './previous-attributes.js';
import { renderCharge, renderPaymentIntent, renderRefund } from './render.js';
import { newRecordBase, type EmulatorState } from './state.js';
import type { ChargeRecord, PaymentIntentRecord, RefundRecord } from './store.js';

type Json = Record<string, unknown>;

export function emitEvent(state: EmulatorState, type: string, object: Json, previous?: Json): EventRecord {
  return state.events.add(newRecordBase(state, 'evt'), type, object, previous, state.clock.nowMs());
}

/**
 * Call before a refund is made on `charge`, and call what it returns once the refund exists: `refund.created` with the
 * refund as created, then `charge.refunded` with the charge (no `refunds` list, as since API 2022-11-15) and the old
 * `amount_refunded` / `refunded` in `previous_attributes`.
 */
export function watchRefundCreation(state: EmulatorState, charge: ChargeRecord): (refund: RefundRecord) => void {
  const before = renderCharge(state, charge);
  return (refund) => {
    emitEvent(state, 'refund.created', renderRefund(state, refund));
    const after = renderCharge(state, charge);
    emitEvent(state, 'charge.refunded', after, previousAttributes(before, after));
  };
}

/**
 * Call before a refund may change, and call what it returns afterwards: when anything changed, `refund.updated`, then
 * `refund.failed` if it has just failed, then `charge.refund.updated` (Stripe's notice of refund failures on cards).
 */
export function watchRefund(state: EmulatorState, refund: RefundRecord): () => void {
  const before = renderRefund(state, refund);
  return () => {
    const after = renderRefund(state, refund);
    const previous = previousAttributes(before, after);
    if (previous === undefined) return;
    emitEvent(state, 'refund.updated', after, previous);
    if (refund.status === 'failed' && before['status'] !== 'failed') emitEvent(state, 'refund.failed', after);
    emitEvent(state, 'charge.refund.updated', after, previous);
  };
}

export function emitPaymentIntentCanceled(state: EmulatorState, pi: PaymentIntentRecord): void {
  emitEvent(state, 'payment_intent.canceled', renderPaymentIntent(state, pi));
}
