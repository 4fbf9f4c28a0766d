// Per-payment turns across replicas: the in-process queue first, then a session advisory lock on a connection of its own.
import type pg from 'pg';
import { GatewayError } from '../../refunds/gateway-error.js';
import { KeyedMutex } from '../../refunds/keyed-mutex.js';
import type { PaymentLocks, PaymentTurn } from '../../refunds/payment-locks.js';
import { isLedgerUnavailable, ledgerUnavailable } from '../ledger-errors.js';
import type { LedgerLogger } from '../ledger-logger.js';
import { advisoryLockKey } from './advisory-lock-key.js';

const LOCK_NOT_AVAILABLE = '55P03';
/**
 * The uncontended lock and its release as named prepared statements: parsed and planned once per lock connection,
 * then each one round trip of Bind/Execute/Sync with the gateway-made key as a parameter.
 */
const TRY_LOCK = { name: 'ledger_try_payment_lock', text: 'SELECT pg_try_advisory_lock($1::bigint) AS locked' } as const;
const UNLOCK = { name: 'ledger_payment_unlock', text: 'SELECT pg_advisory_unlock($1::bigint)' } as const;
/** Opening a connection takes a few ms even with room in the pool: a payment's own wait must not look like a full pool. */
const CONNECT_FLOOR_MS = 1_000;

const busy = (paymentKey: string, waitMs: number, cause?: unknown): GatewayError =>
  new GatewayError('payment_busy', `Other refunds kept payment ${paymentKey} busy for more than ${waitMs} ms; retry shortly.`, {
    retryAfterSeconds: 1,
    cause,
  });

class ConnectionWaitTimeout extends Error {}

/** pg's pool has no per-call connect timeout; a connection that arrives after we gave up goes straight back. */
async function connectWithin(pool: pg.Pool, waitMs: number): Promise<pg.PoolClient> {
  const pending = pool.connect();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ConnectionWaitTimeout()), Math.max(0, waitMs));
  });
  try {
    return await Promise.race([pending, timeout]);
  } catch (error) {
    if (error instanceof ConnectionWaitTimeout) pending.then((client) => client.release(), () => undefined);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Session-level advisory locks, not transaction-scoped: the lock connection sits idle (never idle *in a transaction*,
 * which `idle_in_transaction_session_timeout` would kill) and costs one statement to take and one to give back. The
 * uncontended case is one `pg_try_advisory_lock`; only a payment busy in another replica waits with a lock_timeout.
 * If the connection dies, PostgreSQL drops the lock with the session: the turn is then marked lost, and the refund
 * service checks that before it asks Stripe for money.
 */
export class PgPaymentLocks implements PaymentLocks {
  readonly #pool: pg.Pool;
  readonly #logger: LedgerLogger;
  readonly #mutex = new KeyedMutex();
  readonly #releasing = new Set<Promise<void>>();

  constructor(pool: pg.Pool, logger: LedgerLogger) {
    this.#pool = pool;
    this.#logger = logger;
  }

  async withTurn<T>(paymentKey: string, waitMs: number, fn: (turn: PaymentTurn) => Promise<T>): Promise<T> {
    const deadline = Date.now() + waitMs;
    // Requests of this process queue in memory, so PostgreSQL sees at most one per payment per replica.
    const releaseMutex = await this.#mutex.acquire(paymentKey, waitMs);
    let client: pg.PoolClient | undefined;
    let lost: Error | undefined;
    const onError = (err: Error): void => {
      lost = err;
      this.#logger.warn({ err, payment: paymentKey }, 'the connection holding a payment lock dropped; the turn is lost');
    };
    try {
      client = await this.#connect(paymentKey, Math.max(deadline - Date.now(), CONNECT_FLOOR_MS));
      client.on('error', onError);
      const key = advisoryLockKey('payment', paymentKey);
      await this.#lock(client, key, paymentKey, waitMs, deadline);
      const turn: PaymentTurn = {
        assertHeld: () => {
          if (lost) throw ledgerUnavailable(lost, `The lock on payment ${paymentKey} was lost with its database connection`);
        },
      };
      const result = await fn(turn);
      // The answer does not wait for the lock to go back; this process's next request for the payment does.
      this.#track(this.#unlock(client, key, onError, () => lost, releaseMutex));
      client = undefined;
      return result;
    } catch (error) {
      if (client) this.#track(this.#unlock(client, advisoryLockKey('payment', paymentKey), onError, () => lost, releaseMutex));
      else releaseMutex();
      throw error;
    }
  }

  async drain(): Promise<void> {
    await Promise.all([...this.#releasing]);
  }

  async #connect(paymentKey: string, waitMs: number): Promise<pg.PoolClient> {
    try {
      return await connectWithin(this.#pool, waitMs);
    } catch (error) {
      // Every lock connection is taken by refunds of OTHER payments: this process is at capacity, which is not what
      // payment_busy means ("this payment is busy"), so the caller is told to back off or try another replica.
      if (error instanceof ConnectionWaitTimeout) {
        throw new GatewayError('overloaded', `The gateway has too many refunds in flight to take payment ${paymentKey}'s turn; retry shortly.`, {
          retryAfterSeconds: 1,
        });
      }
      throw isLedgerUnavailable(error) ? ledgerUnavailable(error) : error;
    }
  }

  async #lock(client: pg.PoolClient, key: string, paymentKey: string, waitMs: number, deadline: number): Promise<void> {
    try {
      const tried = await client.query<{ locked: boolean }>({ ...TRY_LOCK, values: [key] });
      if (tried.rows[0]?.locked === true) return;
      const remainingMs = Math.ceil(deadline - Date.now());
      if (remainingMs <= 0) throw busy(paymentKey, waitMs);
      // Another replica holds it: wait in PostgreSQL's queue, at most what is left (one round trip, gateway-made integers).
      await client.query({ text: `SET lock_timeout = ${remainingMs}; SELECT pg_advisory_lock(${key})`, query_timeout: remainingMs + 2_000 } as pg.QueryConfig);
    } catch (error) {
      if (error instanceof GatewayError) throw error;
      if ((error as { code?: unknown }).code === LOCK_NOT_AVAILABLE) throw busy(paymentKey, waitMs, error);
      throw isLedgerUnavailable(error) ? ledgerUnavailable(error) : error;
    }
  }

  async #unlock(client: pg.PoolClient, key: string, onError: (err: Error) => void, lost: () => Error | undefined, releaseMutex: () => void): Promise<void> {
    let broken: Error | undefined = lost();
    try {
      if (!broken) await client.query({ ...UNLOCK, values: [key] });
    } catch (error) {
      // A connection whose unlock failed may still hold the lock: it must close (which drops the lock), never go back.
      broken = error as Error;
      this.#logger.warn({ err: error }, 'a payment lock could not be released; its connection is closed instead');
    } finally {
      client.off('error', onError);
      // A connection that errored is destroyed by release(err), never reused.
      client.release(broken ?? undefined);
      releaseMutex();
    }
  }

  #track(release: Promise<void>): void {
    this.#releasing.add(release);
    void release.finally(() => this.#releasing.delete(release));
  }
}
