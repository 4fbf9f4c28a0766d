// Refund requests after they are made: read and listed, approved by another caller (the refund is made then) or rejected.
import { randomUUID } from 'node:crypto';
import { GatewayError } from './gateway-error.js';
import { derivedAttempt, LEASE_MARGIN_MS, runIdempotent, type IdempotencyDeps } from './idempotency.js';
import type { Ledger, SettlementLease } from './ledger.js';
import { isUnsettled, presented, type RefundRequest, type RefundRequestQuery } from './refund-request.js';
import type { CallerContext, RefundService } from './refund-service.js';
import type { Page } from './types.js';
import { isRefundRefusal } from './refusals.js';

const APPROVE_ROUTE = 'POST /v1/refund-requests/{id}/approve';
const REJECT_ROUTE = 'POST /v1/refund-requests/{id}/reject';

export interface DecisionBody {
  note?: string;
}

export interface RefundRequestServiceDeps {
  ledger: Ledger;
  refunds: RefundService;
  idempotency: IdempotencyDeps;
  now: () => Date;
  /** The longest one approval's refund may run (as for POST /v1/refunds); its settlement lease adds LEASE_MARGIN_MS. */
  attemptBudgetMs: number;
}

const seconds = (date: Date): number => Math.floor(date.getTime() / 1000);

export class RefundRequestService {
  readonly #deps: RefundRequestServiceDeps;

  constructor(deps: RefundRequestServiceDeps) {
    this.#deps = deps;
  }

  async get(id: string): Promise<RefundRequest> {
    return presented(await this.#find(id), this.#deps.now());
  }

  async list(query: Omit<RefundRequestQuery, 'now'>): Promise<Page<RefundRequest>> {
    const now = this.#deps.now();
    const page = await this.#deps.ledger.listRefundRequests({ ...query, now });
    return { data: page.data.map((r) => presented(r, now)), hasMore: page.hasMore };
  }

  approve(caller: CallerContext, id: string, body: DecisionBody, idempotencyKey: string | undefined) {
    return this.#decide(caller, APPROVE_ROUTE, id, body, idempotencyKey, () => this.#approve(caller, id, body.note ?? null));
  }

  reject(caller: CallerContext, id: string, body: DecisionBody, idempotencyKey: string | undefined) {
    return this.#decide(caller, REJECT_ROUTE, id, body, idempotencyKey, () => this.#reject(caller, id, body.note ?? null));
  }

  /** An Idempotency-Key is optional, as for cancel: with one, the first final answer is stored and replayed. */
  async #decide(
    caller: CallerContext,
    route: string,
    id: string,
    body: DecisionBody,
    idempotencyKey: string | undefined,
    work: () => Promise<RefundRequest>,
  ): Promise<{ replayed: boolean; value: RefundRequest }> {
    if (idempotencyKey === undefined) return { replayed: false, value: await work() };
    return runIdempotent(
      this.#deps.idempotency,
      { callerId: caller.callerId, route, key: idempotencyKey },
      { requestId: caller.requestId, body: { refund_request: id, ...body } },
      async () => ({ value: await work(), refund: null }),
    );
  }

  /**
   * The decision first (one conditional write: of two approvals racing, or an approval and a rejection, one wins and
   * the other gets 409), then the refund, then its outcome with the approval's event (one write). The refund's Stripe
   * key and request id are derived from the request, so the approval that resumes an unsettled one (its refund timed
   * out, or its process died) reaches Stripe with the same key: Stripe replays instead of refunding twice.
   */
  async #approve(caller: CallerContext, id: string, note: string | null): Promise<RefundRequest> {
    const { ledger, refunds } = this.#deps;
    const found = await this.#find(id);
    assertNotRequester(found, caller.callerId);
    const now = this.#deps.now();
    const settlement: SettlementLease = {
      holder: `apr_${randomUUID().replaceAll('-', '')}`,
      until: new Date(now.getTime() + this.#deps.attemptBudgetMs + LEASE_MARGIN_MS),
    };
    let taken: RefundRequest;
    let resumed = false;
    if (presented(found, now).status === 'awaiting_approval') {
      taken = { ...found, status: 'approved', decidedBy: caller.callerId, decisionNote: note, decidedAt: seconds(now) };
      if (!(await ledger.decideRefundRequest({ after: taken, now, settlement }))) throw await this.#notPendingNow(id);
    } else if (isUnsettled(found)) {
      const again = await ledger.takeRefundRequestSettlement({ id, settlement, now });
      // Another approval is making the refund right now.
      if (again === null) throw notPending(found, now);
      taken = again;
      resumed = true;
    } else {
      throw notPending(found, now);
    }

    const attempt = derivedAttempt(
      { callerId: taken.requestedBy, route: APPROVE_ROUTE, key: taken.id },
      { resumed, deadline: now.getTime() + this.#deps.attemptBudgetMs },
    );
    let outcome: Pick<RefundRequest, 'refund' | 'problem'>;
    try {
      outcome = { refund: await refunds.refundApproved(taken, attempt), problem: null };
    } catch (error) {
      // A refusal is the approved refund's outcome (the rules on the fresh read — the payment changed since the request —,
      // an unknown payment, the requester's limits), stored as its `problem`. Anything else (Stripe or the ledger
      // failing, the charge busy) leaves the outcome unknown: the approval call fails and may be retried.
      if (!(error instanceof GatewayError && isRefundRefusal(error.code))) {
        // No outcome: the request stays approved without one, and approving it again resumes it.
        await ledger.releaseRefundRequestSettlement(id, settlement.holder).catch(() => undefined);
        throw error;
      }
      outcome = { refund: null, problem: { code: error.code, detail: error.message, fields: error.fields, requestId: caller.requestId } };
    }
    const settled = { ...taken, ...outcome };
    if (await ledger.settleRefundRequest({ after: settled, holder: settlement.holder, now: this.#deps.now() })) return settled;
    // This attempt's lease ran out and another one settled the request first (the same refund, Stripe replayed it).
    return (await ledger.getRefundRequest(id)) ?? settled;
  }

  async #reject(caller: CallerContext, id: string, note: string | null): Promise<RefundRequest> {
    const found = await this.#find(id);
    assertNotRequester(found, caller.callerId);
    const now = this.#deps.now();
    if (presented(found, now).status !== 'awaiting_approval') throw notPending(found, now);
    const after: RefundRequest = { ...found, status: 'rejected', decidedBy: caller.callerId, decisionNote: note, decidedAt: seconds(now) };
    if (!(await this.#deps.ledger.decideRefundRequest({ after, now }))) throw await this.#notPendingNow(id);
    return after;
  }

  async #find(id: string): Promise<RefundRequest> {
    const found = await this.#deps.ledger.getRefundRequest(id);
    if (found === null) throw new GatewayError('not_found', `Refund request ${id} does not exist.`);
    return found;
  }

  /** Another decision won the race (or the request expired meanwhile): say what it is now. */
  async #notPendingNow(id: string): Promise<GatewayError> {
    return notPending(await this.#find(id), this.#deps.now());
  }
}

function assertNotRequester(request: RefundRequest, callerId: string): void {
  if (request.requestedBy !== callerId) return;
  throw new GatewayError('approval_by_requester', `Refund request ${request.id} was made by ${callerId}; another caller must decide it.`);
}

function notPending(request: RefundRequest, now: Date): GatewayError {
  const status = presented(request, now).status;
  return new GatewayError(
    'refund_request_not_pending',
    `Refund request ${request.id} is ${status}; only a request awaiting approval can be approved or rejected.`,
    { fields: { refund_request_status: status } },
  );
}
