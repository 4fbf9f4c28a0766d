// Business metrics: refunds and cancels by outcome, money refunded, refusals, replays, conflicts and ledger pools.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ConnectionPoolUsage } from '../refunds/ledger.js';
import { REQUESTABLE_REFUND_REASONS } from '../refunds/types.js';

/** Which business operation a route is; its answers are counted by outcome (an approval only for the money it moves). */
export type BusinessOperation = 'refund' | 'cancel' | 'approval';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Set on the routes whose answers the business metrics count. */
    operation?: BusinessOperation;
  }
}

/**
 * What became of one request, read off its answer alone (status, problem code, replay header), so the counting needs
 * nothing from the refunds room:
 * - `created` / `canceled`: done now; `replayed`: the stored answer to an earlier request with the same key;
 * - `requested`: over the caller's approval threshold, a refund request (202): no money moved yet;
 * - `refused`: a rule said no (404, 409: nothing left, disputed, wrong status, busy payment, …; a caller's limit);
 * - `conflict`: the Idempotency-Key is in use right now or was used for another request;
 * - `failed`: the gateway or Stripe failed (5xx: upstream errors and timeouts, ledger, bugs);
 * - `rejected`: never considered (bad input, auth, scope, rate limit, size, media type, load shedding).
 */
export const OUTCOMES = ['created', 'canceled', 'requested', 'replayed', 'refused', 'conflict', 'failed', 'rejected'] as const;
export type Outcome = (typeof OUTCOMES)[number];

const CONFLICT_CODES = new Set(['idempotency_request_in_progress', 'idempotency_key_reused']);
const REASONS = new Set<string>(REQUESTABLE_REFUND_REASONS);
/** A caller without a key (401) has no id; every other caller id comes from API_KEYS, so the label stays bounded. */
const NO_CALLER = 'none';

export function outcomeOf(operation: Exclude<BusinessOperation, 'approval'>, status: number, code: string | undefined, replayed: boolean): Outcome {
  if (replayed) return 'replayed';
  if (operation === 'refund' && status === 202) return 'requested';
  if (status < 300) return operation === 'refund' ? 'created' : 'canceled';
  if (code !== undefined && CONFLICT_CODES.has(code)) return 'conflict';
  if (status === 404 || status === 409 || code === 'policy_limit_exceeded') return 'refused';
  if (status >= 500 && code !== 'overloaded') return 'failed';
  return 'rejected';
}

export interface BusinessMetrics {
  observe(request: FastifyRequest, reply: FastifyReply, payload: unknown): void;
  /** A refund a batch item made (not a replay): its money counts like a refund made by POST /v1/refunds. */
  observeBatchRefund(refund: { amount: number; currency: string; caller: string }): void;
}

