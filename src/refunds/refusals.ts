// The refund rules' refusals: one list, from which each place that treats them alike derives its own set.

/** A payment unknown to Stripe, or a refund the rules refuse on a fresh read: final for the request that met it. */
export const RULE_REFUSALS = [
  'not_found',
  'amount_exceeds_refundable',
  'charge_already_refunded',
  'charge_disputed',
  'payment_intent_requires_capture',
  'payment_intent_not_refundable',
  'currency_mismatch',
] as const;

/** What ends one refund attempt with a refusal: the rules' and the caller's limits. Running it again cannot pass. */
export const REFUND_REFUSALS = [...RULE_REFUSALS, 'policy_limit_exceeded'] as const;

export const isRefundRefusal = (code: string): boolean => (REFUND_REFUSALS as readonly string[]).includes(code);
