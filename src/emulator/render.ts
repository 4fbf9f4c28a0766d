// Records → Stripe's JSON objects, with `expand` applied; every response body is built fresh here, never shared.
import { NO_EXPAND, type ExpandTree } from './expand.js';
import { listBody } from './lists.js';
import { findTestPaymentMethod } from './payment-methods.js';
import type { EmulatorState } from './state.js';
import type { ChargeRecord, DisputeRecord, PaymentIntentRecord, RefundRecord } from './store.js';

type Json = Record<string, unknown>;

const EMBEDDED_REFUNDS_LIMIT = 10;

/** An expandable field: the id, or the object when `expand` asked for it. */
function expandable(id: string | null, tree: ExpandTree, field: string, render: (id: string, sub: ExpandTree) => Json | undefined): unknown {
  if (id === null) return null;
  const sub = tree.get(field);
  return sub === undefined ? id : (render(id, sub) ?? id);
}

const piById = (state: EmulatorState) => (id: string, sub: ExpandTree) => {
  const pi = state.store.paymentIntents.get(id);
  return pi && renderPaymentIntent(state, pi, sub);
};
const chargeById = (state: EmulatorState) => (id: string, sub: ExpandTree) => {
  const ch = state.store.charges.get(id);
  return ch && renderCharge(state, ch, sub);
};

export function renderPaymentIntent(state: EmulatorState, pi: PaymentIntentRecord, tree: ExpandTree = NO_EXPAND): Json {
  return {
    id: pi.id,
    object: 'payment_intent',
    allowed_payment_method_types: pi.allowedPaymentMethodTypes === null ? null : [...pi.allowedPaymentMethodTypes],
    amount: pi.amount,
    amount_capturable: pi.amountCapturable,
    amount_details: { tip: {} },
    amount_received: pi.amountReceived,
    application: null,
    application_fee_amount: null,
    automatic_payment_methods:
      pi.automaticPaymentMethods === null
        ? null
        : { enabled: pi.automaticPaymentMethods.enabled, ...(pi.automaticPaymentMethods.allowRedirects ? { allow_redirects: pi.automaticPaymentMethods.allowRedirects } : {}) },
    canceled_at: pi.canceledAt,
    cancellation_reason: pi.cancellationReason,
    capture_method: pi.captureMethod,
    client_secret: pi.clientSecret,
    confirmation_method: 'automatic',
    created: pi.created,
    currency: pi.currency,
    customer: null,
    customer_account: null,
    description: pi.description,
    excluded_payment_method_types: null,
    last_payment_error: pi.lastPaymentError,
    latest_charge: expandable(pi.latestCharge, tree, 'latest_charge', chargeById(state)),
    livemode: false,
    metadata: { ...pi.metadata },
    next_action: pi.nextAction,
    on_behalf_of: null,
    payment_method: pi.paymentMethod,
    payment_method_configuration_details: null,
    payment_method_options: pi.paymentMethodTypes.includes('card') ? { card: { installments: null, mandate_options: null, network: null, request_three_d_secure: 'automatic' } } : {},
    payment_method_types: [...pi.paymentMethodTypes],
    processing: pi.status === 'processing' ? { type: 'card', card: {} } : null,
    receipt_email: null,
    review: null,
    setup_future_usage: null,
    shipping: null,
    source: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: pi.status,
    transfer_data: null,
    transfer_group: null,
  };
}

function cardDetails(ch: ChargeRecord): Json {
  const pm = findTestPaymentMethod(ch.paymentMethod);
  return {
    type: 'card',
    card: {
      amount_authorized: ch.status === 'failed' ? null : ch.amount,
      brand: pm?.brand ?? 'visa',
      checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: 'pass' },
      country: pm?.country ?? 'US',
      exp_month: 12,
      exp_year: 2034,
      fingerprint: `emu${pm?.last4 ?? '4242'}fingerprint`,
      funding: pm?.funding ?? 'credit',
      installments: null,
      last4: pm?.last4 ?? '4242',
      mandate: null,
      network: pm?.brand ?? 'visa',
      network_token: { used: false },
      three_d_secure: null,
      wallet: null,
    },
  };
}

function outcome(ch: ChargeRecord): Json {
  if (ch.status === 'failed') {
    return { network_status: 'declined_by_network', reason: ch.failureCode === 'insufficient_funds' ? 'insufficient_funds' : 'generic_decline', risk_level: 'normal', risk_score: 20, seller_message: 'The bank did not return any further details with this decline.', type: 'issuer_declined' };
  }
  return { network_status: 'approved_by_network', reason: null, risk_level: 'normal', risk_score: 20, seller_message: 'Payment complete.', type: 'authorized' };
}

