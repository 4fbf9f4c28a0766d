// Reading refunds: one from Stripe, lists from Stripe (one payment) or from the gateway's index, kept current.
import { mapWithConcurrency } from './concurrency.js';
import { canonicalJson } from './idempotency.js';
import type { Ledger } from './ledger.js';
import type { CallOptions, PaymentGateway } from './payment-gateway.js';
import { FINAL_REFUND_STATUSES, type Page, type Refund, type RefundStatus } from './types.js';

export interface ListRefundsQuery {
  charge?: string;
  paymentIntent?: string;
  status?: RefundStatus;
  requestedBy?: string;
  limit: number;
  startingAfter?: string;
}

export interface RefundReadsDeps {
  gateway: PaymentGateway;
  ledger: Ledger;
  now: () => Date;
  /** Told when the refund index could not be written (the answer to the caller does not change). */
  onIndexError?: (error: unknown, refundId: string) => void;
}

/** Stripe pages hold at most 100 (it refuses `limit` 101); a filtered scan reads at most this many pages before it answers. */
const STRIPE_MAX_PAGE = 100;
const MAX_SCAN_PAGES = 10;
/** How many non-final refunds of an index page are re-read from Stripe at once. */
const REFRESH_CONCURRENCY = 5;

export class RefundReads {
  readonly #deps: RefundReadsDeps;

  constructor(deps: RefundReadsDeps) {
    this.#deps = deps;
  }

  /**
   * Keeps the refund index current with a refund made through the gateway. Best effort: the refund exists at Stripe
   * whatever the index says, and a failed write must not turn a made refund into an error (the next read writes it).
   */
  async remember(refund: Refund): Promise<Refund> {
    if (refund.requestedBy === null) return refund;
    await this.#deps.ledger.recordRefund(refund, this.#deps.now()).catch((error: unknown) => this.#deps.onIndexError?.(error, refund.id));
    return refund;
  }

  async getRefund(id: string): Promise<Refund> {
    return this.remember(await this.#deps.gateway.getRefund(id));
  }

  /** Re-reads a non-final indexed refund; the index is written only when Stripe says something new (reads stay reads). */
  async #refresh(indexed: Refund): Promise<Refund> {
    const fresh = await this.#deps.gateway.getRefund(indexed.id);
    return canonicalJson(fresh) === canonicalJson(indexed) ? fresh : this.remember(fresh);
  }

  async listRefunds(query: ListRefundsQuery): Promise<Page<Refund>> {
    if (query.charge !== undefined || query.paymentIntent !== undefined) {
      const matches = (r: Refund) =>
        (query.status === undefined || r.status === query.status) && (query.requestedBy === undefined || r.requestedBy === query.requestedBy);
      const filtered = query.status !== undefined || query.requestedBy !== undefined;
      return this.#scanStripe(query, query.limit, filtered ? matches : undefined);
    }
    return this.#listFromIndex(query);
  }

  /** After a timeout or crash, the refund the first attempt may have made carries its request id in metadata. */
  async findRefundOfAttempt(chargeId: string, requestId: string, options: CallOptions = {}): Promise<Refund | null> {
    const found = await this.#scanStripe({ charge: chargeId }, 1, (r) => r.gatewayRequestId === requestId, options);
    return found.data[0] ?? null;
  }

  /**
   * Stripe's list for one payment is the truth, newest first; it has no status or caller filter, so a `matches`
   * filter applies here, page by page, until `limit` match (and one more tells has_more). Unfiltered, one page of
   * `limit + 1` tells has_more at once — except at `limit` 100, where Stripe's own has_more says it.
   */
  async #scanStripe(
    target: { charge?: string; paymentIntent?: string; startingAfter?: string },
    limit: number,
    matches?: (refund: Refund) => boolean,
    options: CallOptions = {},
  ): Promise<Page<Refund>> {
    const out: Refund[] = [];
    let startingAfter = target.startingAfter;
    for (let page = 0; page < MAX_SCAN_PAGES; page++) {
      const found = await this.#deps.gateway.listRefunds({
        ...(target.charge !== undefined ? { charge: target.charge } : { paymentIntent: target.paymentIntent ?? '' }),
        limit: matches ? STRIPE_MAX_PAGE : Math.min(limit + 1, STRIPE_MAX_PAGE),
        ...(startingAfter !== undefined ? { startingAfter } : {}),
      }, options);
      for (const refund of found.data) {
        if (matches && !matches(refund)) continue;
        if (out.length === limit) return { data: out, hasMore: true };
        out.push(refund);
      }
      const last = found.data.at(-1);
      if (!found.hasMore || !last) return { data: out, hasMore: false };
      // A full unfiltered page and Stripe has more: no second call just to say so.
      if (!matches && out.length === limit) return { data: out, hasMore: true };
      startingAfter = last.id;
    }
    // The scan stopped before Stripe's list ended: more may match, so say so (the caller pages on from the last one).
    return { data: out, hasMore: true };
  }

  /** The index knows every refund made through the gateway; non-final ones are re-read so no status is stale. */
  async #listFromIndex(query: ListRefundsQuery): Promise<Page<Refund>> {
    const out: Refund[] = [];
    let startingAfter = query.startingAfter;
    for (let round = 0; round < MAX_SCAN_PAGES; round++) {
      const page = await this.#deps.ledger.listIndexedRefunds({
        status: query.status,
        requestedBy: query.requestedBy,
        limit: query.limit - out.length,
        startingAfter,
      });
      // A few at a time: a page of 100 pending refunds must not spend Stripe's rate limit in one burst.
      const fresh = await mapWithConcurrency(page.data, REFRESH_CONCURRENCY, (r) =>
        FINAL_REFUND_STATUSES.includes(r.status) ? Promise.resolve(r) : this.#refresh(r),
      );
      // A refund that moved on (pending → succeeded) while we looked no longer matches its status filter.
      out.push(...fresh.filter((r) => query.status === undefined || r.status === query.status));
      const last = page.data.at(-1);
      if (!page.hasMore || !last) return { data: out, hasMore: false };
      if (out.length >= query.limit) return { data: out, hasMore: true };
      startingAfter = last.id;
    }
    return { data: out, hasMore: true };
  }
}
