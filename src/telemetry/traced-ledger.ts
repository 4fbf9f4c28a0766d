// The Ledger port with a child span around each of its statement groups (one method call), wrapped at composition.
import type { Attributes, Span } from '@opentelemetry/api';
import type { EventQuery } from '../refunds/events.js';
import type {
  BeginIdempotentInput,
  CompleteIdempotentInput,
  ConnectionPoolUsage,
  IndexedRefundQuery,
  Ledger,
  StripeEventRecord,
} from '../refunds/ledger.js';
import type { PaymentLocks, PaymentTurn } from '../refunds/payment-locks.js';
import type { Refund } from '../refunds/types.js';
import type { Tracing } from './tracing.js';

/** OpenTelemetry's name for the database behind the port, when the app opened it itself and so knows. */
export type LedgerSystem = 'postgresql' | 'sqlite';

/**
 * Every method is one span named `ledger.<method>` under the active span, with what came out of it (the idempotency
 * decision, rows read, whether a write took) as attributes; with no active span (heartbeats, pruning) it adds nothing.
 * The port, not each SQL statement: a method is the unit the rules see, and its statements share its transaction.
 */
export class TracedLedger implements Ledger {
  readonly #inner: Ledger;
  readonly #tracing: Tracing;
  readonly #base: Attributes;
  readonly paymentLocks: PaymentLocks;
  readonly connectionPools?: () => readonly ConnectionPoolUsage[];

