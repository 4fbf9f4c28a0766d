// What Stripe reports after the request, applied to the refund index: one path for webhooks and reconciliation alike.
import { isGatewayError } from './gateway-error.js';
import type { Ledger } from './ledger.js';
import type { CallOptions, PaymentGateway } from './payment-gateway.js';
import { isRefundEventType, type EventSource, type ProviderEvent } from './stripe-events.js';
import type { Refund } from './types.js';

/** recorded: new, applied; duplicate: its id was applied before (nothing done); ignored: not about refunds. */
export type ApplyOutcome = 'recorded' | 'duplicate' | 'ignored';

export interface ApplyResult {
  outcome: ApplyOutcome;
  /** The refunds the event reported (and, when recorded, indexed). */
  refunds: readonly Refund[];
}

export interface RefundLifecycleDeps {
  gateway: PaymentGateway;
  ledger: Ledger;
  now: () => Date;
  /** Told of every event applied (metrics). */
  onApplied?: (source: EventSource, outcome: ApplyOutcome) => void;
}

/** A charge.refunded event carries the Charge without its refunds: one read of its newest ones (the event's is among them). */
const CHARGE_REFUNDS_READ = 100;

export class RefundLifecycle {
  readonly #deps: RefundLifecycleDeps;

  constructor(deps: RefundLifecycleDeps) {
    this.#deps = deps;
  }

  /**
   * Applies one event once: its id and the refunds it reports are stored together, so a redelivery is a no-op and a
   * crash between the two cannot lose the change. The id is looked up first, so a redelivered charge.refunded costs
   * no Stripe read. The index's status rule makes the order events arrive in irrelevant.
   */
  async apply(event: ProviderEvent, source: EventSource, options: CallOptions = {}): Promise<ApplyResult> {
    const result = await this.#apply(event, source, options);
    this.#deps.onApplied?.(source, result.outcome);
    return result;
  }

  async #apply(event: ProviderEvent, source: EventSource, options: CallOptions): Promise<ApplyResult> {
    const { ledger, gateway, now } = this.#deps;
    if (!isRefundEventType(event.type) || (event.refund === null && event.chargeId === null)) return { outcome: 'ignored', refunds: [] };
    if (await ledger.hasStripeEvent(event.id)) return { outcome: 'duplicate', refunds: [] };
    const refunds = event.refund
      ? [event.refund]
      : (await gateway.listRefunds({ charge: event.chargeId ?? '', limit: CHARGE_REFUNDS_READ }, options)).data;
    const stored = await ledger.applyStripeEvent({ id: event.id, type: event.type, created: event.created, source, refunds, now: now() });
    return stored ? { outcome: 'recorded', refunds } : { outcome: 'duplicate', refunds: [] };
  }

  /**
   * Re-reads, one at a time, up to `limit` refunds that stayed pending or requires_action since `before` (a missed
   * webhook, or none sent), and records what Stripe says now. A refund Stripe no longer shows is left as it is.
   * `afterEach` runs after every read (the caller keeps its lease). Returns how many were read.
   */
  async recheckUnsettled(input: { before: Date; limit: number; options?: CallOptions; afterEach?: () => Promise<void> }): Promise<number> {
    const { ledger, gateway, now } = this.#deps;
    const unsettled = await ledger.listUnsettledRefunds({ before: input.before, limit: input.limit });
    let read = 0;
    for (const indexed of unsettled) {
      try {
        await ledger.recordRefund(await gateway.getRefund(indexed.id, input.options), now());
      } catch (error) {
        if (!isGatewayError(error) || error.code !== 'not_found') throw error;
      }
      read += 1;
      await ledger.markRefundsChecked([indexed.id], now());
      await input.afterEach?.();
    }
    return read;
  }
}
