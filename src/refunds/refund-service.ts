// Making refunds: one caller request, at most one refund, never more than is left, serialised per charge, within the caller's limits.
import type { DailyLimits } from './daily-limits.js';
import { GatewayError, type ErrorCode } from './gateway-error.js';
import { runIdempotent, type Attempt, type IdempotencyDeps } from './idempotency.js';
import type { Ledger } from './ledger.js';
import { assertWithinMaxAmount, needsApproval, type LimitsOf } from './limits.js';
import type { CallOptions, ChargeView, PaymentGateway } from './payment-gateway.js';
import type { PaymentLocks } from './payment-locks.js';
import type { RefundReads } from './refund-reads.js';
import { refundRequestIdOf, type RefundRequest } from './refund-request.js';
import { assertPaymentIntentRefundable, decideRefund, noChargeError, refundableAmount } from './rules.js';
import { GATEWAY_METADATA, type CreateRefundRequest, type Refund } from './types.js';
import { RULE_REFUSALS } from './refusals.js';

export type { CreateRefundRequest } from './types.js';

/** What POST /v1/refunds made: a refund (201), or — above the caller's `approval_above` — a refund request (202). */
export type RefundOutcome = { kind: 'refund'; refund: Refund } | { kind: 'refund_request'; request: RefundRequest };

const REFUNDS_ROUTE = 'POST /v1/refunds';
/** PaymentIntent → charge links remembered; a succeeded PaymentIntent's charge never changes. */
const INTENT_LINKS_MAX = 10_000;

/**
 * Failures of the refund call after which Stripe surely made no refund, so the day's reservation goes back: its own
 * refusals, and no answer because it was never reached or kept rate-limiting. Anything else (a timeout, a 5xx, a bug)
 * leaves the outcome unknown: the reservation is kept, and a retry of the same request — which finds it by its derived
 * id and reserves nothing more — settles it (kept if the refund turns out made, given back if it is refused then).
 */
const SURELY_NOT_MADE: ReadonlySet<ErrorCode> = new Set<ErrorCode>([...RULE_REFUSALS, 'upstream_unavailable', 'ledger_unavailable']);
const surelyNotMade = (error: unknown): boolean => error instanceof GatewayError && SURELY_NOT_MADE.has(error.code);

type CallPriority = NonNullable<CallOptions['priority']>;

export interface CreateRefundOptions {
  route?: string;
  priority?: CallPriority;
}

export interface CallerContext {
  callerId: string;
  /** The request id the caller sees (`x-request-id`); stored refusals are replayed with it. */
  requestId: string;
}

export interface RefundServiceDeps {
  gateway: PaymentGateway;
  locks: PaymentLocks;
  reads: RefundReads;
  idempotency: IdempotencyDeps;
  lockWaitMs: number;
  ledger: Ledger;
  limitsOf: LimitsOf;
  daily: DailyLimits;
  /** How long a refund request waits for a decision (APPROVAL_TTL_HOURS). */
  approvalTtlMs: number;
  now: () => Date;
}

/** Stored answers from before refund requests existed are a bare Refund: still a refund. */
const asOutcome = (value: RefundOutcome | Refund): RefundOutcome => ('kind' in value ? value : { kind: 'refund', refund: value });

export class RefundService {
  readonly #deps: RefundServiceDeps;
  /** Insertion-ordered, so the oldest link is the first to go. */
  readonly #intentLinks = new Map<string, string>();

  constructor(deps: RefundServiceDeps) {
    this.#deps = deps;
  }

  /**
   * POST /v1/refunds, run once per Idempotency-Key: a refund (201) or a refund request (202), each the key's stored
   * answer. `options.route` scopes the key to another route than POST /v1/refunds (a batch's items have keys of their
   * own); `options.priority` background lets requests go first at Stripe's rate limit.
   */
  async createRefund(
    caller: CallerContext,
    idempotencyKey: string,
    request: CreateRefundRequest,
    options: CreateRefundOptions = {},
  ): Promise<{ replayed: boolean; value: RefundOutcome }> {
    const { replayed, value } = await runIdempotent<RefundOutcome | Refund>(
      this.#deps.idempotency,
      { callerId: caller.callerId, route: options.route ?? REFUNDS_ROUTE, key: idempotencyKey },
      { requestId: caller.requestId, body: request },
      async (attempt) => {
        const outcome = await this.#refundOnce(caller.callerId, attempt, request, { approval: 'by_threshold', priority: options.priority ?? 'interactive' });
        return { value: outcome, refund: outcome.kind === 'refund' ? outcome.refund : null };
      },
    );
    return { replayed, value: asOutcome(value) };
  }

