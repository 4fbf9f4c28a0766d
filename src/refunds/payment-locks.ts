// The per-payment turn as one port: the in-process queue, the cross-replica lock where there is one, and the wait budget.
import { KeyedMutex } from './keyed-mutex.js';

/** A payment's turn, while it is held. */
export interface PaymentTurn {
  /**
   * Throws (GatewayError `ledger_unavailable`) when the turn was lost — the lock's database connection dropped, so
   * another replica may take the payment's turn. Called right before every Stripe call that changes money.
   */
  assertHeld(): void;
}

export interface PaymentLocks {
  /**
   * Runs `fn` holding `paymentKey`'s turn: no other request for the same payment, in this process or another replica
   * sharing the ledger, runs its own `fn` meanwhile. Waits at most `waitMs` in all, then throws `payment_busy`;
   * `overloaded` when this process has no room to hold another turn; `ledger_unavailable` when the database is gone.
   */
  withTurn<T>(paymentKey: string, waitMs: number, fn: (turn: PaymentTurn) => Promise<T>): Promise<T>;
  /** Resolves once every turn's release has reached the database (for a clean close). */
  drain(): Promise<void>;
}

const ALWAYS_HELD: PaymentTurn = { assertHeld: () => undefined };

/**
 * Turns for a ledger only one process can open (the embedded SQLite file, or memory): the in-process FIFO queue is the
 * whole lock, and a turn cannot be lost.
 */
export class InProcessPaymentLocks implements PaymentLocks {
  readonly #mutex = new KeyedMutex();

  withTurn<T>(paymentKey: string, waitMs: number, fn: (turn: PaymentTurn) => Promise<T>): Promise<T> {
    return this.#mutex.run(paymentKey, waitMs, () => fn(ALWAYS_HELD));
  }

  async drain(): Promise<void> {}
}