  constructor(inner: Ledger, tracing: Tracing, system?: LedgerSystem) {
    this.#inner = inner;
    this.#tracing = tracing;
    this.#base = system === undefined ? {} : { 'db.system.name': system };
    this.paymentLocks = new TracedPaymentLocks(inner.paymentLocks, tracing, this.#base);
    // Kept absent when the inner ledger has none: the metrics tell an embedded database by its absence.
    if (inner.connectionPools) this.connectionPools = inner.connectionPools.bind(inner);
  }

  beginIdempotent(input: BeginIdempotentInput) {
    return this.#span('beginIdempotent', () => this.#inner.beginIdempotent(input), (r) => ({ 'ledger.idempotency': r.kind }));
  }
  completeIdempotent(input: CompleteIdempotentInput) {
    return this.#span('completeIdempotent', () => this.#inner.completeIdempotent(input), (stored) => ({ 'ledger.stored': stored }));
  }
  releaseIdempotent(scope: string, holder: string) {
    return this.#span('releaseIdempotent', () => this.#inner.releaseIdempotent(scope, holder));
  }
  pruneIdempotency(before: Date) {
    return this.#span('pruneIdempotency', () => this.#inner.pruneIdempotency(before), (count) => ({ 'ledger.rows': count }));
  }
  recordRefund(refund: Refund, now: Date) {
    return this.#span('recordRefund', () => this.#inner.recordRefund(refund, now), () => ({ 'refund.id': refund.id, 'refund.status': refund.status }));
  }
  getIndexedRefund(id: string) {
    return this.#span('getIndexedRefund', () => this.#inner.getIndexedRefund(id), (refund) => ({ 'ledger.found': refund !== null }));
  }
  listIndexedRefunds(query: IndexedRefundQuery) {
    return this.#span('listIndexedRefunds', () => this.#inner.listIndexedRefunds(query), (page) => ({ 'ledger.rows': page.data.length }));
  }
  hasStripeEvent(id: string) {
    return this.#span('hasStripeEvent', () => this.#inner.hasStripeEvent(id), (found) => ({ 'ledger.found': found }));
  }
  applyStripeEvent(event: StripeEventRecord) {
    return this.#span('applyStripeEvent', () => this.#inner.applyStripeEvent(event), (applied) => ({ 'ledger.stored': applied, 'stripe.event_type': event.type }));
  }
  pruneStripeEvents(before: Date) {
    return this.#span('pruneStripeEvents', () => this.#inner.pruneStripeEvents(before), (count) => ({ 'ledger.rows': count }));
  }
  listUnsettledRefunds(input: { before: Date; limit: number }) {
    return this.#span('listUnsettledRefunds', () => this.#inner.listUnsettledRefunds(input), (rows) => ({ 'ledger.rows': rows.length }));
  }
  markRefundsChecked(ids: readonly string[], now: Date) {
    return this.#span('markRefundsChecked', () => this.#inner.markRefundsChecked(ids, now), () => ({ 'ledger.rows': ids.length }));
  }
  takeJob(input: Parameters<Ledger['takeJob']>[0]) {
    return this.#span('takeJob', () => this.#inner.takeJob(input), (take) => ({ 'ledger.job': input.job, 'ledger.job_take': take.kind }));
  }
  saveJob(input: Parameters<Ledger['saveJob']>[0]) {
    return this.#span('saveJob', () => this.#inner.saveJob(input), (held) => ({ 'ledger.stored': held }));
  }
  finishJob(input: Parameters<Ledger['finishJob']>[0]) {
    return this.#span('finishJob', () => this.#inner.finishJob(input), (held) => ({ 'ledger.stored': held }));
  }
  jobStatus(job: string) {
    return this.#span('jobStatus', () => this.#inner.jobStatus(job));
  }
  listEvents(query: EventQuery) {
    return this.#span('listEvents', () => this.#inner.listEvents(query), (page) => ({ 'ledger.rows': page.data.length }));
  }
  fanOutEvents(input: Parameters<Ledger['fanOutEvents']>[0]) {
    return this.#span('fanOutEvents', () => this.#inner.fanOutEvents(input), (count) => ({ 'ledger.rows': count }));
  }
  claimDeliveries(input: Parameters<Ledger['claimDeliveries']>[0]) {
    return this.#span('claimDeliveries', () => this.#inner.claimDeliveries(input), (rows) => ({ 'ledger.rows': rows.length }));
  }
  settleDelivery(input: Parameters<Ledger['settleDelivery']>[0]) {
    return this.#span('settleDelivery', () => this.#inner.settleDelivery(input), () => ({ 'event.result': input.result.kind }));
  }
  deliveryBacklog(now: Date) {
    return this.#span('deliveryBacklog', () => this.#inner.deliveryBacklog(now));
  }
  reserveDaily(input: Parameters<Ledger['reserveDaily']>[0]) {
    return this.#span('reserveDaily', () => this.#inner.reserveDaily(input), (r) => ({ 'ledger.stored': r.reserved }));
  }
  releaseDaily(id: string, now: Date) {
    return this.#span('releaseDaily', () => this.#inner.releaseDaily(id, now), (released) => ({ 'ledger.stored': released }));
  }
  dailyUsed(input: Parameters<Ledger['dailyUsed']>[0]) {
    return this.#span('dailyUsed', () => this.#inner.dailyUsed(input));
  }
  pruneDailyLimits(beforeDay: string) {
    return this.#span('pruneDailyLimits', () => this.#inner.pruneDailyLimits(beforeDay), (count) => ({ 'ledger.rows': count }));
  }
  createRefundRequest(request: Parameters<Ledger['createRefundRequest']>[0], now: Date) {
    return this.#span('createRefundRequest', () => this.#inner.createRefundRequest(request, now), (stored) => ({ 'refund_request.id': stored.id }));
  }
  getRefundRequest(id: string) {
    return this.#span('getRefundRequest', () => this.#inner.getRefundRequest(id), (found) => ({ 'ledger.found': found !== null }));
  }
  listRefundRequests(query: Parameters<Ledger['listRefundRequests']>[0]) {
    return this.#span('listRefundRequests', () => this.#inner.listRefundRequests(query), (page) => ({ 'ledger.rows': page.data.length }));
  }
  decideRefundRequest(input: Parameters<Ledger['decideRefundRequest']>[0]) {
    return this.#span('decideRefundRequest', () => this.#inner.decideRefundRequest(input), (stored) => ({ 'ledger.stored': stored }));
  }
  takeRefundRequestSettlement(input: Parameters<Ledger['takeRefundRequestSettlement']>[0]) {
    return this.#span('takeRefundRequestSettlement', () => this.#inner.takeRefundRequestSettlement(input), (taken) => ({ 'ledger.stored': taken !== null }));
  }
  settleRefundRequest(input: Parameters<Ledger['settleRefundRequest']>[0]) {
    return this.#span('settleRefundRequest', () => this.#inner.settleRefundRequest(input), (stored) => ({ 'ledger.stored': stored }));
  }
  releaseRefundRequestSettlement(id: string, holder: string) {
    return this.#span('releaseRefundRequestSettlement', () => this.#inner.releaseRefundRequestSettlement(id, holder));
  }
  createBatch(input: Parameters<Ledger['createBatch']>[0]) {
    return this.#span('createBatch', () => this.#inner.createBatch(input), () => ({ 'ledger.rows': input.items.length }));
  }
  getBatch(id: string) {
    return this.#span('getBatch', () => this.#inner.getBatch(id), (found) => ({ 'ledger.found': found !== null }));
  }
  listBatchItems(query: Parameters<Ledger['listBatchItems']>[0]) {
    return this.#span('listBatchItems', () => this.#inner.listBatchItems(query), (page) => ({ 'ledger.rows': page.data.length }));
  }
  claimBatchItems(input: Parameters<Ledger['claimBatchItems']>[0]) {
    return this.#span('claimBatchItems', () => this.#inner.claimBatchItems(input), (rows) => ({ 'ledger.rows': rows.length }));
  }
  settleBatchItem(input: Parameters<Ledger['settleBatchItem']>[0]) {
    return this.#span('settleBatchItem', () => this.#inner.settleBatchItem(input), (stored) => ({ 'ledger.stored': stored, 'batch.item_status': input.result.status }));
  }
  retryBatchItem(input: Parameters<Ledger['retryBatchItem']>[0]) {
    return this.#span('retryBatchItem', () => this.#inner.retryBatchItem(input), (stored) => ({ 'ledger.stored': stored }));
  }
  cancelBatch(id: string, now: Date) {
    return this.#span('cancelBatch', () => this.#inner.cancelBatch(id, now), (found) => ({ 'ledger.found': found !== null }));
  }
  pruneBatches(before: Date) {
    return this.#span('pruneBatches', () => this.#inner.pruneBatches(before), (count) => ({ 'ledger.rows': count }));
  }
  heartbeat(input: Parameters<Ledger['heartbeat']>[0]) {
    return this.#span('heartbeat', () => this.#inner.heartbeat(input));
  }
  ping() {
    return this.#span('ping', () => this.#inner.ping());
  }
  close() {
    return this.#inner.close();
  }

  #span<T>(method: string, run: () => Promise<T>, describe?: (result: T) => Attributes): Promise<T> {
    return this.#tracing.inChild(`ledger.${method}`, { ...this.#base, 'db.operation.name': method }, async (span) => {
      const result = await run();
      if (span && describe) span.setAttributes(describe(result));
      return result;
    });
  }
}