export function renderCharge(state: EmulatorState, ch: ChargeRecord, tree: ExpandTree = NO_EXPAND): Json {
  const body: Json = {
    id: ch.id,
    object: 'charge',
    amount: ch.amount,
    amount_captured: ch.amountCaptured,
    amount_refunded: ch.amountRefunded,
    application: null,
    application_fee: null,
    application_fee_amount: null,
    balance_transaction: ch.balanceTransaction,
    billing_details: { address: { city: null, country: null, line1: null, line2: null, postal_code: null, state: null }, email: null, name: null, phone: null, tax_id: null },
    calculated_statement_descriptor: 'EMULATOR',
    captured: ch.captured,
    created: ch.created,
    currency: ch.currency,
    customer: null,
    description: ch.description,
    disputed: ch.disputed,
    failure_balance_transaction: null,
    failure_code: ch.failureCode,
    failure_message: ch.failureMessage,
    fraud_details: {},
    livemode: false,
    metadata: { ...ch.metadata },
    on_behalf_of: null,
    outcome: outcome(ch),
    // Stripe: `true` if the charge succeeded, or was successfully authorized for later capture (an authorisation is `succeeded`, uncaptured).
    paid: ch.status === 'succeeded',
    payment_intent: expandable(ch.paymentIntent, tree, 'payment_intent', piById(state)),
    payment_method: ch.paymentMethod,
    payment_method_details: cardDetails(ch),
    receipt_email: null,
    receipt_number: null,
    receipt_url: null,
    refunded: ch.amountRefunded >= ch.amount && ch.amount > 0,
    review: null,
    shipping: null,
    source_transfer: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: ch.status,
    transfer_data: null,
    transfer_group: null,
  };
  const refundsTree = tree.get('refunds');
  if (refundsTree !== undefined) {
    const ids = state.store.refunds.where('charge', ch.id);
    const dataTree = refundsTree.get('data') ?? NO_EXPAND;
    const newest = ids.slice(-EMBEDDED_REFUNDS_LIMIT).reverse().flatMap((id) => {
      const r = state.store.refunds.get(id);
      return r ? [renderRefund(state, r, dataTree)] : [];
    });
    body['refunds'] = listBody(`/v1/charges/${ch.id}/refunds`, newest, ids.length > EMBEDDED_REFUNDS_LIMIT);
  }
  return body;
}

export function renderRefund(state: EmulatorState, r: RefundRecord, tree: ExpandTree = NO_EXPAND): Json {
  const body: Json = {
    id: r.id,
    object: 'refund',
    amount: r.amount,
    balance_transaction: r.balanceTransaction,
    charge: expandable(r.charge, tree, 'charge', chargeById(state)),
    created: r.created,
    currency: r.currency,
    customer: null,
    customer_account: null,
    destination_details: { type: 'card', card: { type: r.status === 'pending' ? 'pending' : 'refund' } },
    metadata: { ...r.metadata },
    payment_intent: expandable(r.paymentIntent, tree, 'payment_intent', piById(state)),
    payment_method: r.paymentMethod,
    reason: r.reason,
    receipt_number: null,
    source_transfer_reversal: null,
    status: r.status,
    transfer_reversal: null,
  };
  if (r.pendingReason !== null && r.status === 'pending') body['pending_reason'] = r.pendingReason;
  if (r.failureReason !== null) body['failure_reason'] = r.failureReason;
  if (r.failureBalanceTransaction !== null) body['failure_balance_transaction'] = r.failureBalanceTransaction;
  return body;
}

export function renderDispute(state: EmulatorState, d: DisputeRecord, tree: ExpandTree = NO_EXPAND): Json {
  return {
    id: d.id,
    object: 'dispute',
    amount: d.amount,
    balance_transactions: [],
    charge: expandable(d.charge, tree, 'charge', chargeById(state)),
    created: d.created,
    currency: d.currency,
    evidence: { customer_name: null, product_description: null, uncategorized_text: null },
    evidence_details: { due_by: d.dueBy, has_evidence: false, past_due: false, submission_count: 0 },
    is_charge_refundable: d.isChargeRefundable,
    livemode: false,
    metadata: { ...d.metadata },
    payment_intent: expandable(d.paymentIntent, tree, 'payment_intent', piById(state)),
    reason: d.reason,
    status: d.status,
  };
}
