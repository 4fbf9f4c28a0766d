// An in-process lock per key with a bounded wait: serialises the refunds of one payment inside one gateway process.
import { GatewayError } from './gateway-error.js';

interface Waiter {
  resolve: (release: () => void) => void;
  timer: NodeJS.Timeout;
}

/**
 * A FIFO queue per key. Keys with no holder and no waiter are deleted, so memory follows the number of payments
 * being refunded right now, not the number ever seen.
 */
export class KeyedMutex {
  readonly #queues = new Map<string, Waiter[]>();

  /** Resolves with a release function once `key` is ours; throws `payment_busy` after `waitMs`. */
  acquire(key: string, waitMs: number): Promise<() => void> {
    const queue = this.#queues.get(key);
    if (!queue) {
      this.#queues.set(key, []);
      return Promise.resolve(this.#releaser(key));
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        timer: setTimeout(() => {
          const at = queue.indexOf(waiter);
          if (at >= 0) queue.splice(at, 1);
          reject(
            new GatewayError('payment_busy', `Other refunds of ${key} kept it busy for more than ${waitMs} ms; retry shortly.`, {
              retryAfterSeconds: 1,
            }),
          );
        }, waitMs),
      };
      queue.push(waiter);
    });
  }

  async run<T>(key: string, waitMs: number, fn: () => Promise<T>): Promise<T> {
    const release = await this.acquire(key, waitMs);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /** How many keys are held right now (for metrics and tests). */
  get size(): number {
    return this.#queues.size;
  }

  #releaser(key: string): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const queue = this.#queues.get(key);
      const next = queue?.shift();
      if (!next) {
        this.#queues.delete(key);
        return;
      }
      clearTimeout(next.timer);
      next.resolve(this.#releaser(key));
    };
  }
}