  /**
   * The refund of an approved request: the same path as POST /v1/refunds — fresh read, rules, the requester's
   * `max_amount` and `daily_amount` — but never another request. `attempt` is derived from the request (see
   * RefundRequestService), so whoever approves, and however often, Stripe sees one key.
   */
  async refundApproved(request: RefundRequest, attempt: Attempt): Promise<Refund> {
    // Exactly the amount the approver saw, even when the body omitted it: money that came back to the payment since
    // (a failed refund) is not refunded on an approval that never showed it.
    const body = { ...request.request, amount: request.amount };
    const outcome = await this.#refundOnce(request.requestedBy, attempt, body, { approval: 'approved', priority: 'interactive' });
    if (outcome.kind !== 'refund') throw new Error(`refund request ${request.id} made another request`);
    return outcome.refund;
  }

  /**
   * Two Stripe calls in the usual case: the charge (with its PaymentIntent and newest refunds, in one read) under the
   * charge's turn, then the refund. A refund by PaymentIntent first needs the PaymentIntent's charge; once it
   * succeeded that link never changes, so it is read once per PaymentIntent and remembered. Limits come after the
   * rules and before Stripe; the daily one costs one ledger statement (two when the refund is refused or fails).
   */
  async #refundOnce(
    callerId: string,
    attempt: Attempt,
    request: CreateRefundRequest,
    mode: { approval: 'by_threshold' | 'approved'; priority: CallPriority },
  ): Promise<RefundOutcome> {
    const { gateway, locks, daily } = this.#deps;
    const { approval } = mode;
    const limits = this.#deps.limitsOf(callerId);
    // An earlier attempt of this very request may have made it a refund request already: that stays its answer.
    if (approval === 'by_threshold' && attempt.resumed && limits !== undefined && Object.keys(limits.approvalAbove).length > 0) {
      const made = await this.#deps.ledger.getRefundRequest(refundRequestIdOf(attempt.requestId));
      if (made) return { kind: 'refund_request', request: made };
    }
    const options: CallOptions = { deadline: attempt.deadline, priority: mode.priority };
    const chargeId = request.payment_intent !== undefined ? await this.#chargeOf(request.payment_intent, options) : (request.charge ?? '');

    // The check and the Stripe call for one charge never interleave with another request's for the same charge.
    return locks.withTurn(chargeId, this.#deps.lockWaitMs, async (turn): Promise<RefundOutcome> => {
      const view = await gateway.readCharge(chargeId, options);
      // Made by an earlier attempt of this very request (a timeout, a crash, a lost ledger record): adopt it.
      const own = await this.#findOwnRefund(view, attempt, options);
      if (own) return { kind: 'refund', refund: own };
      const blockingDispute = view.charge.disputed ? await gateway.hasBlockingDispute(chargeId, options) : false;
      const check = { intent: view.intent, blockingDispute, amount: request.amount, currency: request.currency };
      const currency = view.charge.currency;
      // A resumed attempt that will not refund now: the earlier attempt's refund would have been found above, so it made
      // none, and the day gets back what it reserved (a timeout's reservation is kept until exactly this is known).
      const givePriorBack = () => (attempt.resumed ? daily.release({ id: attempt.requestId }) : Promise.resolve());
      let amount: number;
      try {
        amount = decideRefund({ charge: view.charge, ...check });
        assertWithinMaxAmount(limits, amount, currency);
      } catch (error) {
        await givePriorBack();
        throw error;
      }
      if (approval === 'by_threshold' && needsApproval(limits, amount, currency)) {
        await givePriorBack();
        return { kind: 'refund_request', request: await this.#requestApproval(callerId, attempt, request, amount, currency) };
      }
      const reservation = await daily.reserve(limits, { id: attempt.requestId, caller: callerId, currency, amount });
      let refund: Refund;
      try {
        // Money moves only while the turn is certainly ours and the record's lease has time left.
        turn.assertHeld();
        refund = await gateway.createRefund(
          {
            ...(request.payment_intent !== undefined ? { paymentIntent: request.payment_intent } : { charge: chargeId }),
            // An omitted amount stays omitted at Stripe too: Stripe then refunds exactly what it still holds.
            ...(request.amount !== undefined ? { amount } : {}),
            ...(request.reason !== undefined ? { reason: request.reason } : {}),
            metadata: { ...request.metadata, [GATEWAY_METADATA.caller]: callerId, [GATEWAY_METADATA.requestId]: attempt.requestId },
            idempotencyKey: attempt.stripeKey,
          },
          options,
        );
      } catch (error) {
        if (surelyNotMade(error)) await daily.release(reservation);
        // Stripe stays the authority: when it refuses more than is left (someone refunded outside the gateway in the
        // meantime), the rules on a fresh read say why, with what is left, in the gateway's own codes.
        if (error instanceof GatewayError && error.code === 'amount_exceeds_refundable') {
          const fresh = await gateway.readCharge(chargeId, options);
          decideRefund({ charge: fresh.charge, ...check });
          throw new GatewayError('amount_exceeds_refundable', error.message, {
            fields: { refundable_amount: refundableAmount(fresh.charge), currency: fresh.charge.currency },
            cause: error,
          });
        }
        throw error;
      }
      // A refund Stripe answers as failed (or canceled) gave nothing back: it does not count against the day.
      if (refund.status === 'failed' || refund.status === 'canceled') await daily.release(reservation);
      return { kind: 'refund', refund };
    });
  }

  /** A refund request instead of a refund; its id is derived from the request's, so every attempt names the same one. */
  async #requestApproval(callerId: string, attempt: Attempt, request: CreateRefundRequest, amount: number, currency: string): Promise<RefundRequest> {
    const now = this.#deps.now();
    const created = Math.floor(now.getTime() / 1000);
    return this.#deps.ledger.createRefundRequest(
      {
        id: refundRequestIdOf(attempt.requestId),
        status: 'awaiting_approval',
        request,
        amount,
        currency,
        requestedBy: callerId,
        decidedBy: null,
        decisionNote: null,
        refund: null,
        problem: null,
        created,
        decidedAt: null,
        expiresAt: created + Math.floor(this.#deps.approvalTtlMs / 1000),
      },
      now,
    );
  }

  /** The charge of a refundable PaymentIntent; a PaymentIntent that is not refundable is refused here, before any turn. */
  async #chargeOf(paymentIntentId: string, options: CallOptions): Promise<string> {
    const known = this.#intentLinks.get(paymentIntentId);
    if (known !== undefined) return known;
    const { intent } = await this.#deps.gateway.readPaymentIntent(paymentIntentId, options);
    assertPaymentIntentRefundable(intent);
    if (!intent.latestCharge) throw noChargeError(intent);
    if (this.#intentLinks.size >= INTENT_LINKS_MAX) this.#intentLinks.delete(this.#intentLinks.keys().next().value as string);
    this.#intentLinks.set(paymentIntentId, intent.latestCharge);
    return intent.latestCharge;
  }

  /**
   * The refund carrying this request's derived id, if one exists. The charge read embeds its newest refunds (ten at
   * Stripe), which costs nothing to look through and covers a record the ledger lost. A resumed attempt — whose first
   * attempt surely got as far as it got — also searches the older refunds, one page of a hundred per call.
   */
  async #findOwnRefund(view: ChargeView, attempt: Attempt, options: CallOptions): Promise<Refund | null> {
    const embedded = view.refunds.data.find((r) => r.gatewayRequestId === attempt.requestId);
    if (embedded) return embedded;
    if (!attempt.resumed || !view.refunds.hasMore) return null;
    return this.#deps.reads.findRefundOfAttempt(view.charge.id, attempt.requestId, options);
  }
}
