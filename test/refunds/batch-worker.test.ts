// What a batch item's run ends with: the refund path's answer, a refusal, a retry after a backoff, or a failure.
import { describe, expect, it } from 'vitest';
import { decide, itemRetryDelayMs, MAX_ITEM_ATTEMPTS } from '../../src/refunds/batch-worker.js';
import { GatewayError } from '../../src/refunds/gateway-error.js';
import { refund, refundRequest } from '../ledger/fixtures.js';

const item = (attempts: number) => ({ batchId: 'rb_1', position: 4, attempts });

describe('deciding an item run', () => {
  it('when the refund path made a refund, then the item is refunded with it', () => {
    expect(decide(item(1), { value: { kind: 'refund', refund: refund() } })).toEqual({ kind: 'settle', result: { status: 'refunded', refund: refund() } });
  });

  it('when the refund path made a refund request (above the approval threshold), then the item awaits approval with it', () => {
    const request = refundRequest();
    expect(decide(item(1), { value: { kind: 'refund_request', request } })).toEqual({ kind: 'settle', result: { status: 'awaiting_approval', refundRequest: request } });
  });

  it('when a rule refuses it, then the item is refused with the problem, its request id the item’s (or the first answer’s, on a replay)', () => {
    const refusal = new GatewayError('charge_already_refunded', 'Charge ch_1 has already been refunded in full.');
    const replay = new GatewayError('not_found', 'Charge ch_2 does not exist.', { replayOf: 'rb_0.7' });

    expect(decide(item(1), { error: refusal })).toEqual({
      kind: 'settle',
      result: { status: 'refused', problem: { code: 'charge_already_refunded', detail: refusal.message, fields: {}, requestId: 'rb_1.4' } },
    });
    expect(decide(item(1), { error: replay })).toMatchObject({ result: { status: 'refused', problem: { requestId: 'rb_0.7' } } });
    const limit = new GatewayError('policy_limit_exceeded', 'Over your limit.', { fields: { window: 'day', limit: 5_000, remaining: 0, currency: 'usd' } });
    expect(decide(item(1), { error: limit })).toMatchObject({ kind: 'settle', result: { status: 'refused', problem: { code: 'policy_limit_exceeded' } } });
  });

  it('when Stripe or the ledger failed without a final answer, then the item runs again after a backoff, until its last attempt fails it', () => {
    for (const code of ['upstream_error', 'upstream_timeout', 'upstream_unavailable', 'ledger_unavailable', 'payment_busy', 'idempotency_request_in_progress'] as const) {
      expect(decide(item(1), { error: new GatewayError(code, 'x') })).toMatchObject({ kind: 'retry', afterMs: 1_000, problem: { code } });
    }
    expect(decide(item(3), { error: new GatewayError('upstream_error', 'x') })).toMatchObject({ kind: 'retry', afterMs: 4_000 });
    expect(decide(item(MAX_ITEM_ATTEMPTS), { error: new GatewayError('upstream_timeout', 'Stripe did not answer in time.') })).toEqual({
      kind: 'settle',
      result: { status: 'failed', problem: { code: 'upstream_timeout', detail: 'Stripe did not answer in time.', fields: {}, requestId: 'rb_1.4' } },
    });
  });

  it('when a failure says when to come back, then the retry waits at least that long', () => {
    expect(decide(item(1), { error: new GatewayError('idempotency_request_in_progress', 'x', { retryAfterSeconds: 12 }) })).toMatchObject({ afterMs: 12_000 });
    expect(itemRetryDelayMs(20)).toBe(60_000);
  });

  it('when the failure is final but no rule’s refusal (a key reused with another body), then the item fails at once', () => {
    expect(decide(item(1), { error: new GatewayError('idempotency_key_reused', 'Idempotency-Key was already used with a different request.') })).toMatchObject({
      kind: 'settle',
      result: { status: 'failed', problem: { code: 'idempotency_key_reused' } },
    });
  });

  it('when something that is no GatewayError was thrown (a bug), then the problem says nothing internal and the item is retried', () => {
    const decided = decide(item(1), { error: new TypeError('cannot read x of undefined at /srv/app.js') });

    expect(decided).toMatchObject({ kind: 'retry', problem: { code: 'internal_error' } });
    expect(JSON.stringify(decided)).not.toMatch(/undefined|app\.js/);
  });
});