export function createBusinessMetrics(registry: Registry, ledgerPools: () => readonly ConnectionPoolUsage[]): BusinessMetrics {
  const registers = [registry];
  const refunds = new Counter({
    name: 'gateway_refunds_total',
    help: 'POST /v1/refunds answers by outcome (created, requested for approval, replayed, refused, conflict, failed, rejected), requested reason and caller',
    labelNames: ['outcome', 'reason', 'caller'] as const,
    registers,
  });
  const refundedAmount = new Counter({
    name: 'gateway_refunded_amount_minor_units_total',
    help: 'Amount of the refunds created through the gateway, by POST /v1/refunds, approved refund requests or batch items (replays not counted), in the currency’s minor units, by the caller who asked',
    labelNames: ['currency', 'caller'] as const,
    registers,
  });
  const refusals = new Counter({
    name: 'gateway_refusals_total',
    help: 'Requests a rule refused (404/409 answers other than idempotency conflicts), by operation and problem code',
    labelNames: ['operation', 'code'] as const,
    registers,
  });
  const replays = new Counter({
    name: 'gateway_idempotency_replays_total',
    help: 'Answers replayed from the idempotency record (idempotent-replayed: true), by operation',
    labelNames: ['operation'] as const,
    registers,
  });
  const conflicts = new Counter({
    name: 'gateway_idempotency_conflicts_total',
    help: 'Idempotency-Key conflicts by operation and code: in progress (409) or reused with another request (422)',
    labelNames: ['operation', 'code'] as const,
    registers,
  });
  const cancels = new Counter({
    name: 'gateway_payment_intent_cancels_total',
    help: 'POST /v1/payment-intents/{id}/cancel answers by outcome (canceled, replayed, refused, conflict, failed, rejected) and caller',
    labelNames: ['outcome', 'caller'] as const,
    registers,
  });
  // Read at scrape time: pg's pools keep these counts themselves, so nothing is done per query.
  const poolGauge = (name: string, help: string, pick: (usage: ConnectionPoolUsage) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['pool'] as const,
      registers,
      collect() {
        for (const usage of ledgerPools()) this.set({ pool: usage.pool }, pick(usage));
      },
    });
  poolGauge('gateway_ledger_pool_max_connections', 'Most connections a ledger pool may open (PostgreSQL ledger only)', (u) => u.max);
  poolGauge('gateway_ledger_pool_connections', 'Open connections of a ledger pool, busy or idle (PostgreSQL ledger only)', (u) => u.total);
  poolGauge('gateway_ledger_pool_idle_connections', 'Idle connections of a ledger pool (PostgreSQL ledger only)', (u) => u.idle);
  poolGauge('gateway_ledger_pool_waiting_requests', 'Callers waiting for a ledger pool connection: above 0, the pool is saturated', (u) => u.waiting);

  return {
    observeBatchRefund({ amount, currency, caller }) {
      refundedAmount.inc({ currency, caller }, amount);
    },
    observe(request, reply, payload) {
      const operation = request.routeOptions.config.operation;
      if (operation === undefined) return;
      const status = reply.statusCode;
      const replayed = reply.getHeader('idempotent-replayed') === 'true';
      const body = status >= 300 || operation !== 'cancel' ? parse(payload) : undefined;
      if (operation === 'approval') {
        // The refund an approval made now (a replay, a refusal or an unknown outcome moved no money in this answer),
        // counted for its requester, as the request's own POST /v1/refunds would have counted it.
        const refund = status === 200 && !replayed ? (body?.refund as Record<string, unknown> | null | undefined) : undefined;
        if (isMoney(refund) && typeof refund.requested_by === 'string') refundedAmount.inc({ currency: refund.currency, caller: refund.requested_by }, refund.amount);
        return;
      }
      const code = status >= 300 && typeof body?.code === 'string' ? body.code : undefined;
      const outcome = outcomeOf(operation, status, code, replayed);
      const caller = request.caller?.id ?? NO_CALLER;

      if (outcome === 'replayed') replays.inc({ operation });
      if (outcome === 'refused' && code !== undefined) refusals.inc({ operation, code });
      if (outcome === 'conflict' && code !== undefined) conflicts.inc({ operation, code });
      if (operation === 'cancel') {
        cancels.inc({ outcome, caller });
        return;
      }
      const asked = (request.body as { reason?: unknown } | undefined)?.reason;
      refunds.inc({ outcome, reason: typeof asked === 'string' && REASONS.has(asked) ? asked : 'none', caller });
      if (outcome === 'created' && isMoney(body)) refundedAmount.inc({ currency: body.currency, caller }, body.amount);
    },
  };
}

/** A refund's JSON with an amount and a currency code (three lower-case letters: the label stays bounded). */
const isMoney = (value: Record<string, unknown> | null | undefined): value is Record<string, unknown> & { amount: number; currency: string } =>
  typeof value?.amount === 'number' && typeof value.currency === 'string' && /^[a-z]{3}$/.test(value.currency);

/** The JSON answer as sent (onSend sees the serialised string); anything else reads as no body. */
function parse(payload: unknown): Record<string, unknown> | undefined {
  if (typeof payload !== 'string') return undefined;
  try {
    const value = JSON.parse(payload) as unknown;
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Counts every answer of the routes marked with `config.operation`, errors and replays included. */
export function registerBusinessMetrics(app: FastifyInstance, metrics: BusinessMetrics): void {
  app.addHook('onSend', async (request, reply, payload) => {
    metrics.observe(request, reply, payload);
    return payload;
  });
}
