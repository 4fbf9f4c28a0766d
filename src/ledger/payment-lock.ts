// The per-payment lock across replicas: a transaction-scoped PostgreSQL advisory lock held while the work runs.
import { GatewayError } from '../refunds/gateway-error.js';
import { advisoryLockKey } from './advisory-lock-key.js';
import type { LedgerLogger } from './ledger-logger.js';
import { ConnectionWaitTimeout, sqlState, type SqlClient } from './sql-client.js';

const LOCK_NOT_AVAILABLE = '55P03';

const busy = (paymentKey: string, waitMs: number, cause: unknown): GatewayError =>
  new GatewayError('payment_busy', `Other refunds kept payment ${paymentKey} busy for more than ${waitMs} ms.`, {
    retryAfterSeconds: 1,
    cause,
  });

export async function withPaymentLock<T>(
  client: SqlClient,
  logger: LedgerLogger,
  paymentKey: string,
  waitMs: number,
  fn: () => Promise<T>,
): Promise<T> {
  // PGlite is one process on one connection: no other replica can reach it, and the refund service's in-process
  // mutex already serialises a payment. Taking an advisory lock there would also hold PGlite's only connection in
  // a transaction that fn's own ledger queries would queue behind, forever.
  if (client.lockingTransaction === undefined) return fn();

  const deadline = Date.now() + waitMs;
  let ran = false;
  let result: T | undefined;
  try {
    await client.lockingTransaction(waitMs, async (tx) => {
      const key = advisoryLockKey('payment', paymentKey);
      const remainingMs = Math.ceil(deadline - Date.now());
      if (remainingMs <= 0) {
        // lock_timeout = 0 would mean "wait forever": with no time left, only an uncontended lock will do.
        const [row] = await tx.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1::bigint) AS locked', [key]);
        if (row?.locked !== true) throw busy(paymentKey, waitMs, undefined);
      } else {
        // set_config(…, true) is SET LOCAL, and unlike SET it takes a parameter.
        await tx.query(`SELECT set_config('lock_timeout', $1, true)`, [`${remainingMs}ms`]);
        try {
          await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [key]);
        } catch (error) {
          throw sqlState(error) === LOCK_NOT_AVAILABLE ? busy(paymentKey, waitMs, error) : error;
        }
      }
      result = await fn();
      ran = true;
    });
  } catch (error) {
    // Every lock connection is taken by refunds of OTHER payments: this process is at capacity, which is not what
    // payment_busy means ("this payment is busy"), so callers are told to back off (or try another replica).
    if (error instanceof ConnectionWaitTimeout) {
      throw new GatewayError('overloaded', `The gateway has too many refunds in flight to take payment ${paymentKey}'s turn; retry shortly.`, {
        retryAfterSeconds: 1,
        cause: error,
      });
    }
    // fn finished and only the COMMIT failed: the transaction wrote nothing and the lock went with the connection,
    // so fn's result stands; reporting a failure here would make the caller believe a refund that was made was not.
    if (ran) {
      logger.warn({ err: error, paymentKey }, 'payment lock release failed after the work succeeded');
      return result as T;
    }
    throw error;
  }
  return result as T;
}