/** A payment's turn as one span: the wait for it (an event marks when it came) and the work done holding it. */
class TracedPaymentLocks implements PaymentLocks {
  readonly #inner: PaymentLocks;
  readonly #tracing: Tracing;
  readonly #base: Attributes;

  constructor(inner: PaymentLocks, tracing: Tracing, base: Attributes) {
    this.#inner = inner;
    this.#tracing = tracing;
    this.#base = base;
  }

  withTurn<T>(paymentKey: string, waitMs: number, fn: (turn: PaymentTurn) => Promise<T>): Promise<T> {
    const attributes = { ...this.#base, 'db.operation.name': 'paymentLocks.withTurn', 'payment.key': paymentKey };
    return this.#tracing.inChild('ledger.paymentLocks.withTurn', attributes, (span) => {
      if (span === undefined) return this.#inner.withTurn(paymentKey, waitMs, fn);
      const asked = performance.now();
      return this.#inner.withTurn(paymentKey, waitMs, (turn) => {
        turnTaken(span, performance.now() - asked);
        return fn(turn);
      });
    });
  }

  drain(): Promise<void> {
    return this.#inner.drain();
  }
}

function turnTaken(span: Span, waitedMs: number): void {
  span.setAttribute('ledger.lock_wait_ms', Math.round(waitedMs * 10) / 10);
  span.addEvent('turn taken');
}
