// Spans of emulator clock after which something changes on its own; tests move the clock past them via the control API.
const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

/** Stripe prunes idempotency keys "after they're at least 24 hours old". */
export const IDEMPOTENCY_TTL_MS = 24 * HOUR_MS;
/** How long a `pm_card_pendingRefund` refund stays `pending` (long enough for a sandbox user to see it). */
export const PENDING_REFUND_SETTLES_AFTER_MS = 10 * MINUTE_MS;
/**
 * When a `pm_card_refundFail` refund fails, after its creation. Stripe: it "will appear to be successful at first and will only
 * have the failed status on subsequent fetches", so it is due at once and applied by the first settle after the create
 * answer (the next request, the scheduler tick or a clock advance); events and reads then agree.
 */
export const REFUND_FAILS_AFTER_MS = 0;
/** How often the scheduler applies what has come due without waiting for a request, so webhooks go out on their own. */
export const SCHEDULER_TICK_MS = 100;
/** When a charge's funds move from the pending to the available balance (Stripe's default 2-day schedule; UNCONFIRMED for test mode). */
export const FUNDS_AVAILABLE_AFTER_MS = 48 * HOUR_MS;
/** `evidence_details.due_by` of a new dispute. */
export const DISPUTE_EVIDENCE_DUE_AFTER_MS = 7 * 24 * HOUR_MS;
