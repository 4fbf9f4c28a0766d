// Per-payment turns: fn's result and errors pass through on every backend; on PostgreSQL a turn holds across replicas.
import { afterEach, describe, expect, it } from 'vitest';
import { createLedger } from '../../src/ledger/create-ledger.js';
import { GatewayError, isGatewayError } from '../../src/refunds/gateway-error.js';
import type { Ledger } from '../../src/refunds/ledger.js';
import { ledgerBackends, postgresBackend, useTestLedger } from '../helpers/ledger.js';
import { refund, T0 } from './fixtures.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Takes the payment's lock and keeps it until `release`; resolves once the lock is really held. */
async function holdLock(ledger: Ledger, paymentKey: string): Promise<{ release(): Promise<void> }> {
  const entered = deferred();
  const done = deferred();
  const held = ledger.paymentLocks.withTurn(paymentKey, 1_000, async () => {
    entered.resolve();
    await done.promise;
  });
  await entered.promise;
  return {
    release: async () => {
      done.resolve();
      await held;
    },
  };
}

const rejectionOf = (promise: Promise<unknown>): Promise<unknown> => promise.then(() => 'resolved', (e: unknown) => e);

for (const backend of ledgerBackends) {
  describe.skipIf(backend.skip)(`payment turns on ${backend.name}`, () => {
    const db = useTestLedger(backend);

    it('when the work succeeds, then its result comes back', async () => {
      expect(await db().ledger.paymentLocks.withTurn('ch_1', 1_000, async () => ({ refund: 're_1' }))).toEqual({ refund: 're_1' });
    });

    it('when the work throws, then that very error comes out and the payment is free again', async () => {
      const { ledger } = db();
      const thrown = new GatewayError('amount_exceeds_refundable', 'too much', { fields: { refundable_amount: 5 } });

      expect(await rejectionOf(ledger.paymentLocks.withTurn('ch_1', 1_000, () => Promise.reject(thrown)))).toBe(thrown);
      // Free again as soon as its release reaches the database (the release does not hold up the answer).
      expect(await ledger.paymentLocks.withTurn('ch_1', 5_000, async () => 'again')).toBe('again');
    });

    it('when the work uses the ledger while holding the lock, then those calls go through', async () => {
      const { ledger } = db();

      const found = await ledger.paymentLocks.withTurn('ch_1', 1_000, async () => {
        await ledger.recordRefund(refund(), T0);
        return ledger.getIndexedRefund('re_1');
      });

      expect(found?.id).toBe('re_1');
    });
  });
}

describe.skipIf(postgresBackend.skip)(`payment turns across replicas on ${postgresBackend.name}`, () => {
  const db = useTestLedger(postgresBackend);
  const opened: Ledger[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((l) => l.close()));
  });
  /** Another gateway process on the same database. */
  const replica = async (options: { lockPoolSize?: number } = {}): Promise<Ledger> => {
    const ledger = await createLedger({ kind: 'postgres', databaseUrl: db().databaseUrl!, ...options });
    opened.push(ledger);
    return ledger;
  };

  it('when another replica holds the payment past the wait, then the request gets payment_busy with retry after 1 s', async () => {
    const other = await replica();
    const holder = await holdLock(db().ledger, 'ch_1');

    const started = Date.now();
    let ran = false;
    const error = await rejectionOf(other.paymentLocks.withTurn('ch_1', 300, async () => {
      ran = true;
    }));
    const waited = Date.now() - started;
    await holder.release();

    expect(isGatewayError(error) && { code: error.code, retryAfterSeconds: error.retryAfterSeconds }).toEqual({
      code: 'payment_busy',
      retryAfterSeconds: 1,
    });
    expect(ran).toBe(false);
    expect(waited).toBeGreaterThanOrEqual(250);
    expect(waited).toBeLessThan(2_000);
  });

  it('when another replica holds the payment and no wait is allowed, then the request is busy at once', async () => {
    const other = await replica();
    const holder = await holdLock(db().ledger, 'ch_1');

    const error = await rejectionOf(other.paymentLocks.withTurn('ch_1', 0, async () => 'ran'));
    await holder.release();

    expect(isGatewayError(error) && error.code).toBe('payment_busy');
  });

  it('when the holder finishes within the wait, then the next replica runs after it, never alongside', async () => {
    const other = await replica();
    const events: string[] = [];
    const holder = await holdLock(db().ledger, 'ch_1');
    const second = other.paymentLocks.withTurn('ch_1', 5_000, async () => {
      events.push('second runs');
    });
    // Long enough for the second replica to be queued on the lock, were it not held.
    await new Promise((r) => setTimeout(r, 300));
    events.push('first releases');
    await holder.release();
    await second;

    expect(events).toEqual(['first releases', 'second runs']);
  });

  it('when another replica holds a different payment, then this one is not held up', async () => {
    const other = await replica();
    const holder = await holdLock(db().ledger, 'ch_1');

    const result = await other.paymentLocks.withTurn('ch_2', 300, async () => 'ran');
    await holder.release();

    expect(result).toBe('ran');
  });

  it('when every lock connection of a replica is taken, then a further payment waits, then is told the gateway is overloaded', async () => {
    const small = await replica({ lockPoolSize: 1 });
    const holder = await holdLock(small, 'ch_1');

    const error = await rejectionOf(small.paymentLocks.withTurn('ch_2', 200, async () => 'ran'));
    await holder.release();

    // Not payment_busy: ch_2 itself was free; the replica was at capacity.
    expect(isGatewayError(error) && error.code).toBe('overloaded');
    expect(isGatewayError(error) && error.retryAfterSeconds).toBe(1);
    expect(await small.paymentLocks.withTurn('ch_2', 200, async () => 'ran')).toBe('ran');
  });
});
